"""The bare Flask baseline every page is measured against (served the same way, same run)."""
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"

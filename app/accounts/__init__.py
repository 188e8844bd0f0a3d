"""Accounts: registration, sign-in, e-mail confirmation, password reset and profiles."""
from flask import Blueprint

bp = Blueprint("accounts", __name__)

from app.accounts import routes  # noqa: E402,F401  (routes attach to bp)
from app.accounts.sessions import load_user  # noqa: E402,F401

"""Clinical trials from ClinicalTrials.gov: import, browse, one page per trial, JSON."""
from flask import Blueprint

bp = Blueprint("trials", __name__)

from app.trials import routes  # noqa: E402,F401

"""Clinical trials from ClinicalTrials.gov: import, browse, one page per trial, JSON."""
from flask import Blueprint, Flask

bp = Blueprint("trials", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.trials.models`` (as the policy does) never loads its routes."""
    from app.trials import routes  # noqa: F401  (routes attach to bp)
    app.register_blueprint(bp)

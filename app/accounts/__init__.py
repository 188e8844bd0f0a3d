"""Accounts: registration, sign-in, e-mail confirmation, password reset and profiles."""
from flask import Blueprint, Flask

bp = Blueprint("accounts", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.accounts.models`` (as the policy does) never loads its routes."""
    # Routes attach to bp; sessions registers the user loader.
    from app.accounts import profile_routes, routes, sessions, settings_routes  # noqa: F401
    app.register_blueprint(bp)

"""Events and the conference calendar: congresses, webinars, courses, meetings, patient support
meetings; RSVPs; iCalendar files and a calendar feed. Access follows the one rule in app/policy/agenda.py."""
from flask import Blueprint, Flask

bp = Blueprint("agenda", __name__)


def init_app(app: Flask) -> None:
    """Register the feature. Its own modules are imported here, not at the top, so importing
    ``app.agenda.models`` (as the policy does) never loads its routes."""
    from app.agenda import ics, routes  # noqa: F401  (routes attach to bp)
    app.register_blueprint(bp)

"""Events and the conference calendar: congresses, webinars, courses, meetings, patient support
meetings; RSVPs; iCalendar files and a calendar feed. Access follows the one rule in app/policy.py."""
from flask import Blueprint
from flask_login import current_user

bp = Blueprint("agenda", __name__)

from app.agenda import routes  # noqa: E402,F401


@bp.app_template_global()
def group_upcoming_events(group, limit: int = 3):
    """The next few events inside a group, as the viewer may see them (the group landing page)."""
    from app.agenda.queries import upcoming_in_group
    return upcoming_in_group(group, current_user, limit=limit)

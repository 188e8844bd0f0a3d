"""Groups: open, closed and secret communities with a membership workflow."""
from flask import Blueprint, current_app
from flask_login import current_user

bp = Blueprint("groups", __name__)

from app.groups import routes  # noqa: E402,F401


@bp.app_template_global()
def profile_groups(person):
    """A person's groups as the viewer may see them, for the profile page (closed and secret
    memberships only for people inside those groups)."""
    from app.groups.services import visible_memberships
    return visible_memberships(current_user, person)


@bp.app_template_global()
def has_endpoint(name: str) -> bool:
    """Links to features built in parallel (chat, forum) appear once their routes exist; a
    global (not a context variable) so imported macros see it too."""
    return name in current_app.view_functions

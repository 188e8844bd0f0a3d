"""Helpers shared by the group tests (no tests here): one signed-in client per person, POSTs
with the real CSRF token taken from a page, and short ways to read the database back."""
import re

from sqlalchemy import func, select

from app.extensions import db
from tests.conftest import csrf_from, login_as
from tests.factories import add_member, make_group, make_user


def _loaded(obj):
    """Load the columns before the app context ends, so ids and names stay readable detached."""
    db.session.refresh(obj)
    return obj


def person(app, **kwargs):
    with app.app_context():
        return _loaded(make_user(**kwargs))


def staff(app, site_role="moderator", **kwargs):
    return person(app, site_role=site_role, **kwargs)


def a_group(app, owner=None, **kwargs):
    with app.app_context():
        return _loaded(make_group(owner or make_user(), **kwargs))


def member(app, group, user, **kwargs):
    with app.app_context():
        return add_member(group, user, **kwargs)


def browser(app, user=None):
    """A test client signed in as ``user`` (anonymous when None)."""
    client = app.test_client()
    if user is not None:
        login_as(client, user)
    return client


def token(client, page="/"):
    """The CSRF token a browser would find in a page (signed-in pages carry the logout form)."""
    if getattr(client, "_csrf", None) is None:
        client._csrf = csrf_from(client.get(page).get_data(as_text=True))
    return client._csrf


def post(client, url, data=None, page="/", **kwargs):
    return client.post(url, data={**(data or {}), "csrf_token": token(client, page)}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def without_tokens(page: str) -> str:
    """A page minus its CSRF tokens, which carry a timestamp: for "these two pages are the same"."""
    # WTForms writes id/name/type/value, the templates name/value: strip both shapes.
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page)


def state_of(app, group_id, user_id):
    """(state, role) of a membership, or None."""
    from app.groups.models import Membership
    with app.app_context():
        row = db.session.scalar(select(Membership).where(Membership.group_id == group_id,
                                                         Membership.user_id == user_id))
        return None if row is None else (row.state, row.role)


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def group_form(**overrides):
    data = {"name": "Living with lung cancer", "description": "For **patients** and carers.",
            "tags": "Lung cancer, support", "country": "", "network": "", "kind": "open"}
    data.update(overrides)
    return data

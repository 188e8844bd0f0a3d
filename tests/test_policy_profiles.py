"""The three forms of the access rule agree for profiles, for every viewer x field combination.

Shape for later features: build fixture viewers and objects, then for each pair assert
can_view == (obj in visible(...)) == (staff or scope_of(obj) in scopes_for(viewer)) == expected.
"""
import itertools

import pytest
from flask_login import AnonymousUserMixin
from markupsafe import escape
from sqlalchemy import select

from app import policy
from app.accounts.models import ProfileField, User, VISIBILITY
from app.extensions import db
from tests.factories import login_as, make_user

VIEWERS = ("anonymous", "member", "owner", "moderator", "admin")


@pytest.fixture
def world(app):
    """Two owners (active, suspended), each with one field per audience, and every kind of viewer."""
    with app.app_context():
        owners = {"active": make_user(display_name="Active Owner"),
                  "suspended": make_user(display_name="Suspended Owner", active=False)}
        for state, owner in owners.items():
            for audience in VISIBILITY:
                key = {"everyone": "interests", "members": "centre", "me": "home_centre"}[audience]
                db.session.add(ProfileField(user=owner, key=key, value=marker(state, audience),
                                            visibility=audience))
        viewers = {"member": make_user(), "moderator": make_user(site_role="moderator"),
                   "admin": make_user(site_role="admin")}
        db.session.commit()
        ids = {"owners": {state: u.id for state, u in owners.items()},
               "viewers": {name: u.id for name, u in viewers.items()}}
    return ids


def marker(state: str, audience: str) -> str:
    return f"<{state}:{audience}>"  # delimited: "me" must not match inside "members"


def expected_visible(viewer: str, owner_state: str, audience: str, viewer_is_owner: bool) -> bool:
    """The product rule, written out independently of app/policy.py. A suspended account is not
    authenticated (Flask-Login: is_authenticated follows is_active), so its owner sees what
    anonymous visitors see, which for a suspended account is nothing."""
    if viewer in ("moderator", "admin"):
        return True
    if owner_state != "active":
        return False
    if viewer_is_owner:
        return True
    return audience == "everyone" or (audience == "members" and viewer != "anonymous")


def _viewer(name, owner_id, ids):
    if name == "anonymous":
        return AnonymousUserMixin()
    if name == "owner":
        return db.session.get(User, owner_id)
    return db.session.get(User, ids["viewers"][name])


def test_profile_field_rule_agrees_in_all_three_forms(app, world):
    combos = 0
    with app.app_context():
        for viewer_name, owner_state in itertools.product(VIEWERS, world["owners"]):
            owner_id = world["owners"][owner_state]
            viewer = _viewer(viewer_name, owner_id, world)
            query = select(ProfileField).where(ProfileField.user_id == owner_id)
            listed = {f.id for f in db.session.scalars(policy.visible(query, viewer, ProfileField))}
            for field in db.session.scalars(query):
                by_one = policy.can_view(viewer, field)
                by_list = field.id in listed
                by_scope = policy.is_staff(viewer) or policy.scope_of(field) in policy.scopes_for(viewer)
                expected = expected_visible(viewer_name, owner_state, field.visibility, viewer_name == "owner")
                assert by_one == by_list == by_scope == expected, (viewer_name, owner_state, field.visibility)
                combos += 1
    assert combos == len(VIEWERS) * 2 * len(VISIBILITY)


def test_user_rule_agrees_in_all_three_forms(app, world):
    with app.app_context():
        for viewer_name, owner_state in itertools.product(VIEWERS, world["owners"]):
            owner_id = world["owners"][owner_state]
            viewer = _viewer(viewer_name, owner_id, world)
            owner = db.session.get(User, owner_id)
            listed = set(db.session.scalars(policy.visible(select(User.id).select_from(User), viewer, User)))
            expected = owner_state == "active" or viewer_name in ("moderator", "admin")
            by_scope = policy.is_staff(viewer) or policy.scope_of(owner) in policy.scopes_for(viewer)
            assert policy.can_view(viewer, owner) == (owner_id in listed) == by_scope == expected, \
                (viewer_name, owner_state)


def test_profile_page_shows_exactly_what_the_rule_allows(app, world):
    for viewer_name, owner_state in itertools.product(VIEWERS, world["owners"]):
        owner_id = world["owners"][owner_state]
        client = app.test_client()
        if viewer_name != "anonymous":
            viewer_id = owner_id if viewer_name == "owner" else world["viewers"][viewer_name]
            with app.app_context():
                login_as(client, db.session.get(User, viewer_id))
        response = client.get(f"/people/{owner_id}")
        if owner_state == "suspended" and viewer_name in ("anonymous", "member"):
            assert response.status_code == 404, viewer_name
            continue
        if owner_state == "suspended" and viewer_name == "owner":
            # A suspended owner cannot be signed in, so they are anonymous here.
            assert response.status_code == 404
            continue
        assert response.status_code == 200, (viewer_name, owner_state)
        page = response.get_data(as_text=True)
        for audience in VISIBILITY:
            shown = str(escape(marker(owner_state, audience))) in page
            assert shown == expected_visible(viewer_name, owner_state, audience, viewer_name == "owner"), \
                (viewer_name, owner_state, audience)

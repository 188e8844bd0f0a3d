"""The three forms of the group rule agree for every kind of viewer and every kind of group:
can_view == row in visible() == scope in scopes_for (staff aside), and the same for the inside
(can_view_inside == content_scope in scopes_for == row in visible_inside())."""
import pytest
from sqlalchemy import select

from app import policy
from app.extensions import db
from app.groups.models import Group
from tests.factories import MEMBERSHIP_VIEWERS, make_group, make_user, make_viewers

VIEWERS = ("anon", "outsider", "unconfirmed", "pending", "member", "group_moderator", "banned", "denied",
           "site_moderator", "admin")


@pytest.fixture
def world(ctx):
    owner = make_user()
    groups = {kind: make_group(owner, kind=kind, name=f"{kind} group") for kind in ("open", "closed", "secret")}
    viewers = make_viewers(groups.values(), states={**MEMBERSHIP_VIEWERS, "denied": ("denied", "member")})
    return viewers, groups


def test_the_three_forms_of_the_group_rule_agree(world):
    viewers, groups = world
    for name in VIEWERS:
        user = viewers[name]
        policy.forget()
        listed = set(db.session.scalars(policy.visible(select(Group), user, Group)))
        inside_listed = set(db.session.scalars(policy.visible_inside(policy.visible(select(Group), user, Group), user)))
        for kind, group in groups.items():
            by_scope = policy.is_staff(user) or policy.scope_of(group) in policy.scopes_for(user)
            assert policy.can_view(user, group) == (group in listed) == by_scope, (name, kind)
            inside_by_scope = policy.is_staff(user) or policy.content_scope(group) in policy.scopes_for(user)
            assert policy.can_view_inside(user, group) == inside_by_scope == (group in inside_listed), (name, kind)


def test_the_rule_itself(world):
    viewers, groups = world
    sees = {name: {k for k, g in groups.items() if policy.can_view(viewers[name], g)} for name in VIEWERS}
    inside = {name: {k for k, g in groups.items() if policy.can_view_inside(viewers[name], g)} for name in VIEWERS}
    everyone, insiders = {"open", "closed", "secret"}, ("member", "group_moderator", "site_moderator", "admin")
    for name in VIEWERS:
        assert sees[name] == (everyone if name in insiders else {"open", "closed"}), name
        assert inside[name] == (everyone if name in insiders else {"open"}), name


def test_kind_change_is_seen_at_once_by_every_form(world):
    viewers, groups = world
    outsider, group = viewers["outsider"], groups["open"]
    assert policy.can_view_inside(outsider, group)
    group.kind = "secret"
    db.session.commit()
    assert not policy.can_view(outsider, group)
    assert group not in set(db.session.scalars(policy.visible(select(Group), outsider, Group)))
    assert not policy.can_view_inside(outsider, group)
    assert policy.can_view_inside(viewers["member"], group)


def test_moderation_rules(world):
    viewers, groups = world
    group = groups["closed"]
    owner = db.session.get(type(viewers["outsider"]), group.owner_id)
    member_row = policy.membership_of(viewers["member"], group)
    moderator_row = policy.membership_of(viewers["group_moderator"], group)
    owner_row = policy.membership_of(owner, group)
    assert policy.can_moderate_member(viewers["group_moderator"], group, member_row)
    assert not policy.can_moderate_member(viewers["group_moderator"], group, moderator_row)  # itself
    assert not policy.can_moderate_member(viewers["group_moderator"], group, owner_row)
    assert policy.can_moderate_member(owner, group, moderator_row)
    assert not policy.can_moderate_member(viewers["member"], group, member_row)
    assert policy.can_moderate_member(viewers["site_moderator"], group, moderator_row)
    assert not policy.can_manage_group(viewers["group_moderator"], group)
    assert policy.can_manage_group(owner, group) and policy.can_manage_group(viewers["admin"], group)
    assert policy.can_create_group(viewers["outsider"], "closed")
    assert not policy.can_create_group(viewers["outsider"], "secret")
    assert policy.can_create_group(viewers["site_moderator"], "secret")
    assert not policy.can_create_group(viewers["anon"], "open")

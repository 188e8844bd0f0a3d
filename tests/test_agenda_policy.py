"""The three forms of the event rule agree for every viewer and every kind of event:
can_view == row in visible() == scope in scopes_for (staff aside), and the rule itself is the one
the design states (public, members, and group events exactly like the group's forum)."""
import pytest
from sqlalchemy import select

from app import policy
from app.agenda.models import Event
from app.extensions import db
from tests.factories import make_event, make_group, make_user, make_viewers

VIEWERS = ("anon", "outsider", "unconfirmed", "pending", "member", "group_moderator", "banned",
           "site_moderator", "admin")


@pytest.fixture
def world(ctx):
    owner = make_user()
    groups = {kind: make_group(owner, kind=kind, name=f"{kind} group") for kind in ("open", "closed", "secret")}
    viewers = make_viewers(groups.values())
    events = {"public": make_event(owner, visibility="public"), "members": make_event(owner, visibility="members")}
    for kind, group in groups.items():
        events[kind] = make_event(owner, group=group)
    events["cancelled"] = make_event(owner, visibility="public")
    events["cancelled"].cancelled_at = events["cancelled"].starts_at
    db.session.commit()
    return viewers, events, owner


def test_the_three_forms_of_the_event_rule_agree(world):
    viewers, events, _owner = world
    for name in VIEWERS:
        user = viewers[name]
        policy.forget()
        listed = set(db.session.scalars(policy.visible(select(Event), user, Event)))
        for case, event in events.items():
            by_scope = policy.is_staff(user) or policy.scope_of(event) in policy.scopes_for(user)
            assert policy.can_view(user, event) == (event in listed) == by_scope, (name, case)


def test_the_rule_itself(world):
    viewers, events, _owner = world
    sees = {name: {case for case, e in events.items() if policy.can_view(viewers[name], e)} for name in VIEWERS}
    everyone = {"public", "open", "cancelled"}
    signed_in = everyone | {"members"}
    insiders = signed_in | {"closed", "secret"}
    assert sees["anon"] == everyone
    for name in ("outsider", "unconfirmed", "pending", "banned"):
        assert sees[name] == signed_in, name
    for name in ("member", "group_moderator", "site_moderator", "admin"):
        assert sees[name] == insiders, name
    assert policy.scope_of(events["closed"]) == policy.group_scope(events["closed"].group_id)
    assert policy.scope_of(events["open"]) == policy.PUBLIC


def test_who_may_create_edit_and_delete(world):
    viewers, events, owner = world
    closed = events["closed"]
    assert policy.can_create_event(viewers["outsider"]) and not policy.can_create_event(viewers["unconfirmed"])
    assert not policy.can_create_event(viewers["anon"])
    assert policy.can_create_event(viewers["member"], closed.group)
    assert not policy.can_create_event(viewers["pending"], closed.group)
    assert not policy.can_create_event(viewers["site_moderator"], closed.group)  # staff are not members
    assert policy.can_edit_event(owner, closed) and policy.can_delete_event(owner, closed)
    assert policy.can_edit_event(viewers["group_moderator"], closed)
    assert policy.can_edit_event(viewers["site_moderator"], events["members"])
    assert not policy.can_edit_event(viewers["member"], closed)
    assert not policy.can_delete_event(viewers["member"], closed)
    assert not policy.can_edit_event(viewers["outsider"], events["public"])
    assert not policy.can_edit_event(viewers["group_moderator"], events["public"])  # not their group's
    assert not policy.can_rsvp(viewers["member"], events["cancelled"])
    assert policy.can_rsvp(viewers["member"], closed) and not policy.can_rsvp(viewers["outsider"], closed)


def test_kind_change_is_seen_at_once(world):
    viewers, events, _owner = world
    outsider, event = viewers["outsider"], events["open"]
    assert policy.can_view(outsider, event)
    event.group.kind = "closed"
    db.session.commit()
    assert not policy.can_view(outsider, event)
    assert event not in set(db.session.scalars(policy.visible(select(Event), outsider, Event)))
    assert policy.can_view(viewers["member"], event)


def test_an_unknown_visibility_raises(world):
    _viewers, events, _owner = world
    event = events["public"]
    event.visibility = "friends"
    with pytest.raises(LookupError):
        policy.scope_of(event)
    db.session.rollback()

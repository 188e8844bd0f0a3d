"""Access changes reach open sockets at once: after leaving, removal, a ban, logout, a password
change or the group turning closed, a marker posted afterwards never arrives (security items
9 and 15). Each case also checks that someone still allowed does receive the marker, so the
test cannot pass merely because nothing was broadcast."""
import pytest
import requests
from sqlalchemy import select

from app.extensions import db
from tests.factories import add_member, csrf_from, make_group, make_topic, make_user
from tests.test_realtime_support import Client, never, session_cookie


def user(user_id):
    from app.accounts.models import User
    return db.session.get(User, user_id)


def group(group_id):
    from app.groups.models import Group
    return db.session.get(Group, group_id)


@pytest.fixture
def room(app):
    with app.app_context():
        owner, member, moderator = make_user(display_name="Owner"), make_user(display_name="Member"), make_user()
        closed = make_group(owner, kind="closed")
        add_member(closed, member)
        add_member(closed, moderator, role="moderator")
        topic = make_topic(owner, group=closed)
        return dict(owner=owner.id, member=member.id, moderator=moderator.id, group=closed.id, topic=topic.id)


def _joined(live, app, user_id, room, cookie=None):
    client = Client(live.url, cookie or session_cookie(app, user_id))
    assert client.call("join_topic", {"topic": room["topic"]})["ok"]
    assert client.call("join_chat", {"group": room["group"]})["ok"]
    return client


def _markers(app, room, tag):
    """A chat message and a reply, written by the owner after the change."""
    from app.chat.services import post_message
    from app.forum.models import Topic
    from app.forum.services import create_reply
    with app.test_request_context():
        post_message(group(room["group"]), user(room["owner"]), body=f"MARKER-chat-{tag}")
        create_reply(db.session.get(Topic, room["topic"]), user(room["owner"]), body=f"MARKER-reply-{tag}")


def _assert_cut_off(affected, witness, tag):
    witness.wait_for("chat_message", lambda m: f"MARKER-chat-{tag}" in m["body_html"])
    witness.wait_for("post", lambda p: f"MARKER-reply-{tag}" in p["body_html"])
    never(affected, "chat_message", lambda m: "MARKER" in (m["body_html"] or ""), wait=0.3)
    assert not [p for p in affected.events("post") if "MARKER" in (p["body_html"] or "")]


def _membership_change(app, room, verb):
    from app.groups import membership
    with app.test_request_context():
        g, member, owner = group(room["group"]), user(room["member"]), user(room["owner"])
        if verb == "leave":
            membership.leave(g, member)
        elif verb == "remove":
            membership.remove(g, member, owner, reason="test")
        else:
            membership.ban(g, member, owner, reason="test")


@pytest.mark.parametrize("verb", ["leave", "remove", "ban"])
def test_membership_end_cuts_the_live_feed_at_once(app, live, room, verb):
    affected = _joined(live, app, room["member"], room)
    witness = _joined(live, app, room["moderator"], room)
    _membership_change(app, room, verb)
    _markers(app, room, verb)
    _assert_cut_off(affected, witness, verb)
    assert affected.wait_for("access_changed")["reason"] == "You no longer have access to this discussion."
    # Asking to join again is refused too.
    assert affected.call("join_chat", {"group": room["group"]})["code"] == "not_found"
    assert affected.call("chat", {"group": room["group"], "body": "still here?"})["code"] == "not_found"
    for client in (affected, witness):
        client.close()


def test_logout_disconnects_that_browser_only(app, live, room):
    cookie = session_cookie(app, room["member"])
    affected = _joined(live, app, room["member"], room, cookie)
    other_tab = _joined(live, app, room["member"], room)  # another browser of the same person
    browser = requests.Session()
    name, value = cookie.split("=", 1)
    browser.cookies.set(name, value, domain="127.0.0.1", path="/")
    page = browser.get(f"{live.url}/groups")
    assert browser.post(f"{live.url}/logout", data={"csrf_token": csrf_from(page.text)}).status_code in (200, 302)
    _markers(app, room, "logout")
    _assert_cut_off(affected, other_tab, "logout")
    assert not affected.sio.connected
    for client in (affected, other_tab):
        client.close()


def test_a_password_change_disconnects_every_other_session(app, live, room):
    from app.accounts.models import UserSession
    from app.accounts.services import change_password
    kept, cut = session_cookie(app, room["member"]), session_cookie(app, room["member"])
    keeper, affected = _joined(live, app, room["member"], room, kept), _joined(live, app, room["member"], room, cut)
    witness = _joined(live, app, room["moderator"], room)
    with app.test_request_context():
        member = user(room["member"])
        member._session_token = db.session.scalars(select(UserSession.token).where(
            UserSession.user_id == member.id).order_by(UserSession.id)).first()
        change_password(member, "a brand new passphrase", keep_current_session=True)
    _markers(app, room, "password")
    _assert_cut_off(affected, witness, "password")
    keeper.wait_for("post", lambda p: "MARKER-reply-password" in p["body_html"])
    for client in (keeper, affected, witness):
        client.close()


def test_a_group_turning_closed_evicts_non_members_but_not_members(app, live):
    from app.groups.services import update_group
    with app.app_context():
        owner, member, passer_by = make_user(), make_user(), make_user()
        g = make_group(owner, kind="open")
        add_member(g, member)
        topic = make_topic(owner, group=g)
        room = dict(owner=owner.id, group=g.id, topic=topic.id)
        member_id, passer_by_id = member.id, passer_by.id
    insider = _joined(live, app, member_id, room)
    outsider = Client(live.url, session_cookie(app, passer_by_id))
    visitor = Client(live.url)
    assert outsider.call("join_topic", {"topic": room["topic"]})["ok"]
    assert outsider.call("join_chat", {"group": room["group"]})["ok"]
    assert visitor.call("join_topic", {"topic": room["topic"]})["ok"]
    with app.test_request_context():
        g = group(room["group"])
        update_group(g, user(room["owner"]), name=g.name, description=g.description, tags=[], country=None,
                     network="", kind="closed")
    _markers(app, room, "closed")
    _assert_cut_off(outsider, insider, "closed")
    never(visitor, "post", lambda p: "MARKER" in (p["body_html"] or ""), wait=0.1)
    assert visitor.wait_for("access_changed")
    for client in (insider, outsider, visitor):
        client.close()


def test_a_deleted_topic_empties_its_room(app, live, room):
    from app.forum.models import Topic
    from app.forum.services import delete_topic
    reader = _joined(live, app, room["member"], room)
    with app.test_request_context():
        delete_topic(db.session.get(Topic, room["topic"]), user(room["owner"]))
    assert reader.wait_for("topic_removed") == {"topic": room["topic"]}
    assert reader.call("join_topic", {"topic": room["topic"]})["code"] == "not_found"
    reader.close()


def test_a_topic_moved_to_another_group_leaves_its_old_readers_behind(app, live, room):
    from app.forum.models import Topic
    from app.forum.services import create_reply, move_topic
    with app.app_context():
        other = make_group(user(room["owner"]), kind="closed")
        other_id = other.id
    reader = _joined(live, app, room["member"], room)
    with app.test_request_context():
        move_topic(db.session.get(Topic, room["topic"]), user(room["owner"]), group=group(other_id), confirm_wider=True)
        create_reply(db.session.get(Topic, room["topic"]), user(room["owner"]), body="MARKER-moved")
    assert reader.wait_for("topic_moved")["url"].startswith(f"/t/{room['topic']}")
    never(reader, "post", lambda p: "MARKER" in (p["body_html"] or ""), wait=0.3)
    reader.close()

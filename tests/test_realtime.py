"""Live discussion over Socket.IO, with real python-socketio clients against a live server:
handshake and authentication, joins decided by the policy, broadcasts of saved data only,
catch-up after a reconnect, typing and presence."""
import pytest
import socketio
from sqlalchemy import func, select

from app.extensions import db
from tests.factories import add_member, csrf_from, make_category, make_group, make_topic, make_user
from tests.test_realtime_support import Client, never, session_cookie, settle


@pytest.fixture
def world(app):
    """Ids only: each request loads its own rows, as in production."""
    with app.app_context():
        owner, member, outsider = make_user(display_name="Olga Owner"), make_user(display_name="Mia Member"), make_user()
        closed = make_group(owner, kind="closed")
        add_member(closed, member)
        opened = make_group(owner, kind="open")
        closed_topic = make_topic(owner, group=closed, title="Closed talk")
        open_topic = make_topic(owner, group=opened)
        public_topic = make_topic(owner, category=make_category())
        return dict(owner=owner.id, member=member.id, outsider=outsider.id, closed=closed.id, opened=opened.id,
                    closed_topic=closed_topic.id, open_topic=open_topic.id, public_topic=public_topic.id)


def user(user_id):
    from app.accounts.models import User
    return db.session.get(User, user_id)


def _reply(app, topic_id, user_id, body):
    from app.forum.models import Topic
    from app.forum.services import create_reply
    with app.test_request_context():
        return create_reply(db.session.get(Topic, topic_id), user(user_id), body=body).number


# --- handshake -------------------------------------------------------------------------------------

def test_cross_site_origin_is_refused_and_same_origin_accepted(live, world):
    with pytest.raises(socketio.exceptions.ConnectionError):
        live.connect(world["member"], origin="https://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        live.connect(None, origin="http://127.0.0.1.evil.example")
    assert live.connect(world["member"]).sio.connected


def test_a_logged_out_cookie_is_refused(app, live, world):
    from app.accounts.models import UserSession
    cookie = session_cookie(app, world["member"])
    with app.app_context():
        db.session.execute(db.delete(UserSession))
        db.session.commit()
    with pytest.raises(socketio.exceptions.ConnectionError):
        Client(live.url, cookie)


def test_without_a_cookie_only_public_topics_can_be_joined(live, world):
    visitor = live.connect(None)
    assert visitor.call("join_topic", {"topic": world["public_topic"]})["ok"]
    assert visitor.call("join_topic", {"topic": world["open_topic"]})["ok"]
    assert visitor.call("join_topic", {"topic": world["closed_topic"]}) == {
        "ok": False, "code": "not_found", "reason": "This topic is not available."}
    assert visitor.call("join_chat", {"group": world["opened"]})["code"] == "login"
    assert visitor.call("reply", {"topic": world["public_topic"], "body": "hi"})["code"] == "login"
    assert visitor.call("chat", {"group": world["opened"], "body": "hi"})["code"] == "login"


def test_a_non_member_cannot_join_a_closed_group_and_receives_nothing(app, live, world):
    outsider, member = live.connect(world["outsider"]), live.connect(world["member"])
    assert member.call("join_topic", {"topic": world["closed_topic"]})["ok"]
    assert member.call("join_chat", {"group": world["closed"]})["ok"]
    assert outsider.call("join_topic", {"topic": world["closed_topic"]})["code"] == "not_found"
    assert outsider.call("join_chat", {"group": world["closed"]})["code"] == "not_found"
    # Client strings are never room names: these name rooms that exist, and do nothing.
    for payload in ({"topic": f"group:{world['closed']}:topic:{world['closed_topic']}"}, {"group": "group:1:chat"},
                    {"topic": [world["closed_topic"]]}, {"room": f"group:{world['closed']}:chat"}, None, "x"):
        assert outsider.call("join_topic", payload)["ok"] is False
        assert outsider.call("join_chat", payload)["ok"] is False
    outsider.sio.emit("join_room", {"room": f"group:{world['closed']}:chat"})
    _reply(app, world["closed_topic"], world["member"], "MARKER-closed-reply")
    assert member.call("chat", {"group": world["closed"], "body": "MARKER-closed-chat"})["ok"]
    member.wait_for("chat_message", lambda m: "MARKER-closed-chat" in m["body_html"])
    member.wait_for("post", lambda p: "MARKER-closed-reply" in p["body_html"])
    never(outsider, "post", lambda p: True, wait=0.3)
    assert not outsider.events("chat_message") and not outsider.events("presence")


# --- broadcasts: saved data only, from every channel ----------------------------------------------

def test_an_http_reply_reaches_readers_with_sanitised_html(app, live, world):
    reader = live.connect(world["member"])
    visitor = live.connect(None)
    assert reader.call("join_topic", {"topic": world["closed_topic"]})["ok"]
    assert visitor.call("join_topic", {"topic": world["public_topic"]})["ok"]
    http = app.test_client()
    http.set_cookie("session", session_cookie(app, world["owner"]).split("=", 1)[1], domain="localhost")
    token = csrf_from(http.get(f"/t/{world['closed_topic']}").get_data(as_text=True))
    response = http.post(f"/t/{world['closed_topic']}/reply",
                         data={"body": "Hello <script>alert(1)</script> **there**", "csrf_token": token})
    assert response.status_code == 302
    post = reader.wait_for("post", lambda p: p["number"] == 2)
    assert post["body_html"] == "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt; <strong>there</strong></p>"
    assert post["author"]["name"] == "Olga Owner" and post["topic"] == world["closed_topic"]
    never(visitor, "post", lambda p: True, wait=0.3)


def test_edits_and_removals_are_broadcast_after_saving(app, live, world):
    from app.forum.models import Post
    from app.forum.services import delete_post, edit_post
    reader = live.connect(world["member"])
    assert reader.call("join_topic", {"topic": world["closed_topic"]})["ok"]
    number = _reply(app, world["closed_topic"], world["owner"], "first words")
    with app.test_request_context():
        post = db.session.scalar(select(Post).where(Post.topic_id == world["closed_topic"], Post.number == number))
        edit_post(post, user(world["owner"]), body="better words")
        delete_post(post, user(world["owner"]))
    assert reader.wait_for("post_edited")["body_html"] == "<p>better words</p>"
    removed = reader.wait_for("post_removed")
    assert removed["removed"] and removed["body_html"] is None and removed["removed_by_author"]


def test_a_refused_reply_is_not_stored_and_not_broadcast(app, live, world):
    from app.forum.models import Post, Topic
    member, outsider = live.connect(world["member"]), live.connect(world["outsider"])
    assert member.call("join_topic", {"topic": world["open_topic"]})["ok"]
    assert member.call("reply", {"topic": world["closed_topic"], "body": "   "})["code"] == "invalid"
    # Open group: the outsider may read, not write.
    assert outsider.call("join_topic", {"topic": world["open_topic"]})["ok"]
    answer = outsider.call("reply", {"topic": world["open_topic"], "body": "not a member"})
    assert answer["code"] == "denied" and "Join the group" in answer["reason"]
    assert outsider.wait_for("error")["code"] == "denied"
    with app.app_context():
        db.session.get(Topic, world["open_topic"]).locked = True
        db.session.commit()
    assert member.call("reply", {"topic": world["open_topic"], "body": "locked"})["code"] == "denied"
    never(member, "post", lambda p: True, wait=0.3)
    with app.app_context():
        assert db.session.scalar(select(func.count(Post.id)).where(Post.topic_id == world["open_topic"])) == 1


def test_a_socket_reply_uses_the_service_and_reaches_everyone_in_the_room(app, live, world):
    writer, reader = live.connect(world["member"]), live.connect(world["owner"])
    for client in (writer, reader):
        assert client.call("join_topic", {"topic": world["closed_topic"]})["ok"]
    answer = writer.call("reply", {"topic": world["closed_topic"], "body": "via the socket"})
    assert answer["ok"] and answer["number"] == 2 and answer["url"].startswith("/p/")
    for client in (writer, reader):
        assert client.wait_for("post")["body_html"] == "<p>via the socket</p>"
    with app.app_context():
        from app.notifications.models import Notification
        assert db.session.scalar(select(func.count(Notification.id))) == 1  # the watching owner


# --- catch-up ----------------------------------------------------------------------------------------

def test_a_reconnecting_client_gets_what_it_missed_in_order(app, live, world):
    for n in range(2, 6):
        _reply(app, world["closed_topic"], world["owner"], f"reply {n}")
    client = live.connect(world["member"])
    answer = client.call("join_topic", {"topic": world["closed_topic"], "after": 3})
    assert [p["number"] for p in answer["posts"]] == [4, 5]
    assert answer["now"].endswith("Z") and answer["can_reply"] is True
    chat = client.call("join_chat", {"group": world["closed"], "after": 0})
    assert chat["messages"] == []
    for n in range(3):
        assert client.call("chat", {"group": world["closed"], "body": f"m{n}"})["ok"]
    late = live.connect(world["owner"])
    again = late.call("join_chat", {"group": world["closed"], "after": 1, "since": chat["now"]})
    assert [m["seq"] for m in again["messages"]] == [2, 3]
    assert [m["body_html"] for m in again["messages"]] == ["<p>m1</p>", "<p>m2</p>"]


def test_catch_up_replays_edits_and_removals_of_older_posts(app, live, world):
    from app.forum.models import Post
    from app.forum.services import edit_post
    client = live.connect(world["member"])
    first = client.call("join_topic", {"topic": world["closed_topic"], "after": 0})
    client.close()
    with app.test_request_context():
        post = db.session.scalar(select(Post).where(Post.topic_id == world["closed_topic"], Post.number == 1))
        edit_post(post, user(world["owner"]), body="edited while away")
    again = live.connect(world["member"]).call("join_topic", {"topic": world["closed_topic"], "after": 1,
                                                              "since": first["now"]})
    assert again["posts"] == [] and again["changed"][0]["body_html"] == "<p>edited while away</p>"


# --- typing and presence -----------------------------------------------------------------------------

def test_typing_and_presence_reach_signed_in_readers_only(app, live, world):
    a, b, visitor = live.connect(world["owner"]), live.connect(world["member"]), live.connect(None)
    for client in (a, b, visitor):
        assert client.call("join_topic", {"topic": world["open_topic"]})["ok"]
    a.sio.emit("topic_typing", {"topic": world["open_topic"]})
    assert b.wait_for("typing") == {"topic": world["open_topic"], "name": "Olga Owner", "user": world["owner"]}
    presence = b.wait_for("presence", lambda p: len(p["names"]) == 2, timeout=4)
    assert presence["names"] == ["Olga Owner", "Mia Member"] and presence["visitors"] == 1
    settle(0.3)
    assert not a.events("typing") and not visitor.events("typing") and not visitor.events("presence")


def test_the_socket_client_library_is_served_by_the_app(client):
    response = client.get("/vendor/socket.io.min.js")
    assert response.status_code == 200 and b"io" in response.data
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert client.get("/vendor/../package.json").status_code == 404
    assert client.get("/vendor/socket.io.js").status_code == 404


def test_mentions_and_chat_updates_reach_the_right_sockets(app, live, world):
    from app.chat.models import ChatMessage
    from app.chat.services import message_to_topic, remove_message
    mentioned, outsider, reader = live.connect(world["member"]), live.connect(world["outsider"]), live.connect(world["member"])
    assert reader.call("join_chat", {"group": world["closed"]})["ok"]
    with app.app_context():
        outsider_name = user(world["outsider"]).display_name
    writer = live.connect(world["owner"])
    assert writer.call("chat", {"group": world["closed"], "body": f"@[Mia Member] @[{outsider_name}] look"})["ok"]
    note = mentioned.wait_for("mention")
    assert note["by"] == "Olga Owner" and note["url"].endswith("/live#m1")
    never(outsider, "mention", lambda n: True, wait=0.3)
    with app.test_request_context():
        message = db.session.scalar(select(ChatMessage))
        message_to_topic(message, user(world["owner"]), title="From the chat")
    assert reader.wait_for("chat_updated")["topic_url"].startswith("/t/")
    with app.test_request_context():
        remove_message(db.session.scalar(select(ChatMessage)), user(world["owner"]))
    removed = reader.wait_for("chat_updated", lambda m: m["removed"])
    assert removed["body_html"] is None and removed["topic_url"] is None

"""Limits on socket messages: a rate limit per account (Flask-Limiter never sees socket events),
a maximum size, and hostile text (naughty strings, XSS polyglots) arriving sanitised."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.sanitize import render_markdown
from tests.factories import BLNS, POLYGLOTS, add_member, make_group, make_topic, make_user
from tests.test_realtime_support import Client, serving, session_cookie
from tests.test_sanitize import problems


def _world(app):
    with app.app_context():
        owner, member = make_user(), make_user()
        group = make_group(owner, kind="closed")
        add_member(group, member)
        topic = make_topic(owner, group=group)
        return owner.id, member.id, group.id, topic.id


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count(model.id)))


@pytest.fixture
def limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, SOCKETIO_RATELIMIT="3 per 10 seconds")
    with serving(app) as server:
        yield app, server


def test_too_many_messages_get_an_error_event_and_nothing_is_stored(limited):
    from app.chat.models import ChatMessage
    from app.forum.models import Post
    app, server = limited
    owner, member, group, topic = _world(app)
    writer, other = Client(server.url, session_cookie(app, member)), Client(server.url, session_cookie(app, owner))
    assert writer.call("join_chat", {"group": group})["ok"]
    for n in range(3):
        assert writer.call("chat", {"group": group, "body": f"message {n}"})["ok"]
    refused = writer.call("chat", {"group": group, "body": "one too many"})
    assert refused["code"] == "rate_limited" and "too quickly" in refused["reason"]
    assert writer.wait_for("error")["code"] == "rate_limited"
    # Replies share the per-account budget; another person is unaffected.
    assert writer.call("reply", {"topic": topic, "body": "a reply"})["code"] == "rate_limited"
    assert other.call("chat", {"group": group, "body": "I can still talk"})["ok"]
    assert _count(app, ChatMessage) == 4 and _count(app, Post) == 1
    assert not [m for m in writer.events("chat_message") if "one too many" in m["body_html"]]
    writer.close()
    other.close()


def test_room_joins_are_limited_per_connection(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, SOCKETIO_JOIN_RATELIMIT="5 per 10 seconds")
    with serving(app) as server:
        _owner, member, group, _topic = _world(app)
        client = Client(server.url, session_cookie(app, member))
        answers = [client.call("join_chat", {"group": group})["ok"] for _ in range(7)]
        assert answers == [True] * 5 + [False] * 2
        assert client.events("error")[-1]["code"] == "rate_limited"
        client.close()


def test_oversize_messages_are_refused_before_anything_is_stored(app, live):
    from app.chat.models import ChatMessage
    from app.forum.models import Post
    from app.core.text import BODY_MAX
    _owner, member, group, topic = _world(app)
    client = Client(live.url, session_cookie(app, member))
    limit = app.config["CHAT_MESSAGE_MAX"]
    assert client.call("chat", {"group": group, "body": "x" * (limit + 1)})["code"] == "too_long"
    assert client.call("chat", {"group": group, "body": "x" * limit})["ok"]
    assert client.call("reply", {"topic": topic, "body": "y" * (BODY_MAX + 1)})["code"] == "too_long"
    for bad in (None, 42, ["x"], {"b": 1}):
        assert client.call("chat", {"group": group, "body": bad})["code"] == "invalid"
    assert _count(app, ChatMessage) == 1 and _count(app, Post) == 1
    client.close()


def test_a_frame_larger_than_the_buffer_closes_the_connection(app_factory):
    app = app_factory(SOCKETIO_MAX_BUFFER=2048)
    with serving(app) as server:
        _owner, member, group, _topic = _world(app)
        client = Client(server.url, session_cookie(app, member))
        client.sio.emit("chat", {"group": group, "body": "z" * 5000})
        client.sio.sleep(1)
        assert not client.sio.connected
        from app.chat.models import ChatMessage
        assert _count(app, ChatMessage) == 0
        client.close()


def test_naughty_strings_and_xss_payloads_arrive_sanitised(app, live):
    """Every polyglot and a wide sample of the naughty strings, sent over the socket: the
    broadcast carries exactly the sanitiser's rendering of what was stored, never raw markup."""
    from app.chat.models import ChatMessage
    _owner, member, group, _topic = _world(app)
    writer = Client(live.url, session_cookie(app, member))
    reader = Client(live.url, session_cookie(app, _owner))
    assert reader.call("join_chat", {"group": group})["ok"]
    corpus = [s for s in POLYGLOTS + BLNS[::3] if s.strip()]
    sent = 0
    for text in corpus:
        answer = writer.call("chat", {"group": group, "body": text})
        if answer["ok"]:
            sent += 1
        else:  # only empty-after-cleaning strings (control characters) may be refused
            assert answer["code"] in ("empty", "too_long"), (text, answer)
    assert sent > 0.9 * len(corpus)
    reader.wait_for("chat_message", lambda m: m["seq"] == sent, timeout=20)
    received = {m["seq"]: m for m in reader.events("chat_message")}
    assert len(received) == sent
    with app.app_context():
        stored = {m.seq: m.body for m in db.session.scalars(select(ChatMessage))}
    for seq, message in received.items():
        assert not problems(message["body_html"]), (stored[seq], message["body_html"])
        assert message["body_html"] == str(render_markdown(stored[seq]))
    writer.close()
    reader.close()

"""The three forms of the rule agree for forum topics, replies and live chat messages, for every
kind of viewer (visitor, outsider, unconfirmed, pending, member, group moderator, banned, site
moderator, admin) and every place (a public category, an open, a closed and a secret group):

* topics and posts: can_view == row in visible() == scope in scopes_for (staff aside) == hit in
  the search index (for what is indexed at all) == the socket joins the topic's room;
* chat messages are not indexed (app/search/documents.py has no chat builder), so there:
  can_view == row in visible() == scope in scopes_for == the socket joins the group's chat room
  (which, by design, needs a signed-in account: visitors read an open group's chat over HTTP).

The same fixture users and objects feed every form, so a rule changed in one form only fails here."""
import pytest
from sqlalchemy import select

from app import policy
from app.chat.models import ChatMessage
from app.chat.services import post_message, remove_message
from app.extensions import db
from app.forum.models import Post, Topic
from app.forum.services import delete_post, delete_topic
from app.search import documents
from app.search.query import search
from tests.factories import add_member, make_category, make_group, make_reply, make_topic, make_user, make_viewers

VIEWERS = ("anon", "outsider", "unconfirmed", "pending", "member", "group_moderator", "banned",
           "site_moderator", "admin")
KINDS = ("open", "closed", "secret")
WORD = "quokkaforum"


@pytest.fixture
def world(app):
    """Built and read in one request context (removals announce themselves in the reader's language)."""
    with app.test_request_context():
        yield _build()


def _build():
    owner = make_user()
    groups = {kind: make_group(owner, kind=kind, name=f"{kind} group") for kind in KINDS}
    viewers = make_viewers(groups.values())
    replier = make_user()
    for group in groups.values():
        add_member(group, replier)
    staff = viewers["admin"]
    category = make_category()
    topics = {"public": make_topic(owner, category=category, title=f"public {WORD}", body=f"public opening {WORD}")}
    for kind, group in groups.items():
        topics[kind] = make_topic(owner, group=group, title=f"{kind} {WORD}", body=f"{kind} opening {WORD}")
    # Deleted topics (by a moderator): staff only, wherever they lived.
    topics["deleted"] = make_topic(owner, category=category, title=f"deleted {WORD}", body=f"deleted opening {WORD}")
    topics["deleted-closed"] = make_topic(owner, group=groups["closed"], title=f"gone {WORD}", body=f"gone {WORD}")
    replies = {key: make_reply(topic, replier, body=f"{key} reply {WORD}") for key, topic in topics.items()}
    for key in ("deleted", "deleted-closed"):
        delete_topic(topics[key], staff)
    # A removed reply keeps its place in the thread (shown as "removed") but leaves the index.
    replies["removed-closed"] = make_reply(topics["closed"], replier, body=f"removed reply {WORD}")
    delete_post(replies["removed-closed"], replier)
    posts = {f"{key}-reply": reply for key, reply in replies.items()}
    for key, topic in topics.items():
        posts[f"{key}-opening"] = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 1))
    messages = {kind: post_message(group, owner, body=f"{kind} live {WORD}") for kind, group in groups.items()}
    messages["removed-closed"] = post_message(groups["closed"], owner, body=f"removed live {WORD}")
    remove_message(messages["removed-closed"], owner)
    return viewers, groups, topics, posts, messages


def _found(app, user, kind: str) -> set[int]:
    scopes = None if policy.is_staff(user) else policy.scopes_for(user)
    out = search(app.config["SEARCH_INDEX_DIR"], WORD, types=("community",), scopes=scopes, per_page=100)
    return {int(h["dbid"]) for h in out["hits"] if h["kind"] == kind}


def _by_scope(user, obj) -> bool:
    return policy.is_staff(user) or policy.scope_of(obj) in policy.scopes_for(user)


def _socket(live, app, user):
    """A live socket for ``user``: signed in through a real session cookie, or anonymous."""
    return live.connect(user.id if getattr(user, "is_authenticated", False) else None)


def test_the_three_forms_of_the_topic_and_reply_rule_agree_with_search_and_sockets(world, app, live):
    viewers, _groups, topics, posts, _messages = world
    indexed = {"topic": documents.indexable_ids("topic"), "post": documents.indexable_ids("post")}
    # The fixture is not vacuous: something of each kind is indexed, and something is not.
    assert topics["public"].id in indexed["topic"] and posts["secret-reply"].id in indexed["post"]
    assert posts["public-opening"].id not in indexed["post"] and posts["removed-closed-reply"].id not in indexed["post"]
    for name in VIEWERS:
        user = viewers[name]
        policy.forget()
        for model, kind, objects in ((Topic, "topic", topics), (Post, "post", posts)):
            listed = set(db.session.scalars(policy.visible(select(model), user, model)))
            found = _found(app, user, kind)
            for key, obj in objects.items():
                sees = policy.can_view(user, obj)
                assert sees == (obj in listed) == _by_scope(user, obj), (name, kind, key)
                assert (obj.id in found) == (obj.id in indexed[kind] and sees), (name, kind, key, "search")
        socket = _socket(live, app, user)
        for key, topic in topics.items():
            answer = socket.call("join_topic", {"topic": topic.id})
            assert answer["ok"] == policy.can_view(user, topic), (name, key, answer)
            if answer["ok"]:
                socket.call("leave_topic", {"topic": topic.id})
            else:
                assert answer["code"] == "not_found" and WORD not in str(answer), (name, key, answer)
        socket.close()


def test_the_three_forms_of_the_chat_rule_agree_with_socket_joins(world, app, live):
    viewers, groups, _topics, _posts, messages = world
    assert not any(model is ChatMessage for model, _builder in documents.models().values()), \
        "chat is indexed now: add search appearance to this test"
    for name in VIEWERS:
        user = viewers[name]
        policy.forget()
        listed = set(db.session.scalars(policy.visible(select(ChatMessage), user, ChatMessage)))
        for key, message in messages.items():
            assert policy.can_view(user, message) == (message in listed) == _by_scope(user, message), (name, key)
            # A message reads exactly like the rest of its group's inside.
            assert policy.can_view(user, message) == policy.can_view_inside(user, message.group), (name, key)
        signed_in = getattr(user, "is_authenticated", False)
        socket = _socket(live, app, user)
        for kind, group in groups.items():
            answer = socket.call("join_chat", {"group": group.id})
            sees = policy.can_view(user, messages[kind])
            assert answer["ok"] == (signed_in and sees), (name, kind, answer)
            if answer["ok"]:
                assert f"{kind} live {WORD}" in str(answer["messages"]), (name, kind, "catch-up without the message")
                socket.call("leave_chat", {"group": group.id})
            else:
                assert answer["code"] == ("not_found" if signed_in else "login"), (name, kind, answer)
                assert WORD not in str(answer), (name, kind, answer)
        socket.close()


def test_the_rule_itself(world):
    """What the forms agree on is the design's rule (DESIGN 3), not merely the same mistake."""
    viewers, _groups, topics, posts, messages = world
    topics_seen = {name: {k for k, t in topics.items() if policy.can_view(viewers[name], t)} for name in VIEWERS}
    chat_seen = {name: {k for k, m in messages.items() if policy.can_view(viewers[name], m)} for name in VIEWERS}
    everyone = {"public", "open"}
    insiders = everyone | {"closed", "secret"}
    staff = set(topics)
    for name in ("anon", "outsider", "unconfirmed", "pending", "banned"):
        assert topics_seen[name] == everyone, name
        assert chat_seen[name] == {"open"}, name
    for name in ("member", "group_moderator"):
        assert topics_seen[name] == insiders, name
    for name in ("site_moderator", "admin"):
        assert topics_seen[name] == staff, name
    for name in ("member", "group_moderator", "site_moderator", "admin"):
        assert chat_seen[name] == set(messages), name
    # Replies, opening posts and removed replies resolve through their topic.
    for name in VIEWERS:
        for key, post in posts.items():
            assert policy.can_view(viewers[name], post) == policy.can_view(viewers[name], post.topic), (name, key)

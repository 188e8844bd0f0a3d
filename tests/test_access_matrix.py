"""The access matrix (DESIGN 3, security anchors 12-17): role x group kind x channel.

* ``EXPECTED`` is THE table: (channel, kind) -> {role: HTTP status}. Each cell is its own test id
  (``test_channel_status[topic-closed-outsider]``), read against one world built once per module
  (the cells only GET, so sharing the world is correct and keeps the run fast).
* ``LISTED`` is the same for channels that list groups (directory, API directory, a profile):
  the expectation is whether the group's name is shown at all.
* The marker test seeds unique strings inside a closed and a secret group and sweeps every
  channel as every non-member, then removes a member through the owner's form and sweeps again.
* The IDOR sweep tries every object-changing route as someone who is neither author nor moderator
  and checks the database is unchanged; ``url_map`` is enumerated so a new POST/PATCH/DELETE route
  in forum/groups/chat/agenda/blog that is not in the sweep (or on the allow-list, with a reason)
  fails here.
* Events and blog posts inside a group are covered exactly like the group's forum: their pages,
  .ics files, lists, feeds and forms are channels of the table and of the marker sweep.
* ``JOINS`` is the Socket.IO column: a real python-socketio client per role, signed in with a real
  session cookie against the same world served live, asks to join the topic's room and the
  group's chat room; the answer (joined, or refused "not_found" / "login") must agree with the
  table's topic page and live page, and a join carries the content while a refusal carries none.
"""
import re
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from tests.conftest import build_app, release_app
from tests.factories import (add_member, get_csrf, login_as, make_blog_post, make_event, make_group, make_reply,
                             make_topic, make_user, outbox, submit, text)

ROLES = ("visitor", "outsider", "requester", "member", "group_mod", "banned", "site_mod", "admin")
KINDS = ("open", "closed", "secret")
NON_MEMBERS = ("visitor", "outsider", "requester", "banned")
INSIDERS = ("member", "group_mod", "site_mod", "admin")


def row(*codes) -> dict:
    """One table row, in ROLES order: visitor outsider requester member group_mod banned site_mod admin."""
    assert len(codes) == len(ROLES)
    return dict(zip(ROLES, codes))


# URL templates; {slug} {topic} {opening} (post #1, by the owner) {reply} (by the member).
CHANNELS = {
    "landing": "/groups/{slug}",
    "members": "/groups/{slug}/members",
    "forum": "/groups/{slug}/forum",
    "live": "/groups/{slug}/live",
    "topic": "/t/{topic}",
    "topic_unread": "/t/{topic}/unread",
    "permalink": "/p/{reply}",
    "api_group": "/api/groups/{slug}",
    "api_members": "/api/groups/{slug}/members",
    "api_topics": "/api/groups/{slug}/topics",
    "api_topic": "/api/topics/{topic}",
    "api_post": "/api/posts/{reply}",
    "group_feed": "/groups/{slug}/forum/feed.atom",
    "topic_feed": "/t/{topic}/feed.atom",
    "edit_topic_form": "/p/{opening}/edit",
    "edit_reply_form": "/p/{reply}/edit",
    "post_history": "/p/{reply}/history",
    "move_form": "/t/{topic}/move",
    "new_topic_form": "/groups/{slug}/forum/new",
    "group_edit_form": "/groups/{slug}/edit",
    "group_delete_form": "/groups/{slug}/delete",
    "requests": "/groups/{slug}/requests",
    "invite_form": "/groups/{slug}/invite",
    "request_form": "/groups/{slug}/request",
    "live_to_topic_form": "/groups/{slug}/live/{seq}/topic",
    # Events and blogs: a group event and a group blog post live inside their group like its forum.
    # {event} (organised by the owner), {blog} {blog_slug} (a published post by the owner).
    "event": "/events/{event}",
    "event_ics": "/events/{event}.ics",
    "group_events": "/groups/{slug}/events",
    "event_edit_form": "/events/{event}/edit",
    "event_delete_form": "/events/{event}/delete",
    "new_event_form": "/events/new?group={slug}",
    "blog_post": "/blog/{blog}-{blog_slug}",
    "blog_permalink": "/blog/{blog}",
    "group_blog": "/groups/{slug}/blog",
    "group_blog_feed": "/groups/{slug}/blog/feed.atom",
    "blog_edit_form": "/blog/{blog}/edit",
    "blog_delete_form": "/blog/{blog}/delete",
    "new_blog_form": "/blog/new?group={slug}",
    # Media files (policy/media.py): a file is visible wherever a place that shows it is. {media}
    # is the owner's image embedded in the published group blog post, {media_draft} the owner's
    # image embedded only in a draft group blog post (a draft grants nothing beyond its author).
    "media_published": "/media/{media}",
    "media_published_thumb": "/media/{media}/thumb/small",
    "media_published_about": "/media/{media}/about",
    "media_draft": "/media/{media_draft}",
    "media_draft_thumb": "/media/{media_draft}/thumb/large",
    "media_draft_about": "/media/{media_draft}/about",
    "group_files": "/groups/{slug}/files",
}

#        visitor outsider requester member group_mod banned site_mod admin
INSIDE_OPEN = row(200, 200, 200, 200, 200, 200, 200, 200)
INSIDE_PRIVATE = row(404, 404, 404, 200, 200, 404, 200, 200)
REDIRECT_OPEN = row(302, 302, 302, 302, 302, 302, 302, 302)
REDIRECT_PRIVATE = row(404, 404, 404, 302, 302, 404, 302, 302)
MOVED_OPEN = row(301, 301, 301, 301, 301, 301, 301, 301)
MOVED_PRIVATE = row(404, 404, 404, 301, 301, 404, 301, 301)
# Changing someone else's object (forum style): signed-out people go to the login page first
# (nothing is looked up), then invisible is 404, visible-but-not-yours is 403; the group's
# moderators and site staff may.
NOT_YOURS_OPEN = row(302, 403, 403, 403, 200, 403, 200, 200)
NOT_YOURS_PRIVATE = row(302, 404, 404, 403, 200, 404, 200, 200)
# Writing in a group: its members only (site staff are not members of these groups).
MEMBERS_WRITE_OPEN = row(302, 403, 403, 200, 200, 403, 403, 403)
MEMBERS_WRITE_PRIVATE = row(302, 404, 404, 200, 200, 404, 403, 403)
# Only the author and site staff (a draft's file: the author is the owner, not a role here).
STAFF_ONLY = row(404, 404, 404, 404, 404, 404, 200, 200)

EXPECTED = {
    # The landing page: public for open and closed groups, invisible for secret ones.
    ("landing", "open"): INSIDE_OPEN,
    ("landing", "closed"): INSIDE_OPEN,
    ("landing", "secret"): INSIDE_PRIVATE,
    ("api_group", "open"): INSIDE_OPEN,
    ("api_group", "closed"): INSIDE_OPEN,
    ("api_group", "secret"): INSIDE_PRIVATE,
    # Everything inside: readable by all in an open group, 404 to non-members otherwise.
    ("members", "open"): INSIDE_OPEN,
    ("members", "closed"): INSIDE_PRIVATE,
    ("members", "secret"): INSIDE_PRIVATE,
    ("forum", "open"): INSIDE_OPEN,
    ("forum", "closed"): INSIDE_PRIVATE,
    ("forum", "secret"): INSIDE_PRIVATE,
    ("live", "open"): INSIDE_OPEN,
    ("live", "closed"): INSIDE_PRIVATE,
    ("live", "secret"): INSIDE_PRIVATE,
    ("topic", "open"): INSIDE_OPEN,
    ("topic", "closed"): INSIDE_PRIVATE,
    ("topic", "secret"): INSIDE_PRIVATE,
    ("topic_unread", "open"): REDIRECT_OPEN,
    ("topic_unread", "closed"): REDIRECT_PRIVATE,
    ("topic_unread", "secret"): REDIRECT_PRIVATE,
    ("permalink", "open"): REDIRECT_OPEN,
    ("permalink", "closed"): REDIRECT_PRIVATE,
    ("permalink", "secret"): REDIRECT_PRIVATE,
    ("api_members", "open"): INSIDE_OPEN,
    ("api_members", "closed"): INSIDE_PRIVATE,
    ("api_members", "secret"): INSIDE_PRIVATE,
    ("api_topics", "open"): INSIDE_OPEN,
    ("api_topics", "closed"): INSIDE_PRIVATE,
    ("api_topics", "secret"): INSIDE_PRIVATE,
    ("api_topic", "open"): INSIDE_OPEN,
    ("api_topic", "closed"): INSIDE_PRIVATE,
    ("api_topic", "secret"): INSIDE_PRIVATE,
    ("api_post", "open"): INSIDE_OPEN,
    ("api_post", "closed"): INSIDE_PRIVATE,
    ("api_post", "secret"): INSIDE_PRIVATE,
    ("group_feed", "open"): INSIDE_OPEN,
    ("group_feed", "closed"): INSIDE_PRIVATE,
    ("group_feed", "secret"): INSIDE_PRIVATE,
    ("topic_feed", "open"): INSIDE_OPEN,
    ("topic_feed", "closed"): INSIDE_PRIVATE,
    ("topic_feed", "secret"): INSIDE_PRIVATE,
    # Forum forms: signed-out people go to the login page first (nothing is looked up), then
    # invisible is 404, visible-but-not-yours is 403.
    #                                     visitor outsider requester member group_mod banned site_mod admin
    ("edit_topic_form", "open"): row(302, 403, 403, 403, 200, 403, 200, 200),
    ("edit_topic_form", "closed"): row(302, 404, 404, 403, 200, 404, 200, 200),
    ("edit_topic_form", "secret"): row(302, 404, 404, 403, 200, 404, 200, 200),
    ("edit_reply_form", "open"): row(302, 403, 403, 200, 200, 403, 200, 200),
    ("edit_reply_form", "closed"): row(302, 404, 404, 200, 200, 404, 200, 200),
    ("edit_reply_form", "secret"): row(302, 404, 404, 200, 200, 404, 200, 200),
    ("post_history", "open"): row(302, 403, 403, 403, 200, 403, 200, 200),
    ("post_history", "closed"): row(302, 404, 404, 403, 200, 404, 200, 200),
    ("post_history", "secret"): row(302, 404, 404, 403, 200, 404, 200, 200),
    ("move_form", "open"): row(302, 403, 403, 403, 200, 403, 200, 200),
    ("move_form", "closed"): row(302, 404, 404, 403, 200, 404, 200, 200),
    ("move_form", "secret"): row(302, 404, 404, 403, 200, 404, 200, 200),
    # Only members start topics (staff are not members of these groups).
    ("new_topic_form", "open"): row(302, 403, 403, 200, 200, 403, 403, 403),
    ("new_topic_form", "closed"): row(302, 404, 404, 200, 200, 404, 403, 403),
    ("new_topic_form", "secret"): row(302, 404, 404, 200, 200, 404, 403, 403),
    # Group forms: the group is looked up first (404 for an invisible inside), then the login.
    ("group_edit_form", "open"): row(302, 403, 403, 403, 200, 403, 200, 200),
    ("group_edit_form", "closed"): row(404, 404, 404, 403, 200, 404, 200, 200),
    ("group_edit_form", "secret"): row(404, 404, 404, 403, 200, 404, 200, 200),
    # Deleting is the owner's (and staff's) decision, not the group moderators'.
    ("group_delete_form", "open"): row(302, 403, 403, 403, 403, 403, 200, 200),
    ("group_delete_form", "closed"): row(404, 404, 404, 403, 403, 404, 200, 200),
    ("group_delete_form", "secret"): row(404, 404, 404, 403, 403, 404, 200, 200),
    ("requests", "open"): row(302, 403, 403, 403, 200, 403, 200, 200),
    ("requests", "closed"): row(404, 404, 404, 403, 200, 404, 200, 200),
    ("requests", "secret"): row(404, 404, 404, 403, 200, 404, 200, 200),
    ("invite_form", "open"): row(302, 403, 403, 403, 200, 403, 200, 200),
    ("invite_form", "closed"): row(404, 404, 404, 403, 200, 404, 200, 200),
    ("invite_form", "secret"): row(404, 404, 404, 403, 200, 404, 200, 200),
    # The request form: open groups send you to "Join" (303), members and requesters are told
    # so (303), a ban is final (403), secret groups are by invitation only (403 for staff who see them).
    ("request_form", "open"): row(302, 303, 303, 303, 303, 403, 303, 303),
    ("request_form", "closed"): row(302, 200, 303, 303, 303, 403, 200, 200),
    ("request_form", "secret"): row(404, 404, 404, 303, 303, 404, 403, 403),
    # Turning a live message into a topic is for the group's moderators.
    ("live_to_topic_form", "open"): row(302, 403, 403, 403, 200, 403, 200, 200),
    ("live_to_topic_form", "closed"): row(302, 404, 404, 403, 200, 404, 200, 200),
    ("live_to_topic_form", "secret"): row(302, 404, 404, 403, 200, 404, 200, 200),
    # Events (policy._register_agenda): a group event's scope is content_scope(group), so it reads
    # exactly like the group's forum, on its page, its .ics file and the group's event list.
    ("event", "open"): INSIDE_OPEN,
    ("event", "closed"): INSIDE_PRIVATE,
    ("event", "secret"): INSIDE_PRIVATE,
    ("event_ics", "open"): INSIDE_OPEN,
    ("event_ics", "closed"): INSIDE_PRIVATE,
    ("event_ics", "secret"): INSIDE_PRIVATE,
    ("group_events", "open"): INSIDE_OPEN,
    ("group_events", "closed"): INSIDE_PRIVATE,
    ("group_events", "secret"): INSIDE_PRIVATE,
    # can_edit_event / can_delete_event: the organiser (the owner here), the group's moderators, staff.
    ("event_edit_form", "open"): NOT_YOURS_OPEN,
    ("event_edit_form", "closed"): NOT_YOURS_PRIVATE,
    ("event_edit_form", "secret"): NOT_YOURS_PRIVATE,
    ("event_delete_form", "open"): NOT_YOURS_OPEN,
    ("event_delete_form", "closed"): NOT_YOURS_PRIVATE,
    ("event_delete_form", "secret"): NOT_YOURS_PRIVATE,
    # can_create_event(user, group): can_view_inside and can_post, i.e. members.
    ("new_event_form", "open"): MEMBERS_WRITE_OPEN,
    ("new_event_form", "closed"): MEMBERS_WRITE_PRIVATE,
    ("new_event_form", "secret"): MEMBERS_WRITE_PRIVATE,
    # Blog posts (policy._register_blog): visibility "group" is content_scope(group), like the forum.
    ("blog_post", "open"): INSIDE_OPEN,
    ("blog_post", "closed"): INSIDE_PRIVATE,
    ("blog_post", "secret"): INSIDE_PRIVATE,
    ("blog_permalink", "open"): MOVED_OPEN,
    ("blog_permalink", "closed"): MOVED_PRIVATE,
    ("blog_permalink", "secret"): MOVED_PRIVATE,
    ("group_blog", "open"): INSIDE_OPEN,
    ("group_blog", "closed"): INSIDE_PRIVATE,
    ("group_blog", "secret"): INSIDE_PRIVATE,
    ("group_blog_feed", "open"): INSIDE_OPEN,
    ("group_blog_feed", "closed"): INSIDE_PRIVATE,
    ("group_blog_feed", "secret"): INSIDE_PRIVATE,
    # can_edit_blog_post / can_delete_blog_post: the author (the owner here), the group's moderators, staff.
    ("blog_edit_form", "open"): NOT_YOURS_OPEN,
    ("blog_edit_form", "closed"): NOT_YOURS_PRIVATE,
    ("blog_edit_form", "secret"): NOT_YOURS_PRIVATE,
    ("blog_delete_form", "open"): NOT_YOURS_OPEN,
    ("blog_delete_form", "closed"): NOT_YOURS_PRIVATE,
    ("blog_delete_form", "secret"): NOT_YOURS_PRIVATE,
    # can_write_blog(user, group): can_post, i.e. members.
    ("new_blog_form", "open"): MEMBERS_WRITE_OPEN,
    ("new_blog_form", "closed"): MEMBERS_WRITE_PRIVATE,
    ("new_blog_form", "secret"): MEMBERS_WRITE_PRIVATE,
    # Media: embedded in the published group post, a file reads exactly like the post; embedded
    # in a draft only, nobody but its owner (not in ROLES) and site staff.
    ("media_published", "open"): INSIDE_OPEN,
    ("media_published", "closed"): INSIDE_PRIVATE,
    ("media_published", "secret"): INSIDE_PRIVATE,
    ("media_published_thumb", "open"): INSIDE_OPEN,
    ("media_published_thumb", "closed"): INSIDE_PRIVATE,
    ("media_published_thumb", "secret"): INSIDE_PRIVATE,
    ("media_published_about", "open"): INSIDE_OPEN,
    ("media_published_about", "closed"): INSIDE_PRIVATE,
    ("media_published_about", "secret"): INSIDE_PRIVATE,
    ("media_draft", "open"): STAFF_ONLY,
    ("media_draft", "closed"): STAFF_ONLY,
    ("media_draft", "secret"): STAFF_ONLY,
    ("media_draft_thumb", "open"): STAFF_ONLY,
    ("media_draft_thumb", "closed"): STAFF_ONLY,
    ("media_draft_thumb", "secret"): STAFF_ONLY,
    ("media_draft_about", "open"): STAFF_ONLY,
    ("media_draft_about", "closed"): STAFF_ONLY,
    ("media_draft_about", "secret"): STAFF_ONLY,
    # A group's shared files: inside the group, like its forum.
    ("group_files", "open"): INSIDE_OPEN,
    ("group_files", "closed"): INSIDE_PRIVATE,
    ("group_files", "secret"): INSIDE_PRIVATE,
}

# Forms behind a login: a 302 there must go to the login page (not somewhere else).
LOGIN_FORMS = {"edit_topic_form", "edit_reply_form", "post_history", "move_form", "new_topic_form",
               "group_edit_form", "group_delete_form", "requests", "invite_form", "request_form",
               "live_to_topic_form", "event_edit_form", "event_delete_form", "new_event_form",
               "blog_edit_form", "blog_delete_form", "new_blog_form"}
# Channels that show one item: where they answer 200, the item itself must be there (so a
# visible() clause that drops what a viewer may read fails here too, not only a leak).
SHOWS = {"topic": "topic", "api_topic": "topic", "group_feed": "topic", "topic_feed": "topic",
         "event": "event", "event_ics": "event", "group_events": "event",
         "blog_post": "blog", "group_blog": "blog", "group_blog_feed": "blog", "media_published_about": "media"}

# Channels that list groups: is the group's name shown to this role at all?
#        visitor outsider requester member group_mod banned site_mod admin
EVERYONE = row(True, True, True, True, True, True, True, True)
INSIDERS_ONLY = row(False, False, False, True, True, False, True, True)
LISTED = {
    ("directory", "open"): EVERYONE,
    ("directory", "closed"): EVERYONE,
    ("directory", "secret"): INSIDERS_ONLY,
    ("api_directory", "open"): EVERYONE,
    ("api_directory", "closed"): EVERYONE,
    ("api_directory", "secret"): INSIDERS_ONLY,
    # The profile of a person in all three groups: closed and secret memberships can reveal a
    # diagnosis, so they show only to people inside those groups.
    ("profile", "open"): EVERYONE,
    ("profile", "closed"): INSIDERS_ONLY,
    ("profile", "secret"): INSIDERS_ONLY,
}
LIST_URLS = {"directory": "/groups", "api_directory": "/api/groups", "profile": "/people/{peer}"}

# Socket.IO joins (DESIGN 3 and 5: can_view before join_room): room -> (event, its argument, the
# world's key for the object). Answers: "joined", or the refusal's code.
SOCKET_ROOMS = {"topic_room": ("join_topic", "topic", "topic"), "chat_room": ("join_chat", "group", "id")}
J, NF, LOGIN = "joined", "not_found", "login"
#        visitor outsider requester member group_mod banned site_mod admin
JOIN_OPEN = row(J, J, J, J, J, J, J, J)
JOIN_PRIVATE = row(NF, NF, NF, J, J, NF, J, J)
# The chat room needs an account (visitors read an open group's chat over HTTP, without live
# updates); "login" is answered before the group is looked up, so it tells nothing about it.
CHAT_OPEN = row(LOGIN, J, J, J, J, J, J, J)
CHAT_PRIVATE = row(LOGIN, NF, NF, J, J, NF, J, J)
JOINS = {
    ("topic_room", "open"): JOIN_OPEN,
    ("topic_room", "closed"): JOIN_PRIVATE,
    ("topic_room", "secret"): JOIN_PRIVATE,
    ("chat_room", "open"): CHAT_OPEN,
    ("chat_room", "closed"): CHAT_PRIVATE,
    ("chat_room", "secret"): CHAT_PRIVATE,
}
# The HTTP channel each room must agree with, and what a join's catch-up must carry.
JOIN_PAGES = {"topic_room": "topic", "chat_room": "live"}
JOIN_SHOWS = {"topic_room": "reply", "chat_room": "live"}


# ---------------------------------------------------------------------------------------------
# The world: one owner, a person in every role, an open, a closed and a secret group, each with a
# topic by the owner and a reply by the member, a group event and a published group blog post by
# the owner. Plain values only (ids, slugs, names).
# ---------------------------------------------------------------------------------------------

def build_world(app) -> dict:
    tag = uuid.uuid4().hex[:12]
    with app.test_request_context():  # a request context: bodies that embed media render their URLs
        users = {name: make_user(display_name=f"{name.title()} {tag}") for name in
                 ("owner", "outsider", "requester", "member", "group_mod", "banned", "peer")}
        users["site_mod"] = make_user(display_name=f"Sitemod {tag}", site_role="moderator")
        users["admin"] = make_user(display_name=f"Admin {tag}", site_role="admin")
        world = {"tag": tag, "users": {name: u.id for name, u in users.items()},
                 "emails": {name: u.email for name, u in users.items()}, "groups": {}}
        for kind in KINDS:
            group = make_group(users["owner"], kind=kind, name=f"{kind.title()} circle {tag}",
                               tags=[f"{kind}tag{tag}"])
            add_member(group, users["member"])
            add_member(group, users["peer"])
            add_member(group, users["group_mod"], role="moderator")
            add_member(group, users["requester"], state="pending")
            add_member(group, users["banned"], state="banned")
            topic = make_topic(users["owner"], group=group, title=f"{kind} topic {tag}", body=f"{kind} opening {tag}")
            reply = make_reply(topic, users["member"], body=f"{kind} reply {tag}")
            from app.chat.services import post_message
            seq = post_message(group, users["owner"], body=f"{kind} live {tag}").seq
            from app.forum.models import Post
            opening = db.session.scalar(select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))
            event = make_event(users["owner"], group=group, visibility="group", title=f"{kind} event {tag}",
                               description=f"{kind} agenda {tag}")
            from app.media.services import upload
            from tests.test_media_gauntlet import png
            photo = upload(users["owner"], "photo.png", png(), title=f"{kind} photo {tag}", alt="A photo")
            draft_photo = upload(users["owner"], "draft.png", png(), title=f"{kind} draft photo {tag}", alt="A photo")
            post = make_blog_post(users["owner"], group=group, visibility="group", title=f"{kind} blog {tag}",
                                  body=f"{kind} words {tag}\n\n![A photo](/media/{photo.id})")
            make_blog_post(users["owner"], group=group, visibility="private", title=f"{kind} draft {tag}",
                           body=f"Not yet ![A photo](/media/{draft_photo.id})")
            assert event.visibility == "group" and post.visibility == "group" and post.published_at is not None
            world["groups"][kind] = {"id": group.id, "slug": group.slug, "name": group.name,
                                     "tag": f"{kind}tag{tag}", "topic": topic.id, "opening": opening,
                                     "reply": reply.id, "seq": seq, "event": event.id, "blog": post.id,
                                     "blog_slug": post.slug, "media": photo.id, "media_draft": draft_photo.id}
    return world


def secrets_of(world: dict, kind: str) -> dict:
    """The strings that exist only inside one group of the world, by item."""
    tag = world["tag"]
    return {"name": world["groups"][kind]["name"], "topic": f"{kind} topic {tag}", "reply": f"{kind} reply {tag}",
            "live": f"{kind} live {tag}", "event": f"{kind} event {tag}", "agenda": f"{kind} agenda {tag}",
            "blog": f"{kind} blog {tag}", "words": f"{kind} words {tag}", "media": f"{kind} photo {tag}",
            "draft_media": f"{kind} draft photo {tag}"}


def clients_for(app, world) -> dict:
    clients = {"visitor": app.test_client()}
    with app.app_context():
        from app.accounts.models import User
        for role in ROLES[1:]:
            clients[role] = login_as(app.test_client(), db.session.get(User, world["users"][role]))
    return clients


def url_of(template: str, world: dict, kind: str) -> str:
    return template.format(peer=world["users"]["peer"], **world["groups"][kind])


@pytest.fixture(scope="module")
def _module_world(tmp_path_factory, pg_database):
    app = build_app(tmp_path_factory.mktemp("matrix"), pg_database)
    holder = {"app": app, "world": None, "live": None, "sockets": None, "sockets_for": None}
    yield holder
    _close_sockets(holder)
    if holder["live"] is not None:
        holder["live"].stop()
    release_app(app, pg_database)


@pytest.fixture
def world(_module_world):
    """The shared world, rebuilt if another test emptied a shared (PostgreSQL) database."""
    app = _module_world["app"]
    current = _module_world["world"]
    if current is not None:
        from app.groups.models import Group
        with app.app_context():
            if db.session.get(Group, current["groups"]["secret"]["id"]) is None:
                current = None
    if current is None:
        current = build_world(app)
        current["clients"] = clients_for(app, current)
        _module_world["world"] = current
    return app, current


def _close_sockets(holder) -> None:
    for client in (holder["sockets"] or {}).values():
        client.close()
    holder["sockets"] = None


@pytest.fixture
def sockets(world, _module_world):
    """One live socket per role into the shared world, connected once (again if the world was rebuilt).

    Flask-SocketIO has one SocketIO object per process, and it dispatches every event through the
    server of the app built last (tests build many); while these cells run it is pointed back at
    the server of the world's app, so the live sockets reach the app that holds the world."""
    from app.extensions import socketio
    from tests.test_realtime_support import Client, LiveApp, session_cookie
    app, w = world
    previous = socketio.server
    socketio.server = app.extensions["oncollab.socketio"]
    try:
        if _module_world["live"] is None:
            _module_world["live"] = LiveApp(app)
        if _module_world["sockets"] is None or _module_world["sockets_for"] is not w:
            _close_sockets(_module_world)
            url = _module_world["live"].url
            _module_world["sockets"] = {role: Client(url, None if role == "visitor" else
                                                     session_cookie(app, w["users"][role])) for role in ROLES}
            _module_world["sockets_for"] = w
        yield _module_world["sockets"]
    finally:
        socketio.server = previous


CELLS = [(channel, kind, role) for (channel, kind), expected in EXPECTED.items() for role in ROLES]


def test_the_table_is_complete():
    """Every channel has a row for every kind, and every row names every role: no silent gaps."""
    assert {(c, k) for c in CHANNELS for k in KINDS} == set(EXPECTED)
    assert all(set(v) == set(ROLES) for v in EXPECTED.values())
    assert {(c, k) for c in LIST_URLS for k in KINDS} == set(LISTED)
    assert {(c, k) for c in SOCKET_ROOMS for k in KINDS} == set(JOINS)
    assert all(set(v) == set(ROLES) for v in JOINS.values())


def test_every_url_of_the_table_routes(app):
    """A channel whose URL no longer routes would answer 404 and pass every "hidden" cell: it is
    an error naming the URL instead (the matrix must follow a renamed or removed route)."""
    world = {"slug": "a-group", "topic": 1, "opening": 2, "reply": 3, "seq": 1, "event": 1, "blog": 1,
             "blog_slug": "a-post", "peer": 1, "media": 1, "media_draft": 2}
    routed(app, [template.format(**world) for template in {**CHANNELS, **LIST_URLS}.values()])


def test_socket_joins_agree_with_the_pages():
    """The socket column says what the topic page and the live page say: joined where the page
    answers 200 (the chat room asks for an account first), refused where it answers 404."""
    for (room, kind), answers in JOINS.items():
        page = EXPECTED[(JOIN_PAGES[room], kind)]
        for role, answer in answers.items():
            if room == "chat_room" and role == "visitor":
                assert answer == LOGIN, (room, kind, role)
            else:
                assert answer == {200: J, 404: NF}[page[role]], (room, kind, role, page[role])


@pytest.mark.parametrize("channel,kind,role", CELLS, ids=["-".join(c) for c in CELLS])
def test_channel_status(world, channel, kind, role):
    app, w = world
    url = url_of(CHANNELS[channel], w, kind)
    response = w["clients"][role].get(url)
    expected = EXPECTED[(channel, kind)][role]
    assert response.status_code == expected, f"{role} GET {url} ({kind} group): {response.status_code}, expected {expected}"
    secrets = secrets_of(w, kind)
    if expected == 404:
        # "Absent" and "forbidden" look the same: nothing about the group or its content leaks.
        body = text(response)
        for secret in secrets.values():
            assert secret not in body, f"404 page for {url} shows {secret!r}"
    if expected == 302 and channel in LOGIN_FORMS:
        assert "/login" in response.headers["Location"], response.headers["Location"]
    if expected == 301 and channel == "blog_permalink":
        # Only someone who may read the post learns its canonical address (the slug is its title).
        location = response.headers["Location"]
        assert location.endswith(f"/blog/{w['groups'][kind]['blog']}-{w['groups'][kind]['blog_slug']}"), location
    if expected == 200 and channel in SHOWS:
        assert secrets[SHOWS[channel]] in text(response), f"{role} GET {url}: 200 without the {SHOWS[channel]} itself"


JOIN_CELLS = [(room, kind, role) for (room, kind) in JOINS for role in ROLES]


@pytest.mark.parametrize("room,kind,role", JOIN_CELLS, ids=["-".join(c) for c in JOIN_CELLS])
def test_socket_join(world, sockets, room, kind, role):
    app, w = world
    event, argument, key = SOCKET_ROOMS[room]
    target = w["groups"][kind][key]
    answer = sockets[role].call(event, {argument: target})
    expected = JOINS[(room, kind)][role]
    got = J if answer.get("ok") else answer.get("code")
    assert got == expected, f"{role} {event} {target} ({kind} group): {answer}, expected {expected}"
    secrets = secrets_of(w, kind)
    if expected == J:
        # The catch-up a join answers with is the room's content itself.
        assert secrets[JOIN_SHOWS[room]] in str(answer), f"{role} joined {room} without its content: {answer}"
        sockets[role].call(event.replace("join_", "leave_"), {argument: target})
    else:
        for secret in secrets.values():
            assert secret not in str(answer), f"{role}: refused {event} shows {secret!r}"


LIST_CELLS = [(channel, kind, role) for (channel, kind) in LISTED for role in ROLES]


@pytest.mark.parametrize("channel,kind,role", LIST_CELLS, ids=["-".join(c) for c in LIST_CELLS])
def test_listing_shows_group(world, channel, kind, role):
    app, w = world
    url = url_of(LIST_URLS[channel], w, kind)
    response = w["clients"][role].get(url)
    assert response.status_code == 200, url
    body = text(response)
    group = w["groups"][kind]
    expected = LISTED[(channel, kind)][role]
    assert (group["name"] in body) == expected, f"{role} on {url}: {kind} group name shown={not expected}"
    # A link (slug) is as telling as a name.
    assert (f"/groups/{group['slug']}" in body) == expected, f"{role} on {url}: {kind} group link shown={not expected}"
    if channel in ("directory", "api_directory") and not expected:
        assert group["tag"] not in body, f"{role}: the tag of a hidden group shows on {url} (tag facets)"


@pytest.mark.parametrize("role", ROLES)
def test_directory_counts_follow_the_policy(world, role):
    """The total counts only visible groups; a member count only for groups one may look inside."""
    app, w = world
    data = w["clients"][role].get("/api/groups?q=" + w["tag"]).get_json()
    mine = {g["slug"]: g for g in data["groups"]}
    ours = {w["groups"][k]["slug"] for k in KINDS}
    assert set(mine) <= ours
    expected_visible = {w["groups"][k]["slug"] for k in KINDS if LISTED[("api_directory", k)][role]}
    assert set(mine) == expected_visible, role
    assert data["total"] == len(expected_visible), (role, data["total"])
    for kind in KINDS:
        entry = mine.get(w["groups"][kind]["slug"])
        if entry is None:
            continue
        inside = EXPECTED[("members", kind)][role] == 200
        assert ("member_count" in entry) == inside, (role, kind, entry)
        if inside:
            assert entry["member_count"] == 4  # owner, member, peer, group moderator
    # The landing page's JSON: a closed group's size only for people inside.
    closed = w["clients"][role].get(f"/api/groups/{w['groups']['closed']['slug']}").get_json()
    assert ("member_count" in closed) == (role in INSIDERS), (role, closed)
    html = text(w["clients"][role].get("/groups?q=" + w["tag"]))
    total = re.search(r'id="results"[^>]*>\s*(\d+) group', html)
    assert total and int(total.group(1)) == len(expected_visible), (role, total.group(0) if total else html[:300])


# ---------------------------------------------------------------------------------------------
# The marker: unique strings inside a closed and a secret group never reach a non-member.
# ---------------------------------------------------------------------------------------------

# {word} is a search word that occurs only inside the private groups: searching for it must not
# echo the marker, and the query itself is the searcher's own input (so it is not the marker).
SITE_WIDE = ["/", "/forum", "/groups", "/api/groups", "/api/categories", "/notifications",
             "/api/notifications", "/search?q={word}", "/api/search?q={word}", "/search/suggest?q={prefix}",
             "/groups?q={word}", "/api/groups?q={word}",
             # Community search (forum, groups, events, blog posts); /search/<database> knows only
             # trials, centres, guidelines and community, so /search/forum would be a 404 and sweep nothing.
             "/search/community?q={word}", "/search/community?q={word}&kind=event",
             "/search/community?q={word}&kind=blogpost", "/search?type=community&q={word}",
             "/api/search?type=community&q={word}",
             # Events and blogs: the site-wide lists and feeds.
             "/events", "/events/calendar.ics", "/blog", "/blog/feed.atom"]


def routed(app, urls: list[str]) -> list[str]:
    """The URLs, each checked against app.url_map: a URL of the matrix that no longer routes (a
    route renamed or removed) is a test error naming it, never a channel quietly dropped from
    the sweep."""
    from werkzeug.exceptions import HTTPException
    adapter = app.url_map.bind("localhost")
    dead = []
    for url in urls:
        try:
            adapter.match(url.split("?")[0], method="GET")
        except HTTPException as error:  # NotFound, MethodNotAllowed, RequestRedirect
            dead.append(f"{url} ({type(error).__name__})")
    assert not dead, "URLs in the access matrix that do not route (update the matrix):\n" + "\n".join(dead)
    return urls


def _sweep(client, urls: list[str], secrets: list[str]) -> list[str]:
    """Every place where a secret string shows, in a body or a header (a Location carries slugs)."""
    found = []
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            found.append(f"{url}: HTTP {response.status_code}")
        haystack = (text(response) + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())).lower()
        for secret in secrets:
            if secret.lower() in haystack:
                found.append(f"{url} [{response.status_code}] shows {secret!r}")
    return found


def _search_hits(client, app, word: str) -> list[str]:
    """What search admits to about ``word``: result count, titles, suggestions."""
    seen = []
    data = client.get(f"/api/search?q={word}").get_json()
    if data["total"]:
        seen.append(f"/api/search total={data['total']} {[r['title'] for r in data['results']]}")
    data = client.get(f"/search/suggest?q={word[:6]}").get_json()
    if word in str(data):
        seen.append(f"/search/suggest offers {word}: {data}")
    return seen


def test_marker_never_reaches_non_members_and_removal_takes_effect_at_once(app):
    from app.chat.services import post_message
    closed_marker = "cm" + uuid.uuid4().hex
    secret_marker = "sm" + uuid.uuid4().hex
    secret_name = "Hush " + uuid.uuid4().hex
    word = "zq" + uuid.uuid4().hex[:10]
    with app.test_request_context():  # a request context: bodies that embed media render their URLs
        people = {name: make_user(display_name=f"{name.title()} {uuid.uuid4().hex[:6]}")
                  for name in ("owner", "member", "requester", "banned", "outsider")}
        closed = make_group(people["owner"], kind="closed", name="Closed circle " + uuid.uuid4().hex[:6])
        secret = make_group(people["owner"], kind="secret", name=secret_name, description=f"About {word}")
        for group in (closed, secret):
            add_member(group, people["member"])
            add_member(group, people["requester"], state="pending")
            add_member(group, people["banned"], state="banned")
        from app.forum.services import set_watch_level
        worlds = {}
        for kind, group, marker in (("closed", closed, closed_marker), ("secret", secret, secret_marker)):
            topic = make_topic(people["owner"], group=group, title=f"Topic {marker} {word}",
                               body=f"Opening {marker} {word}")
            set_watch_level(people["member"], "watching", topic=topic)
            # Mentions of non-members must not notify them (a mention never grants access).
            mentions = " ".join(f"@[{people[n].display_name}]" for n in ("member", "requester", "banned", "outsider"))
            reply = make_reply(topic, people["owner"], body=f"Reply {marker} {word} {mentions}")
            post_message(group, people["owner"], body=f"Live {marker} {word} {mentions}")
            from app.forum.models import Post
            opening = db.session.scalar(select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))
            # A group event and a published group blog post, the marker in title and text (a blog
            # post's slug is its title, so the marker is in its address too).
            event = make_event(people["owner"], group=group, visibility="group", title=f"Event {marker} {word}",
                               description=f"Agenda {marker} {word}")
            # Files: the marker in the name, title, alt text and description of a photo shared to the
            # group and embedded in its blog post, and of one embedded only in a draft.
            from app.media.services import upload
            from tests.test_media_gauntlet import png
            photo, draft_photo = (upload(people["owner"], f"{label} {marker}.png", png(), title=f"Photo {marker} {word}",
                                         alt=f"Alt {marker}", description=f"About {marker}", group=shared)
                                  for label, shared in (("Photo", group), ("Draft", None)))
            make_blog_post(people["owner"], group=group, visibility="private", title=f"Draft {marker}",
                           body=f"![Draft {marker}](/media/{draft_photo.id})")
            post = make_blog_post(people["owner"], group=group, visibility="group", title=f"Blog {marker} {word}",
                                  body=f"Words {marker} {word} ![Photo {marker}](/media/{photo.id})")
            # The member answers the event: an RSVP must not keep a door open after removal.
            from app.agenda.services import set_rsvp
            set_rsvp(event, people["member"], "going")
            worlds[kind] = {"slug": group.slug, "topic": topic.id, "reply": reply.id, "opening": opening,
                            "name": group.name, "seq": 1, "event": event.id, "blog": post.id, "blog_slug": post.slug,
                            "media": photo.id, "media_draft": draft_photo.id}
        ids = {name: u.id for name, u in people.items()}

    def channel_urls(kind):
        return [CHANNELS[c].format(peer=ids["member"], **worlds[kind]) for c in CHANNELS] + \
               [f"/t/{worlds[kind]['topic']}/x", f"/p/{worlds[kind]['opening']}", f"/groups/{worlds[kind]['slug']}/live?before=99",
                f"/blog/{worlds[kind]['blog']}-x", f"/groups/{worlds[kind]['slug']}/events?when=past"]

    site = [u.format(word=word, prefix=word[:6]) for u in SITE_WIDE]
    profiles = [f"/people/{ids[n]}" for n in ("owner", "member", "requester", "banned")] + \
               [f"/people/{ids[n]}/blog{feed}" for n in ("owner", "member") for feed in ("", "/feed.atom")]
    everything = routed(app, channel_urls("closed") + channel_urls("secret") + site + profiles)
    assert len(everything) >= len(CHANNELS) * 2 + len(profiles) + 7, everything

    clients = {"visitor": app.test_client()}
    for name in ("outsider", "requester", "banned", "member", "owner"):
        with app.app_context():
            from app.accounts.models import User
            clients[name] = login_as(app.test_client(), db.session.get(User, ids[name]))

    # A site-wide URL that answers 404 to everyone sweeps nothing: each must really be a page.
    dead = {url: code for url in site if (code := clients["outsider"].get(url).status_code) != 200}
    assert not dead, f"site-wide channels that are not pages: {dead}"

    failures = []
    for role in NON_MEMBERS:
        failures += [f"{role}: {f}" for f in _sweep(clients[role], everything, [closed_marker, secret_marker, secret_name])]
        failures += [f"{role}: {f}" for f in _search_hits(clients[role], app, word)]
    assert not failures, "Leaks to non-members:\n" + "\n".join(failures)

    # The control: the member does see the marker where it lives (so the sweep can fail).
    member = clients["member"]
    closed_world = worlds["closed"]
    for url in (f"/t/{closed_world['topic']}", f"/api/topics/{closed_world['topic']}", f"/api/posts/{closed_world['reply']}",
                f"/groups/{closed_world['slug']}/forum", f"/api/groups/{closed_world['slug']}/topics",
                f"/groups/{closed_world['slug']}/forum/feed.atom", f"/t/{closed_world['topic']}/feed.atom",
                f"/groups/{closed_world['slug']}/live", "/notifications", "/api/notifications",
                f"/events/{closed_world['event']}", f"/events/{closed_world['event']}.ics",
                f"/groups/{closed_world['slug']}/events", "/events", "/events/calendar.ics",
                f"/blog/{closed_world['blog']}-{closed_world['blog_slug']}", f"/groups/{closed_world['slug']}/blog",
                f"/groups/{closed_world['slug']}/blog/feed.atom", "/blog", "/blog/feed.atom",
                f"/people/{ids['owner']}/blog", f"/people/{ids['owner']}/blog/feed.atom",
                f"/search/community?q={word}"):
        response = member.get(url)
        assert response.status_code == 200 and closed_marker in text(response), f"member does not see the marker at {url}"
    assert secret_name in text(member.get("/groups")) and secret_name in text(member.get(f"/people/{ids['member']}"))
    assert member.get(f"/api/search?q={word}").get_json()["total"] >= 1, "search does not find what a member may read"

    # The owner removes the member through the members page form (real CSRF token).
    slug = closed_world["slug"]
    response = submit(clients["owner"], f"/groups/{slug}/members", {"reason": "test removal"},
                      post_url=f"/groups/{slug}/members/{ids['member']}/remove")
    assert response.status_code == 303, text(response)[:500]

    # The very next request by the removed member: 404 inside, the marker nowhere.
    inside = [CHANNELS[c].format(peer=ids["member"], **closed_world) for c in
              ("members", "forum", "live", "topic", "topic_unread", "permalink", "api_members", "api_topics",
               "api_topic", "api_post", "group_feed", "topic_feed", "edit_reply_form", "post_history", "move_form",
               "new_topic_form", "requests",
               "event", "event_ics", "group_events", "event_edit_form", "event_delete_form", "new_event_form",
               "blog_post", "blog_permalink", "group_blog", "group_blog_feed", "blog_edit_form", "blog_delete_form",
               "new_blog_form", "media_published", "media_published_thumb", "media_published_about", "group_files")]
    wrong = {url: code for url in inside if (code := member.get(url).status_code) != 404}
    assert not wrong, f"the removed member still gets in: {wrong}"
    assert member.get(f"/groups/{slug}").status_code == 200  # the closed landing page stays public
    leaks = _sweep(member, routed(app, channel_urls("closed") + site + profiles), [closed_marker])
    assert not leaks, "Leaks to the removed member:\n" + "\n".join(leaks)
    # E-mail (anchor 14, DESIGN 3): messages about closed content carry a link, never the text.
    for message in outbox(app):
        raw = message.as_string()
        assert closed_marker not in raw and secret_marker not in raw, f"e-mail to {message['To']} carries the content"
    # ...while the secret group they still belong to is untouched (the removal was precise).
    assert secret_marker in text(member.get(f"/t/{worlds['secret']['topic']}"))
    assert secret_marker in text(member.get(f"/events/{worlds['secret']['event']}"))
    assert secret_marker in text(member.get(f"/blog/{worlds['secret']['blog']}-{worlds['secret']['blog_slug']}"))


# ---------------------------------------------------------------------------------------------
# IDOR: every object route that changes something, as someone who is neither author nor moderator.
# ---------------------------------------------------------------------------------------------

# (endpoint, method, url template, form/JSON payload). {pending} {plain} {gmod} {banned} {b} are
# user ids, {dest} a group B moderates (B's own), {seq} a chat message in the group.
# A complete, valid event form: were a check missing, it would really change the event.
EVENT_FORM = {"title": "hacked", "kind": "conference", "description": "hacked", "start_date": "2031-03-01",
              "start_time": "10:00", "end_date": "2031-03-01", "end_time": "12:00", "timezone": "UTC",
              "location": "", "city": "", "country": "", "online_url": "", "centre": "", "visibility": "public"}
ACTIONS = [
    ("forum.edit_post", "POST", "/p/{opening}/edit", {"title": "hacked", "body": "hacked"}),
    ("forum.edit_post", "POST", "/p/{reply}/edit", {"body": "hacked"}),
    ("forum.delete_post", "POST", "/p/{reply}/delete", {}),
    ("forum.delete_post", "POST", "/p/{opening}/delete", {}),
    ("forum.pin_topic", "POST", "/t/{topic}/pin", {"value": "1"}),
    ("forum.lock_topic", "POST", "/t/{topic}/lock", {"value": "1"}),
    ("forum.delete_topic", "POST", "/t/{topic}/delete", {}),
    ("forum.move_topic", "POST", "/t/{topic}/move", {"destination": "g:{dest}", "confirm": "y"}),
    ("forum.api_edit_post", "PATCH", "/api/posts/{reply}", {"body": "hacked"}),
    ("forum.api_edit_post", "PATCH", "/api/posts/{opening}", {"title": "hacked", "body": "hacked"}),
    ("forum.api_delete_post", "DELETE", "/api/posts/{reply}", None),
    ("forum.api_delete_post", "DELETE", "/api/posts/{opening}", None),
    ("groups.edit", "POST", "/groups/{slug}/edit", {"name": "hacked", "description": "hacked", "tags": "",
                                                     "country": "", "network": "", "kind": "open"}),
    ("groups.delete", "POST", "/groups/{slug}/delete", {"confirm_name": "{name}"}),
    ("groups.archive", "POST", "/groups/{slug}/archive", {}),
    ("groups.transfer", "POST", "/groups/{slug}/transfer", {"new_owner": "{b}"}),
    ("groups.decide", "POST", "/groups/{slug}/requests/{pending}/approve", {"reason": ""}),
    ("groups.decide", "POST", "/groups/{slug}/requests/{pending}/deny", {"reason": ""}),
    ("groups.member_action", "POST", "/groups/{slug}/members/{plain}/remove", {"reason": ""}),
    ("groups.member_action", "POST", "/groups/{slug}/members/{plain}/ban", {"reason": ""}),
    ("groups.member_action", "POST", "/groups/{slug}/members/{plain}/promote", {"reason": ""}),
    ("groups.member_action", "POST", "/groups/{slug}/members/{gmod}/demote", {"reason": ""}),
    ("groups.member_action", "POST", "/groups/{slug}/members/{banned}/unban", {"reason": ""}),
    ("groups.member_action", "POST", "/groups/{slug}/members/{b}/promote", {"reason": ""}),
    ("groups.invite", "POST", "/groups/{slug}/invite", {"who": "{b_email}"}),
    ("chat.remove", "POST", "/groups/{slug}/live/{seq}/remove", {}),
    ("chat.to_topic", "POST", "/groups/{slug}/live/{seq}/topic", {"title": "hacked"}),
    # Writing where one may not: refused, and nothing is created.
    ("forum.reply", "POST", "/t/{topic}/reply", {"body": "intrusion"}),
    ("forum.new_group_topic", "POST", "/groups/{slug}/forum/new", {"title": "intrusion", "body": "intrusion"}),
    ("forum.api_create_reply", "POST", "/api/topics/{topic}/replies", {"body": "intrusion"}),
    ("forum.api_create_topic", "POST", "/api/topics", {"group": "{slug}", "title": "intrusion", "body": "intrusion"}),
    ("chat.post", "POST", "/groups/{slug}/live", {"body": "intrusion"}),
    # Site-level objects: categories are the admins'.
    ("forum.admin_edit_category", "POST", "/forum/admin/categories/{category}/edit",
     {"name": "hacked", "description": "", "position": "0"}),
    ("forum.admin_move_category", "POST", "/forum/admin/categories/{category}/move", {"direction": "up"}),
    ("forum.admin_new_category", "POST", "/forum/admin/categories/new", {"name": "hacked", "description": ""}),
    # Events: {event} is the owner's group event, {cancelled} another one the owner cancelled.
    ("agenda.edit", "POST", "/events/{event}/edit", EVENT_FORM),
    ("agenda.cancel", "POST", "/events/{event}/cancel", {}),
    ("agenda.reinstate", "POST", "/events/{cancelled}/reinstate", {}),
    ("agenda.delete", "POST", "/events/{event}/delete", {}),
    ("agenda.new", "POST", "/events/new?group={slug}", EVENT_FORM),
    # Answering is one's own row, so it is tried only where the event is invisible to the caller.
    ("agenda.rsvp", "POST", "/events/{event}/rsvp", {"state": "going"}),
    # Blog posts: {blog} is the owner's published group post, {draft} the owner's draft in the group.
    ("blog.edit", "POST", "/blog/{blog}/edit", {"title": "hacked", "body": "hacked", "visibility": "group"}),
    ("blog.delete", "POST", "/blog/{blog}/delete", {}),
    ("blog.edit", "POST", "/blog/{draft}/edit", {"title": "hacked", "body": "hacked", "visibility": "group"}),
    ("blog.delete", "POST", "/blog/{draft}/delete", {}),
    ("blog.new", "POST", "/blog/new?group={slug}", {"title": "intrusion", "body": "intrusion", "visibility": "group"}),
    # Site-level objects outside the group: the owner's public event and public personal post.
    ("agenda.edit", "POST", "/events/{site_event}/edit", EVENT_FORM),
    ("agenda.cancel", "POST", "/events/{site_event}/cancel", {}),
    ("agenda.delete", "POST", "/events/{site_event}/delete", {}),
    ("blog.edit", "POST", "/blog/{site_blog}/edit", {"title": "hacked", "body": "hacked", "visibility": "private"}),
    ("blog.delete", "POST", "/blog/{site_blog}/delete", {}),
]
# Placeholders of objects that do not live in the group (visible to all: refused with 403 or 404).
SITE_LEVEL = ("{category}", "{site_event}", "{site_blog}")

# POST routes that are not "act on someone else's object", each with why it needs no IDOR row.
ALLOW_LIST = {
    "forum.mark_read": "the caller's own read marker; visibility covered in test_forum.test_idor_sweep_html",
    "forum.watch_topic": "the caller's own subscription; visibility covered in test_forum.test_idor_sweep_html",
    "forum.watch_category": "the caller's own subscription to a public category",
    "forum.new_category_topic": "site-wide categories take topics from any confirmed account",
    "groups.new": "creating one's own group (kinds checked in test_groups)",
    "groups.join": "self-service; the workflow is tested in test_groups_membership",
    "groups.leave": "self-service; only ever the caller's own membership",
    "groups.request_join": "self-service request; approve-own-request is refused via groups.decide above",
    "groups.invitation": "bound to one account/address by token; tested in test_groups_membership",
    "chat.mentions_read": "the caller's own mention markers",
    # agenda.new and blog.new are swept above for a group; without ?group= they create the caller's
    # own event or personal post (who may: test_agenda / test_blog). agenda.rsvp is swept above
    # where the event is invisible; where it is visible the answer is the caller's own row.
}
WRITE_METHODS = {"POST", "PATCH", "DELETE", "PUT"}
# Writing is what members do: these rows are not tried by the member of the target group.
MEMBERS_MAY = {"forum.reply", "forum.new_group_topic", "forum.api_create_reply", "forum.api_create_topic", "chat.post",
               "agenda.new", "agenda.rsvp", "blog.new"}
# The caller's own answer: refused (404, nothing stored) only where the event is invisible to them;
# in an open group anyone signed in may answer.
HIDDEN_ONLY = {"agenda.rsvp"}
SWEPT_BLUEPRINTS = ("forum.", "groups.", "chat.", "agenda.", "blog.")


def test_every_write_route_is_in_the_idor_sweep_or_allow_listed(app):
    writes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(SWEPT_BLUEPRINTS) and rule.methods & WRITE_METHODS}
    swept = {endpoint for endpoint, *_ in ACTIONS}
    missing = writes - swept - set(ALLOW_LIST)
    assert not missing, f"write routes with no IDOR check and no allow-list reason: {sorted(missing)}"
    stale = (swept | set(ALLOW_LIST)) - writes
    assert not stale, f"the sweep names routes that no longer exist: {sorted(stale)}"
    # And every swept URL really reaches its endpoint with that method.
    adapter = app.url_map.bind("localhost")
    for endpoint, method, template, _payload in ACTIONS:
        url = re.sub(r"\{[a-z_]+\}", "1", template).split("?")[0]
        assert adapter.match(url, method=method)[0] == endpoint, (endpoint, url)


_SNAPSHOT_TABLES = ("groups", "group_tags", "memberships", "invitations", "topics", "posts", "post_revisions",
                    "chat_messages", "categories", "membership_log", "events", "event_rsvps", "blog_posts")


def snapshot(app) -> dict:
    """Every row of every table the sweep could touch, as plain tuples."""
    with app.app_context():
        state = {}
        for name in _SNAPSHOT_TABLES:
            table = db.metadata.tables[name]
            rows = db.session.execute(select(table)).all()
            state[name] = sorted(tuple(str(v) for v in r) for r in rows)
        return state


def _diff(before: dict, after: dict) -> list[str]:
    out = []
    for name in before:
        gone = set(before[name]) - set(after[name])
        new = set(after[name]) - set(before[name])
        if gone or new:
            out.append(f"{name}: -{sorted(gone)[:2]} +{sorted(new)[:2]}")
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_idor_sweep_changes_nothing(app, kind):
    from app.chat.services import post_message
    with app.app_context():
        owner = make_user(display_name="Owner " + uuid.uuid4().hex[:6])
        plain = make_user(display_name="Plain " + uuid.uuid4().hex[:6])
        gmod, pending, banned = make_user(), make_user(), make_user()
        outsider = make_user(display_name="Outsider " + uuid.uuid4().hex[:6])
        insider_b = make_user(display_name="Insider " + uuid.uuid4().hex[:6])
        group = make_group(owner, kind=kind, name=f"Target {kind} " + uuid.uuid4().hex[:6])
        for person in (plain, insider_b):
            add_member(group, person)
        add_member(group, gmod, role="moderator")
        add_member(group, pending, state="pending")
        add_member(group, banned, state="banned")
        topic = make_topic(owner, group=group, title="Owner's topic", body="Owner's words")
        reply = make_reply(topic, owner, body="Owner's reply")
        from app.forum.models import Post
        from app.forum.services import create_category
        opening = db.session.scalar(select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))
        category = create_category(name="Category " + uuid.uuid4().hex[:6])
        message = post_message(group, owner, body="Owner's live message")
        from app.agenda.services import cancel_event
        event = make_event(owner, group=group, visibility="group", title="Owner's event")
        cancelled = cancel_event(make_event(owner, group=group, visibility="group", title="Owner's cancelled event"), owner)
        site_event = make_event(owner, title="Owner's public event", visibility="public")
        blog = make_blog_post(owner, group=group, visibility="group", title="Owner's group post", body="Owner's words")
        draft = make_blog_post(owner, group=group, visibility="private", title="Owner's draft", body="Not yet")
        site_blog = make_blog_post(owner, visibility="public", title="Owner's public post", body="Owner's words")
        base = {"slug": group.slug, "name": group.name, "topic": topic.id, "reply": reply.id, "opening": opening,
                "pending": pending.id, "plain": plain.id, "gmod": gmod.id, "banned": banned.id,
                "seq": message.seq, "category": category.id, "event": event.id, "cancelled": cancelled.id,
                "site_event": site_event.id, "blog": blog.id, "draft": draft.id, "site_blog": site_blog.id}
        attackers, base_owner = {}, owner.id
        # The pending requester tries to approve their own request; the banned one to lift their own ban.
        for label, user in (("outsider", outsider), ("member", insider_b), ("requester", pending), ("banned", banned)):
            own = make_group(user, kind="open", name=f"{label} own " + uuid.uuid4().hex[:6])  # B moderates this
            attackers[label] = (user.id, user.email, own.id)
    before = snapshot(app)
    failures = []
    for label, (b_id, b_email, dest) in attackers.items():
        with app.app_context():
            from app.accounts.models import User
            client = login_as(app.test_client(), db.session.get(User, b_id))
        token = get_csrf(client, "/")
        values = {**base, "b": b_id, "b_email": b_email, "dest": dest}
        for endpoint, method, template, payload in ACTIONS:
            if label == "member" and endpoint in MEMBERS_MAY:
                continue
            if endpoint in HIDDEN_ONLY and kind == "open":
                continue
            url = template.format(**values)
            filled = None if payload is None else {k: v.format(**values) for k, v in payload.items()}
            if endpoint.startswith("forum.api_"):
                response = client.open(url, method=method, json=filled,
                                       headers={"X-CSRFToken": token, "Accept": "application/json"})
                if not response.is_json:
                    failures.append(f"{label} {method} {url}: JSON API answered {response.content_type}")
            else:
                response = client.open(url, method=method, data={**(filled or {}), "csrf_token": token})
            code = response.status_code
            site_level = endpoint.startswith("forum.admin") or any(key in template for key in SITE_LEVEL)
            hidden = kind != "open" and label != "member" and not site_level
            allowed = {404} if hidden else {403, 404}
            if code not in allowed:
                failures.append(f"{label} {method} {url} ({endpoint}): {code}, expected {sorted(allowed)}")
            after = snapshot(app)
            changed = _diff(before, after)
            if changed:
                failures.append(f"{label} {method} {url} ({endpoint}) CHANGED THE DATABASE: {changed}")
                before = after
    assert not failures, f"IDOR sweep on a {kind} group:\n" + "\n".join(failures)

    # The control: the same requests from the owner do change the database (the sweep can fail).
    with app.app_context():
        from app.accounts.models import User
        owner_client = login_as(app.test_client(), db.session.get(User, base_owner))
    token = get_csrf(owner_client, "/")
    assert owner_client.post(f"/t/{base['topic']}/pin", data={"value": "1", "csrf_token": token}).status_code == 302
    response = owner_client.patch(f"/api/posts/{base['reply']}", json={"body": "edited by the owner"},
                                  headers={"X-CSRFToken": token})
    assert response.status_code == 200
    # ...and so do the sweep's own event and blog rows, payloads unchanged (they are valid forms).
    for endpoint, method, template, payload in ACTIONS:
        if endpoint in ("agenda.edit", "blog.edit") and "{site_" not in template and "{draft}" not in template:
            filled = {k: v.format(**base) for k, v in payload.items()}
            response = owner_client.open(template.format(**base), method=method, data={**filled, "csrf_token": token})
            assert response.status_code == 303, (endpoint, response.status_code, text(response)[:300])
    changed = _diff(before, snapshot(app))
    for table in ("topics", "posts", "events", "blog_posts"):
        assert any(c.startswith(table + ":") for c in changed), (table, changed)


# ---------------------------------------------------------------------------------------------
# Field-level: forms and JSON ignore what the caller may not set (anchor 16).
# ---------------------------------------------------------------------------------------------

def test_fields_one_may_not_set_are_ignored(app):
    from app.forum.models import Post, Topic
    from app.groups.models import Group
    with app.app_context():
        owner, author, stranger = make_user(), make_user(), make_user()
        group = make_group(owner, kind="closed", name="Fields " + uuid.uuid4().hex[:6])
        other = make_group(stranger, kind="secret", name="Elsewhere " + uuid.uuid4().hex[:6])
        add_member(group, author)
        topic = make_topic(owner, group=group, title="The owner's title")
        reply = make_reply(topic, author, body="My reply")
        ids = {"owner": owner.id, "author": author.id, "stranger": stranger.id, "group": group.id,
               "other": other.id, "topic": topic.id, "reply": reply.id, "slug": group.slug, "other_slug": other.slug}
    with app.app_context():
        from app.accounts.models import User
        author_client = login_as(app.test_client(), db.session.get(User, ids["author"]))
        owner_client = login_as(app.test_client(), db.session.get(User, ids["owner"]))
    token = get_csrf(author_client, "/")
    # The author of a reply edits it, smuggling a title, a new author, topic and group.
    response = author_client.patch(f"/api/posts/{ids['reply']}", headers={"X-CSRFToken": token}, json={
        "body": "My edited reply", "title": "Hijacked title", "author_id": ids["stranger"],
        "topic_id": 999, "group": ids["other_slug"], "group_id": ids["other"], "number": 1})
    assert response.status_code == 200, response.get_json()
    response = author_client.post(f"/p/{ids['reply']}/edit", data={
        "body": "Edited again", "title": "Hijacked by form", "author_id": ids["stranger"], "csrf_token": token})
    assert response.status_code == 302
    # The group's owner edits the group, smuggling an owner, an archive date and a slug.
    response = submit(owner_client, f"/groups/{ids['slug']}/edit", {
        "name": "Fields renamed", "description": "", "tags": "", "country": "", "network": "", "kind": "closed",
        "owner_id": ids["stranger"], "archived_at": "2020-01-01", "slug": "taken-over"})
    assert response.status_code == 303, text(response)[:300]
    with app.app_context():
        post = db.session.get(Post, ids["reply"])
        topic = db.session.get(Topic, ids["topic"])
        group = db.session.get(Group, ids["group"])
        assert post.body == "Edited again" and post.author_id == ids["author"] and post.topic_id == ids["topic"]
        assert topic.title == "The owner's title" and topic.group_id == ids["group"] and topic.author_id == ids["owner"]
        assert group.name == "Fields renamed" and group.owner_id == ids["owner"]
        assert group.archived_at is None and group.slug == ids["slug"] and group.kind == "closed"


# ---------------------------------------------------------------------------------------------
# Taken down means gone from every channel: a removed reply, edited-away words, a deleted topic,
# and a group turned secret after it was open.
# ---------------------------------------------------------------------------------------------

def test_taken_down_text_leaves_no_trace_on_any_channel(app):
    from app.forum.services import delete_post, delete_topic, edit_post
    from app.groups.services import update_group
    removed, edited, gone, hidden = ("td" + uuid.uuid4().hex for _ in range(4))
    word, control = "zw" + uuid.uuid4().hex[:10], "zc" + uuid.uuid4().hex[:10]
    with app.test_request_context():
        owner, author, outsider = make_user(), make_user(), make_user()
        staff = make_user(site_role="admin")
        group = make_group(owner, kind="open", name="Open " + uuid.uuid4().hex[:6])
        add_member(group, author)
        topic = make_topic(owner, group=group, title="A plain title", body=f"plain {control}")
        first = make_reply(topic, author, body=f"{removed} {word}")
        delete_post(first, author)
        second = make_reply(topic, author, body=f"{edited} {word}")
        edit_post(second, author, body="Nothing to see any more.")
        doomed = make_topic(owner, group=group, title=f"Doomed {gone}", body=f"{gone} {word}")
        delete_topic(doomed, staff)
        later = make_group(owner, kind="open", name="Later secret " + uuid.uuid4().hex[:6])
        make_topic(owner, group=later, title=f"Soon hidden {hidden}", body=f"{hidden} {word}")
        update_group(later, staff, name=later.name, description="", tags="", country=None, network="", kind="secret")
        ids = {"topic": topic.id, "first": first.id, "second": second.id, "doomed": doomed.id, "slug": group.slug,
               "later": later.slug, "outsider": outsider.id, "author": author.id}
    with app.app_context():
        from app.accounts.models import User
        outsider_client = login_as(app.test_client(), db.session.get(User, ids["outsider"]))
    urls = routed(app, [
        "/", "/forum", "/groups", "/api/groups", f"/t/{ids['topic']}", f"/api/topics/{ids['topic']}",
        f"/api/posts/{ids['first']}", f"/api/posts/{ids['second']}", f"/p/{ids['first']}", f"/t/{ids['doomed']}",
        f"/api/topics/{ids['doomed']}", f"/t/{ids['topic']}/feed.atom", f"/groups/{ids['slug']}/forum/feed.atom",
        f"/groups/{ids['slug']}/forum", f"/api/groups/{ids['slug']}/topics", f"/groups/{ids['slug']}",
        f"/groups/{ids['later']}/forum", f"/people/{ids['author']}", "/notifications",
        f"/search?q={word}", f"/api/search?q={word}", f"/search/suggest?q={word[:6]}"])
    failures = []
    for name, client in (("visitor", app.test_client()), ("outsider", outsider_client)):
        failures += [f"{name}: {f}" for f in _sweep(client, urls, [removed, edited, gone, hidden])]
        failures += [f"{name}: {f}" for f in _search_hits(client, app, word)]
    assert not failures, "Taken-down text still shows:\n" + "\n".join(failures)
    # The control: what is still there is found (so the sweep above can fail).
    assert control in text(outsider_client.get(f"/t/{ids['topic']}"))
    assert outsider_client.get(f"/api/search?q={control}").get_json()["total"] >= 1

"""Who may see a media file (DESIGN 3: "Media inherits from what it is attached to"; the rule in
app/policy/media.py), on every channel that gives out a file or something about it.

* ``test_media_channels``: role x group kind x state, for the file, both thumbnails, the JSON
  item and the about page: 200 exactly where the rule says, 404 (and nothing about the file)
  everywhere else. One world per module (the cells only GET).
* ``test_three_forms_agree``: ``can_view(user, media)`` == (media in ``visible(select(Media))``)
  for every fixture user and every file of the world.
* Group files pages, deleting a file (gone from disk with its thumbnails, the post that showed it
  says "[file removed]"), and the marker sweep: a closed group's file whose title, alt text,
  description and file name carry a unique marker never reaches a non-member on any channel.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.extensions import db
from app.media.models import Media
from tests.conftest import build_app, release_app
from tests.factories import (add_member, browser, here, login_as, make_blog_post, make_group, make_reply, make_topic,
                             make_user, make_viewers, person, text)
from tests.test_access_matrix import SITE_WIDE, _search_hits, _sweep, routed
from tests.test_media_gauntlet import files_on_disk, png, stored_path, uploaded

ROLES = ("visitor", "outsider", "pending", "member", "group_mod", "site_mod", "owner")
KINDS = ("open", "closed", "secret")
STATES = ("shared", "blog_published", "blog_draft", "removed_reply", "library", "foreign")
CHANNELS = {"file": "/media/{id}", "thumb_small": "/media/{id}/thumb/small", "thumb_large": "/media/{id}/thumb/large",
            "api": "/api/media/{id}", "about": "/media/{id}/about"}


def row(*codes) -> dict:
    """visitor outsider pending member group_mod site_mod owner"""
    assert len(codes) == len(ROLES)
    return dict(zip(ROLES, codes))


EVERYONE = row(200, 200, 200, 200, 200, 200, 200)
INSIDERS = row(404, 404, 404, 200, 200, 200, 200)  # like the group's forum
OWNER_ONLY = row(404, 404, 404, 404, 404, 200, 200)  # the library; staff see everything
STAFF_ONLY = row(404, 404, 404, 404, 404, 200, 404)  # someone else's file: not even "my" post shows it

EXPECTED = {
    # Shared to the group: exactly like the group's forum.
    ("shared", "open"): EVERYONE, ("shared", "closed"): INSIDERS, ("shared", "secret"): INSIDERS,
    # Embedded in a published group blog post: wherever the post is visible.
    ("blog_published", "open"): EVERYONE, ("blog_published", "closed"): INSIDERS,
    ("blog_published", "secret"): INSIDERS,
    # A draft grants nothing beyond its author; a removed reply grants nothing at all.
    ("blog_draft", "open"): OWNER_ONLY, ("blog_draft", "closed"): OWNER_ONLY, ("blog_draft", "secret"): OWNER_ONLY,
    ("removed_reply", "open"): OWNER_ONLY, ("removed_reply", "closed"): OWNER_ONLY,
    ("removed_reply", "secret"): OWNER_ONLY,
    ("library", "open"): OWNER_ONLY, ("library", "closed"): OWNER_ONLY, ("library", "secret"): OWNER_ONLY,
    # A stranger's file referenced in the owner's published post (and topic) in the group: the
    # renderer resolves only the author's own files, so the reference grants nothing.
    ("foreign", "open"): STAFF_ONLY, ("foreign", "closed"): STAFF_ONLY, ("foreign", "secret"): STAFF_ONLY,
}


def _upload(owner, tag, label, *, group=None):
    from app.media.services import upload
    return upload(owner, f"{label}-{tag}.png", png(16, 12), title=f"{label} {tag}", alt=f"{label} alt {tag}",
                  description=f"{label} description {tag}", group=group)


def build_world(app) -> dict:
    from app.forum.services import delete_post
    tag = uuid.uuid4().hex[:10]
    with app.test_request_context():
        owner = make_user(display_name=f"Owner {tag}")
        stranger = make_user(display_name=f"Stranger {tag}")
        people = {"owner": owner, "outsider": make_user(), "pending": make_user(), "member": make_user(),
                  "group_mod": make_user(), "site_mod": make_user(site_role="moderator")}
        world = {"tag": tag, "users": {name: u.id for name, u in people.items()}, "stranger": stranger.id,
                 "groups": {}, "media": {}}
        for kind in KINDS:
            group = make_group(owner, kind=kind, name=f"{kind.title()} files {tag}")
            add_member(group, people["member"])
            add_member(group, people["group_mod"], role="moderator")
            add_member(group, people["pending"], state="pending")
            media = {state: _upload(owner, tag, f"{kind}-{state}") for state in STATES if state != "foreign"}
            media["shared"] = _upload(owner, tag, f"{kind}-shared-g", group=group)
            media["foreign"] = _upload(stranger, tag, f"{kind}-foreign")
            make_blog_post(owner, group=group, visibility="group", title=f"{kind} published {tag}",
                           body=f"Look: ![a photo](/media/{media['blog_published'].id})")
            make_blog_post(owner, group=group, visibility="private", title=f"{kind} draft {tag}",
                           body=f"Soon: ![a photo](/media/{media['blog_draft'].id})")
            topic = make_topic(owner, group=group, title=f"{kind} topic {tag}", body="Photos of the meeting")
            reply = make_reply(topic, owner, body=f"Here: ![a photo](/media/{media['removed_reply'].id})")
            delete_post(reply, owner)
            # "My public post" referencing someone else's file: a published blog post and a topic.
            make_blog_post(owner, group=group, visibility="group", title=f"{kind} borrowed {tag}",
                           body=f"Borrowed: ![their photo](/media/{media['foreign'].id})")
            make_reply(topic, owner, body=f"Borrowed too: ![their photo](/media/{media['foreign'].id})")
            world["groups"][kind] = {"id": group.id, "slug": group.slug, "topic": topic.id}
            world["media"][kind] = {state: m.id for state, m in media.items()}
        # And in a public blog post outside any group: still nothing.
        public = make_blog_post(owner, visibility="public", title=f"Public borrowed {tag}",
                                body=f"![their photo](/media/{world['media']['open']['foreign']})")
        world["public_post"] = public.id
    return world


def clients_for(app, world) -> dict:
    from app.accounts.models import User
    clients = {"visitor": app.test_client()}
    with app.app_context():
        for role, ident in world["users"].items():
            clients[role] = login_as(app.test_client(), db.session.get(User, ident))
    return clients


@pytest.fixture(scope="module")
def _module_world(tmp_path_factory, pg_database):
    app = build_app(tmp_path_factory.mktemp("media_access"), pg_database)
    holder = {"app": app, "world": None}
    yield holder
    release_app(app, pg_database)


@pytest.fixture
def world(_module_world):
    app = _module_world["app"]
    current = _module_world["world"]
    if current is not None:
        with app.app_context():
            if db.session.get(Media, current["media"]["secret"]["shared"]) is None:
                current = None  # a shared PostgreSQL database was emptied by another test
    if current is None:
        current = build_world(app)
        current["clients"] = clients_for(app, current)
        _module_world["world"] = current
    return app, current


def test_the_table_is_complete():
    assert set(EXPECTED) == {(s, k) for s in STATES for k in KINDS}
    assert all(set(v) == set(ROLES) for v in EXPECTED.values())


CELLS = [(state, kind, role) for state in STATES for kind in KINDS for role in ROLES]


@pytest.mark.parametrize("state,kind,role", CELLS, ids=["-".join(c) for c in CELLS])
def test_media_channels(world, state, kind, role):
    app, w = world
    media_id = w["media"][kind][state]
    expected = EXPECTED[(state, kind)][role]
    client = w["clients"][role]
    label = f"{kind}-{state}"
    for channel, template in CHANNELS.items():
        url = template.format(id=media_id)
        response = client.get(url)
        assert response.status_code == expected, f"{role} GET {url} ({channel}, {state} in a {kind} group): " \
                                                  f"{response.status_code}, expected {expected}"
        body = response.get_data()
        if expected == 404:
            assert label.encode() not in body, f"{url}: the 404 names the file"
        elif channel == "file":
            assert body.startswith(b"\x89PNG") and response.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in response.headers["Content-Security-Policy"]
            assert ("private" in response.headers["Cache-Control"]) == (role != "visitor")
        elif channel.startswith("thumb"):
            assert body[:4] == b"RIFF" and body[8:12] == b"WEBP", f"{url}: not the WebP thumbnail"
        elif channel == "api":
            assert response.get_json()["id"] == media_id
        else:
            assert label in text(response)


def test_the_about_page_lists_places_only_when_visible(world):
    """The about page names the places that show a file to those who may see the place: a
    member sees the group's published post; the site moderator sees the draft."""
    app, w = world
    about = text(w["clients"]["member"].get(f"/media/{w['media']['closed']['blog_published']}/about"))
    assert f"closed published {w['tag']}" in about
    # The draft is listed for the site moderator (who may see it) and not for the member (404 anyway).
    about = text(w["clients"]["site_mod"].get(f"/media/{w['media']['closed']['blog_draft']}/about"))
    assert f"closed draft {w['tag']}" in about


def test_three_forms_agree(world):
    """can_view == membership in visible() for every fixture viewer (make_viewers: visitor,
    outsider, unconfirmed, staff, pending/member/moderator/banned in all three groups) and the
    world's own people, over every file of the world."""
    from app import policy
    from app.accounts.models import User
    from app.groups.models import Group
    app, w = world
    with app.test_request_context():
        groups = [db.session.get(Group, w["groups"][k]["id"]) for k in KINDS]
        viewers = make_viewers(groups)
        viewers.update({role: db.session.get(User, ident) for role, ident in w["users"].items()})
        viewers["stranger"] = db.session.get(User, w["stranger"])
        every = db.session.scalars(select(Media)).all()
        assert len(every) >= len(KINDS) * len(STATES)
        mismatches = []
        for name, user in viewers.items():
            policy.forget()
            listed = set(db.session.scalars(policy.visible(select(Media.id), user, Media)))
            for media in every:
                if policy.can_view(user, media) != (media.id in listed):
                    mismatches.append(f"{name} / media {media.id} ({media.title}): can_view="
                                      f"{policy.can_view(user, media)}, visible={media.id in listed}")
        assert not mismatches, "\n".join(mismatches[:20])
        # And the stranger sees their own file (the control for STAFF_ONLY).
        assert policy.can_view(viewers["stranger"], db.session.get(Media, w["media"]["closed"]["foreign"]))


GROUP_FILES = {"open": EVERYONE, "closed": INSIDERS, "secret": INSIDERS}


@pytest.mark.parametrize("kind", KINDS)
def test_group_files_page(world, kind):
    app, w = world
    url = f"/groups/{w['groups'][kind]['slug']}/files"
    title = f"{kind}-shared-g {w['tag']}"
    for role in ROLES:
        response = w["clients"][role].get(url)
        expected = GROUP_FILES[kind][role]
        assert response.status_code == expected, (role, url, response.status_code)
        assert (title in text(response)) == (expected == 200), (role, url)
        # Only the files shared to the group are listed there (not the owner's library).
        assert f"{kind}-library {w['tag']}" not in text(response)


def test_deleting_a_file_removes_it_everywhere(app):
    """The file and both thumbnails leave the disk; the post that embedded it says "[file removed]";
    the file's URLs answer 404 even to its former owner."""
    owner = person(app)
    group = None
    client = browser(app, owner)
    item = uploaded(client, "gone.png", png(), alt="A photo soon gone")
    with app.test_request_context():
        post = make_blog_post(here(owner), visibility="public", title="Soon empty", body=f"![gone](/media/{item['id']})")
        post_id, slug = post.id, post.slug
    paths = [stored_path(app, item["id"], variant) for variant in (None, "small", "large")]
    assert all(p.exists() for p in paths)
    page = text(app.test_client().get(f"/blog/{post_id}-{slug}"))
    assert f"/media/{item['id']}" in page and "[file removed]" not in page
    assert app.test_client().get(item["url"]).status_code == 200  # a public post shows it to visitors
    form = client.get(f"/media/{item['id']}/delete")
    assert form.status_code == 200
    from tests.factories import csrf_from
    response = client.post(f"/media/{item['id']}/delete", data={"csrf_token": csrf_from(text(form))})
    assert response.status_code == 303
    assert not any(p.exists() for p in paths) and files_on_disk(app) == []
    page = text(app.test_client().get(f"/blog/{post_id}-{slug}"))
    assert "[file removed]" in page and f"/media/{item['id']}" not in page
    for url in (item["url"], f"/media/{item['id']}/thumb/small", f"/media/{item['id']}/thumb/large",
                f"/api/media/{item['id']}", f"/media/{item['id']}/about"):
        assert client.get(url).status_code == 404, url
    assert group is None


def test_a_closed_group_file_marker_never_reaches_a_non_member(app):
    """The marker in the title, alt text, description and original file name of a file shared to
    a closed group and embedded in the group's published blog post and a topic: no page, API,
    feed or search answer reachable by a visitor, an outsider or a pending member shows it."""
    marker = "mk" + uuid.uuid4().hex
    word = "zm" + uuid.uuid4().hex[:10]
    with app.test_request_context():
        from app.media.services import upload
        owner, outsider, pending, member_ = make_user(), make_user(), make_user(), make_user()
        group = make_group(owner, kind="closed", name="Quiet files " + uuid.uuid4().hex[:6])
        add_member(group, pending, state="pending")
        add_member(group, member_)
        media = upload(owner, f"{marker}.png", png(), title=f"Title {marker} {word}", alt=f"Alt {marker} {word}",
                       description=f"Described {marker} {word}", group=group)
        post = make_blog_post(owner, group=group, visibility="group", title=f"Group post {word}",
                              body=f"![]( /media/{media.id})\n\n![Photo {marker}](/media/{media.id}) {word}")
        topic = make_topic(owner, group=group, title=f"Group topic {word}", body=f"![](/media/{media.id}) {word}")
        ids = {"media": media.id, "post": post.id, "slug": group.slug, "owner": owner.id, "topic": topic.id,
               "blog_slug": post.slug, "outsider": outsider.id, "pending": pending.id, "member": member_.id}
    urls = routed(app, [u.format(word=word, prefix=word[:6]) for u in SITE_WIDE] + [
        f"/media/{ids['media']}", f"/media/{ids['media']}/about", f"/media/{ids['media']}/thumb/small",
        f"/media/{ids['media']}/thumb/large", f"/api/media/{ids['media']}", f"/media/{ids['media']}/edit",
        f"/media/{ids['media']}/delete", "/media", "/api/media", f"/groups/{ids['slug']}",
        f"/groups/{ids['slug']}/files", f"/api/groups/{ids['slug']}", f"/groups/{ids['slug']}/blog",
        f"/groups/{ids['slug']}/blog/feed.atom", f"/blog/{ids['post']}", f"/blog/{ids['post']}-{ids['blog_slug']}",
        f"/t/{ids['topic']}", f"/api/topics/{ids['topic']}", f"/people/{ids['owner']}", f"/people/{ids['owner']}/blog",])
    from app.accounts.models import User
    with app.app_context():
        clients = {"visitor": app.test_client()}
        for role in ("outsider", "pending", "member"):
            clients[role] = login_as(app.test_client(), db.session.get(User, ids[role]))
    failures = []
    for role in ("visitor", "outsider", "pending"):
        failures += [f"{role}: {f}" for f in _sweep(clients[role], urls, [marker])]
        failures += [f"{role}: {f}" for f in _search_hits(clients[role], app, word)]
    assert not failures, "The closed group's file leaks:\n" + "\n".join(failures)
    # The control: a member sees the marker where the file lives (so the sweep can fail).
    member = clients["member"]
    assert marker in text(member.get(f"/media/{ids['media']}/about"))
    assert marker in text(member.get(f"/groups/{ids['slug']}/files"))
    assert member.get(f"/api/media/{ids['media']}").get_json()["original_name"] == f"{marker}.png"

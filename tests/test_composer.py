"""The composer's API through HTTP, as its script calls it: drafts (private to their writer,
validated, CSRF-protected), the preview (the server's own sanitiser) and mention suggestions
(never a member list of a group the writer cannot see)."""
import re
from html.parser import HTMLParser

import pytest

from app.accounts.models import User
from app.composer import routes as composer_routes
from app.composer.models import Draft
from app.core.text import BODY_MAX
from app.extensions import db
from app.forum.models import Post
from tests.factories import (PAYLOADBOX, a_category, a_group, a_topic, api, browser, count, get_csrf, loaded, member,
                             person, post, text)


def draft_of(client, place):
    return client.get(f"/api/drafts/{place}", headers={"Accept": "application/json"})


# --- drafts ---------------------------------------------------------------------------------

def test_a_draft_is_saved_read_back_replaced_and_forgotten(app):
    alice = person(app)
    client = browser(app, alice)
    assert draft_of(client, "topic:42").status_code == 204  # none yet: not an error

    assert api(client, "PUT", "/api/drafts/topic:42", {"body": "Half a **reply**"}).status_code == 204
    answer = draft_of(client, "topic:42")
    assert answer.status_code == 200
    assert answer.get_json()["body"] == "Half a **reply**"
    assert answer.get_json()["updated_at"].endswith("Z")

    assert api(client, "PUT", "/api/drafts/topic:42", {"body": "The whole reply"}).status_code == 204
    assert draft_of(client, "topic:42").get_json()["body"] == "The whole reply"
    assert count(app, Draft) == 1  # one row per person and place

    assert api(client, "PUT", "/api/drafts/topic:42", {"body": "   "}).status_code == 204  # emptied: forgotten
    assert draft_of(client, "topic:42").status_code == 204
    assert count(app, Draft) == 0

    api(client, "PUT", "/api/drafts/topic:new:group:my-group", {"body": "A new topic"})
    assert api(client, "DELETE", "/api/drafts/topic:new:group:my-group").status_code == 204
    assert draft_of(client, "topic:new:group:my-group").status_code == 204
    assert api(client, "DELETE", "/api/drafts/topic:new:group:my-group").status_code == 204  # idempotent


def test_drafts_are_per_place(app):
    client = browser(app, person(app))
    api(client, "PUT", "/api/drafts/topic:1", {"body": "one"})
    api(client, "PUT", "/api/drafts/chat:living-well", {"body": "two"})
    assert draft_of(client, "topic:1").get_json()["body"] == "one"
    assert draft_of(client, "chat:living-well").get_json()["body"] == "two"


def test_nobody_reads_or_overwrites_someone_elses_draft(app):
    alice, bob = person(app), person(app)
    alice_client, bob_client = browser(app, alice), browser(app, bob)
    api(alice_client, "PUT", "/api/drafts/topic:7", {"body": "Alice's private words"})

    answer = draft_of(bob_client, "topic:7")
    assert answer.status_code == 204 and b"Alice" not in answer.data
    api(bob_client, "PUT", "/api/drafts/topic:7", {"body": "Bob's words"})
    api(bob_client, "DELETE", "/api/drafts/topic:7")
    assert draft_of(alice_client, "topic:7").get_json()["body"] == "Alice's private words"
    # The URL names a place, never a draft: there is no id to guess.
    with app.app_context():
        draft_id = db.session.scalar(db.select(Draft.id))
    assert bob_client.get(f"/api/drafts/{draft_id}").status_code == 400


@pytest.mark.parametrize("place", ["Topic:1", "topic:", "topic:1:2:3:4", "topic/1", "topic:a_b", "topic:<script>",
                                   "top ic", "topic:%00", ":1", "1", "t" * 121, "topic:" + "a" * 115])
def test_a_place_that_is_not_a_place_is_refused(app, place):
    client = browser(app, person(app))
    for method in ("GET", "PUT", "DELETE"):
        answer = api(client, method, f"/api/drafts/{place}", {"body": "x"} if method == "PUT" else None)
        assert answer.status_code in (400, 404), (method, place)
        assert answer.is_json
    assert count(app, Draft) == 0


def test_a_draft_body_must_be_text_and_not_too_long(app):
    client = browser(app, person(app))
    too_long = api(client, "PUT", "/api/drafts/topic:1", {"body": "x" * (BODY_MAX + 1)})
    assert too_long.status_code == 413
    assert str(BODY_MAX) in too_long.get_json()["error"]["message"]
    assert api(client, "PUT", "/api/drafts/topic:1", {"body": ["a list"]}).status_code == 400
    assert api(client, "PUT", "/api/drafts/topic:1", {"body": 12}).status_code == 400
    raw = client.put("/api/drafts/topic:1", data="body=x", headers={"X-CSRFToken": client._csrf})
    assert raw.status_code == 400 and raw.is_json
    assert count(app, Draft) == 0
    # The longest allowed body is kept whole; characters no database or feed can hold are dropped.
    assert api(client, "PUT", "/api/drafts/topic:1", {"body": "y" * BODY_MAX}).status_code == 204
    api(client, "PUT", "/api/drafts/topic:2", {"body": "nul\x00here\r\nnext"})
    assert draft_of(client, "topic:2").get_json()["body"] == "nulhere\nnext"


def test_writes_need_the_csrf_token(app):
    client = browser(app, person(app))
    assert client.put("/api/drafts/topic:1", json={"body": "x"}).status_code == 400
    assert client.delete("/api/drafts/topic:1").status_code == 400
    assert client.post("/api/preview", json={"body": "x"}).status_code == 400
    assert count(app, Draft) == 0


def test_signed_out_visitors_get_401(app):
    client = app.test_client()
    token = get_csrf(client, "/login")
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    assert client.get("/api/drafts/topic:1", headers=headers).status_code == 401
    assert client.put("/api/drafts/topic:1", json={"body": "x"}, headers=headers).status_code == 401
    assert client.delete("/api/drafts/topic:1", headers=headers).status_code == 401
    assert client.post("/api/preview", json={"body": "x"}, headers=headers).status_code == 401
    assert client.get("/api/mentions?q=a", headers=headers).status_code == 401
    assert count(app, Draft) == 0


def test_a_suspended_account_can_no_longer_use_its_drafts(app):
    alice = person(app)
    client = browser(app, alice)
    api(client, "PUT", "/api/drafts/topic:1", {"body": "x"})
    with app.app_context():
        db.session.get(User, alice.id).is_active_account = False
        db.session.commit()
    assert draft_of(client, "topic:1").status_code in (401, 403)
    assert api(client, "PUT", "/api/drafts/topic:1", {"body": "y"}).status_code in (401, 403)


def test_one_person_keeps_a_bounded_number_of_drafts(app, monkeypatch):
    monkeypatch.setattr(composer_routes, "MAX_DRAFTS", 3)
    client = browser(app, person(app))
    for n in range(1, 6):
        assert api(client, "PUT", f"/api/drafts/topic:{n}", {"body": f"draft {n}"}).status_code == 204
    assert count(app, Draft) == 3
    assert draft_of(client, "topic:1").status_code == 204  # the oldest went first
    assert draft_of(client, "topic:5").get_json()["body"] == "draft 5"


def test_saving_drafts_is_rate_limited_per_account(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_COMPOSER="3 per minute")
    client = browser(app, person(app))
    codes = [api(client, "PUT", "/api/drafts/topic:1", {"body": f"v{n}"}).status_code for n in range(4)]
    assert codes == [204, 204, 204, 429]
    other = browser(app, person(app))  # someone else behind the same address is not slowed down
    assert api(other, "PUT", "/api/drafts/topic:1", {"body": "mine"}).status_code == 204


# --- preview --------------------------------------------------------------------------------

def test_the_preview_is_the_servers_rendering(app):
    bob = person(app, display_name="Bob Baker")
    client = browser(app, person(app))
    html = api(client, "POST", "/api/preview", {"body": "**Strong** and *soft*\n\n- one\n- two\n\n> quoted\n\n@[Bob Baker]"}
               ).get_json()["html"]
    assert "<strong>Strong</strong>" in html and "<em>soft</em>" in html
    assert "<li>one</li>" in html and "<blockquote>" in html
    assert f'href="/people/{bob.id}"' in html


NAUGHTY = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
           "<a href=\"javascript:alert(1)\">x</a>", "<iframe src=//evil.example></iframe>",
           "<svg onload=alert(1)>", "<style>body{display:none}</style>", "![x](javascript:alert(1))"]
FORBIDDEN = {"script", "style", "iframe", "svg", "math", "object", "embed", "form", "base", "meta", "link",
             "textarea", "input", "button"}


class Elements(HTMLParser):
    """The elements and attributes a browser would build from the preview."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))

    handle_startendtag = handle_starttag


def unsafe(html: str) -> list[str]:
    parser = Elements()
    parser.feed(html)
    parser.close()
    bad = [f"<{tag}>" for tag, _ in parser.found if tag in FORBIDDEN]
    for tag, attrs in parser.found:
        for name, value in attrs:
            url = re.sub(r"[\x00-\x20]+", "", value or "").lower()
            if name.startswith("on") or (name in ("href", "src") and url.startswith(("javascript:", "data:", "vbscript:"))):
                bad.append(f"{name}={value!r} on <{tag}>")
    return bad


@pytest.mark.parametrize("body", NAUGHTY + PAYLOADBOX[::97])
def test_the_preview_never_returns_live_html_from_the_text(app, body):
    client = browser(app, person(app))
    answer = api(client, "POST", "/api/preview", {"body": body})
    assert answer.status_code == 200
    assert unsafe(answer.get_json()["html"]) == [], body


def test_the_unsafe_checker_can_fail():
    assert unsafe('<p><img src=x onerror="alert(1)"></p><a href=" javascript:x">a</a><script></script>') == [
        "<script>", "onerror='alert(1)' on <img>", "href=' javascript:x' on <a>"]
    assert unsafe("<p>&lt;script&gt; onerror=alert(1)</p>") == []


def test_the_preview_has_the_same_limits_as_a_post(app):
    client = browser(app, person(app))
    assert api(client, "POST", "/api/preview", {"body": "x" * (BODY_MAX + 1)}).status_code == 413
    assert api(client, "POST", "/api/preview", {"body": None}).status_code == 400
    assert api(client, "POST", "/api/preview", {}).get_json() == {"html": ""}


# --- mention suggestions --------------------------------------------------------------------

def names(client, q, place=None):
    query = {"q": q} if place is None else {"q": q, "place": place}
    answer = client.get("/api/mentions", query_string=query, headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.data[:200]
    return [p["name"] for p in answer.get_json()["people"]]


def test_suggestions_match_the_start_of_a_name_or_of_a_word_in_it(app):
    clara = person(app, display_name="Dr Clara Klein")
    person(app, display_name="Clarissa Moss")
    person(app, display_name="Ben Birch")
    client = browser(app, person(app, display_name="Writer"))
    assert names(client, "cla") == ["Clarissa Moss", "Dr Clara Klein"]
    assert names(client, "KLE") == ["Dr Clara Klein"]
    assert names(client, "") == []
    people = client.get("/api/mentions?q=Dr").get_json()["people"]
    assert people == [{"id": clara.id, "name": "Dr Clara Klein", "url": f"/people/{clara.id}"}]


def test_like_wildcards_match_themselves(app):
    person(app, display_name="Ann Lee")
    person(app, display_name="50% Club")
    client = browser(app, person(app))
    assert names(client, "50%") == ["50% Club"]
    assert names(client, "5%b") == []  # as a wildcard, "%" would have matched "50% Club"
    assert names(client, "_") == []
    assert names(client, "A%") == []


def test_suggestions_leave_out_closed_accounts_and_the_writer_and_stop_at_eight(app):
    person(app, display_name="Ghost Gone", active=False)
    writer = person(app, display_name="Ghost Writer")
    for n in range(10):
        person(app, display_name=f"Ghost {n}")
    client = browser(app, writer)
    found = names(client, "ghost")
    assert len(found) == 8
    assert "Ghost Gone" not in found and "Ghost Writer" not in found


def closed_group(app, kind="closed"):
    owner = person(app, display_name="Olga Owner")
    group = a_group(app, owner, kind=kind)
    insider = person(app, display_name="Mira Member")
    member(app, group, insider)
    member(app, group, person(app, display_name="Mira Pending"), state="pending")
    member(app, group, person(app, display_name="Mira Banned"), state="banned")
    member(app, group, person(app, display_name="Mira Closed", active=False))
    return group, owner, insider


@pytest.mark.parametrize("kind", ["closed", "secret"])
def test_a_groups_members_are_never_suggested_to_someone_who_cannot_read_inside_it(app, kind):
    group, owner, insider = closed_group(app, kind)
    topic = a_topic(app, owner, group=group)
    outsider = browser(app, person(app, display_name="Mira Outsider"))
    pending = browser(app, fetch_user(app, "Mira Pending"))
    for place in (f"group:{group.slug}", f"chat:{group.slug}", f"topic:new:group:{group.slug}",
                  f"blog:new:group:{group.slug}", f"event:new:group:{group.slug}", f"topic:{topic.id}",
                  f"post:{topic_first_post(app, topic)}"):
        for client in (outsider, pending):
            answer = client.get("/api/mentions", query_string={"q": "mira", "place": place})
            assert answer.status_code == 404, place
            assert b"Mira Member" not in answer.data


def test_inside_a_group_fellow_members_are_suggested_and_nobody_else(app):
    group, owner, insider = closed_group(app)
    topic = a_topic(app, owner, group=group)
    person(app, display_name="Mira Stranger")  # an active account outside the group
    client = browser(app, owner)
    for place in (f"group:{group.slug}", f"chat:{group.slug}", f"topic:new:group:{group.slug}", f"topic:{topic.id}"):
        assert names(client, "mira", place) == ["Mira Member"], place
    # Outside the group (a public category) anyone active may be mentioned, by name only.
    category = a_category(app)
    assert names(client, "mira", f"topic:new:category:{category.slug}") == [
        "Mira Banned", "Mira Member", "Mira Pending", "Mira Stranger"]


def test_an_open_groups_members_are_suggested_inside_it(app):
    group, owner, insider = closed_group(app, "open")
    person(app, display_name="Mira Stranger")
    client = browser(app, person(app))  # not a member: an open group's inside is public
    assert names(client, "mira", f"group:{group.slug}") == ["Mira Member"]


def test_a_place_that_does_not_exist_answers_404_and_a_bad_place_400(app):
    client = browser(app, person(app))
    assert client.get("/api/mentions?q=a&place=group:no-such-group").status_code == 404
    assert client.get("/api/mentions?q=a&place=topic:999999").status_code == 404
    assert client.get("/api/mentions?q=a&place=Group:X").status_code == 400


def test_a_mention_in_a_posted_reply_links_to_the_profile(app):
    owner = person(app, display_name="Olga Owner")
    topic = a_topic(app, owner, category=a_category(app))
    client = browser(app, person(app))
    page = client.get(f"/t/{topic.id}")
    assert 'class="composer"' in text(page) and f'data-place="topic:{topic.id}"' in text(page)
    answer = post(client, f"/t/{topic.id}/reply", {"body": "Thanks @[Olga Owner]!"}, page=f"/t/{topic.id}")
    assert answer.status_code == 302
    assert f'href="/people/{owner.id}"' in text(client.get(f"/t/{topic.id}"))


# --- the macro in the forms -----------------------------------------------------------------

def test_every_writing_form_carries_the_composer_and_works_without_it(app):
    owner = person(app)
    group = a_group(app, owner, kind="closed")
    category = a_category(app)
    topic = a_topic(app, owner, group=group)
    client = browser(app, owner)
    pages = {f"/forum/c/{category.slug}/new": f"topic:new:category:{category.slug}",
             f"/groups/{group.slug}/forum/new": f"topic:new:group:{group.slug}",
             f"/t/{topic.id}": f"topic:{topic.id}",
             f"/p/{topic_first_post(app, topic)}/edit": f"post:{topic_first_post(app, topic)}",
             "/blog/new": "blog:new",
             f"/blog/new?group={group.slug}": f"blog:new:group:{group.slug}",
             "/events/new": "event:new",
             f"/groups/{group.slug}/live": f"chat:{group.slug}"}
    for url, place in pages.items():
        html = text(client.get(url))
        assert f'data-place="{place}"' in html, url
        assert "<textarea" in html and "js/composer.js" in html and "css/composer.css" in html, url
        assert "data-strings='{" in html, url


def fetch_user(app, name):
    with app.app_context():
        return loaded(db.session.scalar(db.select(User).where(User.display_name == name)))


def topic_first_post(app, topic):
    with app.app_context():
        return db.session.scalar(db.select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))

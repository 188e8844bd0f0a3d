"""Bad input: empty and oversized titles and bodies, naughty strings and XSS payloads (stored,
shown back escaped or sanitised, never a 500), and the per-account posting rate limit."""
import re

from app.forum.models import Post, Topic
from tests.factories import BLNS, POLYGLOTS, a_category, a_topic, api, browser, count, person, post, text

SCRIPT_TAG = re.compile(r"<script\b[^>]*>?", re.I)
OUR_SCRIPT = re.compile(r'<script src="/[a-z_-]+/[\w./-]+" defer>')


def _foreign_scripts(html: str) -> list[str]:
    """Script tags that are not one of the site's own files (none may come from user content)."""
    return [tag for tag in SCRIPT_TAG.findall(html) if not OUR_SCRIPT.fullmatch(tag)]


def test_empty_and_oversized_titles_and_bodies_keep_what_was_typed(app):
    category = a_category(app)
    client = browser(app, person(app))
    url = f"/forum/c/{category.slug}/new"
    response = post(client, url, {"title": "", "body": "A body I typed"})
    assert response.status_code == 400 and "A body I typed" in text(response)
    response = post(client, url, {"title": "   ", "body": "Whitespace title"})
    assert response.status_code == 400
    response = post(client, url, {"title": "x" * 201, "body": "Too long a title"})
    assert response.status_code == 400 and "Too long a title" in text(response)
    response = post(client, url, {"title": "Fine", "body": "y" * 50_001})
    assert response.status_code == 400
    assert count(app, Topic) == 0
    assert post(client, url, {"title": "t" * 200, "body": "z" * 50_000}).status_code == 302

    topic = a_topic(app)
    response = post(client, f"/t/{topic.id}/reply", {"body": "   "})
    assert response.status_code == 400
    response = api(client, "POST", f"/api/topics/{topic.id}/replies", {"body": "b" * 50_001})
    assert response.status_code == 400 and response.get_json()["error"]["fields"]["body"]
    response = api(client, "POST", f"/api/topics/{topic.id}/replies", {"body": ["not", "text"]})
    assert response.status_code == 400 and response.is_json  # refused, not coerced


def test_naughty_strings_and_xss_payloads_are_stored_and_shown_safely(app):
    category = a_category(app)
    user = person(app)
    client = browser(app, user)
    topic = a_topic(app, user, category=category)
    statuses = set()
    for payload in BLNS + POLYGLOTS:
        response = api(client, "POST", f"/api/topics/{topic.id}/replies", {"body": payload})
        statuses.add(response.status_code)
        assert response.status_code in (201, 400), payload
    assert statuses == {201, 400}  # whitespace-only strings are refused, the rest are kept
    for payload in POLYGLOTS + BLNS[:120]:
        response = api(client, "POST", "/api/topics", {"category": category.slug, "title": payload[:200], "body": payload})
        assert response.status_code in (201, 400), payload

    pages = -(-count(app, Post, Post.topic_id == topic.id) // 20)
    for page in range(1, pages + 1):
        response = client.get(f"/t/{topic.id}?page={page}")
        assert response.status_code == 200
        assert _foreign_scripts(text(response)) == []
    for url in ("/forum", f"/forum/c/{category.slug}", f"/forum/c/{category.slug}?page=2", "/",
                f"/api/topics/{topic.id}", f"/forum/c/{category.slug}/feed.atom", f"/t/{topic.id}/feed.atom"):
        response = browser(app).get(url)
        assert response.status_code == 200, url
        if response.mimetype == "text/html":
            assert _foreign_scripts(text(response)) == [], url
    # A payload comes back as typed in the API source field.
    body = browser(app).get(f"/api/topics/{topic.id}").get_json()["posts"][1]["body"]
    assert body == BLNS[0] or body.strip()


def test_posting_is_rate_limited_per_account(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_POSTING="3 per minute")
    topic = a_topic(app)
    first, second = person(app), person(app)
    client = browser(app, first)
    for n in range(2):
        assert post(client, f"/t/{topic.id}/reply", {"body": f"reply {n}"}).status_code == 302
    assert api(client, "POST", f"/api/topics/{topic.id}/replies", {"body": "third"}).status_code == 201
    response = post(client, f"/t/{topic.id}/reply", {"body": "fourth"})
    assert response.status_code == 429
    response = api(client, "POST", f"/api/topics/{topic.id}/replies", {"body": "fifth"})
    assert response.status_code == 429 and response.is_json
    assert client.get(f"/t/{topic.id}").status_code == 200  # reading is not limited
    assert post(browser(app, second), f"/t/{topic.id}/reply", {"body": "someone else"}).status_code == 302

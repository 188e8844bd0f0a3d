"""Atom feeds: well-formed and escaped, public for public places, 404 for closed and secret ones
unless the requester is a member (the policy is asked at fetch time)."""
from xml.etree import ElementTree as ET

from tests.factories import BLNS, a_category, a_group, a_reply, a_topic, browser, member, person, post


ATOM = "{http://www.w3.org/2005/Atom}"


def _parse(response):
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    return ET.fromstring(response.get_data())


def test_category_feed_lists_topics_with_escaped_html(app):
    category = a_category(app, name="Living with cancer")
    a_topic(app, category=category, title="Walking <b>helps</b> & more", body="I walk **daily**. <script>x</script>")
    feed = _parse(browser(app).get(f"/forum/c/{category.slug}/feed.atom"))
    assert feed.find(f"{ATOM}title").text.startswith("Living with cancer")
    entry = feed.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "Walking <b>helps</b> & more"
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<strong>daily</strong>" in content.text and "<script>" not in content.text
    assert entry.find(f"{ATOM}link").get("href").startswith("http://localhost/t/")
    raw = browser(app).get(f"/forum/c/{category.slug}/feed.atom").get_data(as_text=True)
    assert "<script>" not in raw and "&lt;strong&gt;daily" in raw


def test_topic_feed_and_naughty_strings_stay_well_formed(app):
    naughty = BLNS
    topic = a_topic(app, title="Feed test", body="Start")
    chunks = range(0, len(naughty), 40)
    for chunk in chunks:
        a_reply(app, topic, body="\n".join(naughty[chunk:chunk + 40]) or "x")
    feed = _parse(browser(app).get(f"/t/{topic.id}/feed.atom"))  # parses: no stray control characters
    assert len(feed.findall(f"{ATOM}entry")) == min(20, len(chunks) + 1)


def test_group_forum_feeds_follow_the_policy(app):
    owner = person(app)
    open_group = a_group(app, owner, kind="open")
    closed = a_group(app, owner, kind="closed")
    secret = a_group(app, owner, kind="secret")
    a_topic(app, owner, group=open_group, title="Open topic")
    closed_topic = a_topic(app, owner, group=closed, title="Closed topic")
    assert "Open topic" in browser(app).get(f"/groups/{open_group.slug}/forum/feed.atom").get_data(as_text=True)

    outsider, insider = person(app), person(app)
    member(app, closed, insider)
    for client in (browser(app), browser(app, outsider)):
        assert client.get(f"/groups/{closed.slug}/forum/feed.atom").status_code == 404
        assert client.get(f"/t/{closed_topic.id}/feed.atom").status_code == 404
    feed = _parse(browser(app, insider).get(f"/groups/{closed.slug}/forum/feed.atom"))
    assert feed.find(f"{ATOM}entry/{ATOM}title").text == "Closed topic"
    assert _parse(browser(app, insider).get(f"/t/{closed_topic.id}/feed.atom")) is not None
    a_topic(app, owner, group=secret, title="Secret topic")
    assert browser(app, outsider).get(f"/groups/{secret.slug}/forum/feed.atom").status_code == 404
    assert "Secret topic" in browser(app, owner).get(f"/groups/{secret.slug}/forum/feed.atom").get_data(as_text=True)


def test_removed_posts_and_deleted_topics_leave_feeds(app):
    category = a_category(app)
    topic = a_topic(app, category=category, title="Going away")
    author = person(app)
    reply = a_reply(app, topic, author, body="Secret detail")
    post(browser(app, author), f"/p/{reply.id}/delete")
    assert "Secret detail" not in browser(app).get(f"/t/{topic.id}/feed.atom").get_data(as_text=True)

"""Notifications: mentions, quotes and watched topics; watch levels; the list, the JSON API and
marking read; and the rule that a notification is checked against the policy when it is read."""
from sqlalchemy import select

from app.extensions import db
from tests.factories import a_category, a_group, a_reply, a_topic, api, browser, member, person, post, text


def notifications_of(app, user):
    from app.notifications.models import Notification
    with app.app_context():
        return [(n.kind, n.topic_id, n.post_id) for n in
                db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]


def test_mention_by_bracket_and_handle_notifies_once(app):
    clara = person(app, display_name="Dr Clara Klein")
    nina = person(app, display_name="Nina Nurse")
    topic = a_topic(app, title="Fatigue")
    reply = a_reply(app, topic, body="Asking @[Dr Clara Klein] and @Nina_Nurse, and again @nina_nurse.")
    assert notifications_of(app, clara) == [("mention", topic.id, reply.id)]
    assert notifications_of(app, nina) == [("mention", topic.id, reply.id)]
    a_reply(app, topic, body="`@Nina_Nurse` in code and > quotes do not count\n> @[Dr Clara Klein]")
    assert len(notifications_of(app, nina)) == 1 and len(notifications_of(app, clara)) == 1


def test_ambiguous_and_self_mentions_notify_nobody(app):
    twin_a, twin_b = person(app, display_name="Sam Smith"), person(app, display_name="Sam Smith")
    author = person(app, display_name="Ana Author")
    topic = a_topic(app, author)
    a_reply(app, topic, author, body="@[Sam Smith] and me, @Ana_Author")
    assert notifications_of(app, twin_a) == [] and notifications_of(app, twin_b) == []
    assert notifications_of(app, author) == []


def test_mention_never_grants_access_to_a_closed_group(app):
    owner = person(app)
    closed = a_group(app, owner, kind="closed")
    outsider = person(app, display_name="Olga Outsider")
    insider = person(app, display_name="Ines Insider")
    member(app, closed, insider)
    topic = a_topic(app, owner, group=closed)
    a_reply(app, topic, owner, body="Hello @[Olga Outsider] and @[Ines Insider]")
    assert notifications_of(app, outsider) == []
    assert len(notifications_of(app, insider)) == 1
    assert browser(app, outsider).get(f"/t/{topic.id}").status_code == 404


def test_watching_normal_and_muted(app):
    author = person(app)
    topic = a_topic(app, author)  # the author watches their own topic
    watcher, normal, muted = person(app, display_name="Wanda Watcher"), person(app), person(app, display_name="Mo Muted")
    for user, level in ((watcher, "watching"), (normal, "normal"), (muted, "muted")):
        response = post(browser(app, user), f"/t/{topic.id}/watch", {"level": level})
        assert response.status_code == 302
    reply = a_reply(app, topic, body="Plain reply, mentioning @[Mo Muted]")
    assert notifications_of(app, author) == [("reply", topic.id, reply.id)]
    assert notifications_of(app, watcher) == [("reply", topic.id, reply.id)]
    assert notifications_of(app, normal) == []
    assert notifications_of(app, muted) == []  # muted beats a mention
    quoted = a_reply(app, topic, normal, body="my own words")
    quoting = a_reply(app, topic, body="> my own words\n\nI agree", quote_of=quoted.id)
    assert notifications_of(app, normal) == [("quote", topic.id, quoting.id)]


def test_muted_topics_leave_latest_lists_but_stay_in_their_category(app):
    category = a_category(app)
    topic = a_topic(app, category=category, title="Topic I muted")
    a_topic(app, category=category, title="Topic I follow")
    user = person(app)
    client = browser(app, user)
    post(client, f"/t/{topic.id}/watch", {"level": "muted"})
    assert "Topic I muted" not in text(client.get("/"))
    assert "Topic I muted" not in text(client.get("/forum")).split("latest-heading")[1]
    assert "Topic I follow" in text(client.get("/forum"))
    listing = text(client.get(f"/forum/c/{category.slug}"))
    assert "Topic I muted" in listing and "Muted" in listing
    post(client, f"/forum/c/{category.slug}/watch", {"level": "muted"})
    assert "Topic I follow" not in text(client.get("/"))


def test_watching_a_category_reports_new_topics_and_replies(app):
    category = a_category(app)
    fan = person(app)
    post(browser(app, fan), f"/forum/c/{category.slug}/watch", {"level": "watching"})
    topic = a_topic(app, category=category)
    reply = a_reply(app, topic)
    kinds = [kind for kind, _t, _p in notifications_of(app, fan)]
    assert kinds == ["topic", "reply"] and reply.id
    # A topic-level "normal" overrides the category's "watching".
    post(browser(app, fan), f"/t/{topic.id}/watch", {"level": "normal"})
    a_reply(app, topic)
    assert len(notifications_of(app, fan)) == 2


def test_notification_page_json_and_mark_read(app):
    user = person(app, display_name="Rita Reader")
    topic = a_topic(app, title="Scan anxiety")
    a_reply(app, topic, body="What do you think, @Rita_Reader?")
    client = browser(app, user)
    page = text(client.get("/notifications"))
    assert "mentioned you" in page and "Scan anxiety" in page
    assert 'class="badge badge-count">1<' in text(client.get("/forum"))  # the header shows the count
    data = client.get("/api/notifications").get_json()
    assert data["unread"] == 1 and data["notifications"][0]["kind"] == "mention"
    note_id = data["notifications"][0]["id"]
    assert data["notifications"][0]["url"].startswith("/p/")

    # Someone else cannot mark it read; the owner can, by a CSRF-protected POST.
    api(browser(app, person(app)), "POST", "/api/notifications/read", {"ids": [note_id]})
    assert client.get("/api/notifications").get_json()["unread"] == 1
    assert client.post("/api/notifications/read", json={"ids": [note_id]}).status_code == 400  # no CSRF
    response = api(client, "POST", "/api/notifications/read", {"ids": [note_id]})
    assert response.status_code == 200 and response.get_json()["unread"] == 0
    assert browser(app).get("/api/notifications").status_code == 401
    assert browser(app).get("/notifications").status_code == 302


def test_open_marks_read_and_goes_to_the_post(app):
    user = person(app, display_name="Oskar Opener")
    topic = a_topic(app)
    reply = a_reply(app, topic, body="@Oskar_Opener look")
    client = browser(app, user)
    note_id = client.get("/api/notifications").get_json()["notifications"][0]["id"]
    response = post(client, f"/notifications/{note_id}/open")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/p/{reply.id}")
    assert client.get("/api/notifications").get_json()["unread"] == 0


def test_notifications_disappear_when_the_recipient_loses_access(app):
    owner = person(app)
    closed = a_group(app, owner, kind="closed")
    insider = person(app, display_name="Lea Leaving")
    member(app, closed, insider)
    topic = a_topic(app, owner, group=closed, title="Sensitive topic")
    a_reply(app, topic, owner, body="@[Lea Leaving] see this")
    client = browser(app, insider)
    assert client.get("/api/notifications").get_json()["unread"] == 1
    member(app, closed, insider, state="banned")  # removed from the group
    data = client.get("/api/notifications").get_json()
    assert data["unread"] == 0 and data["notifications"] == []
    assert "Sensitive topic" not in text(client.get("/notifications"))
    member(app, closed, insider)  # back in: the notification is visible again
    assert client.get("/api/notifications").get_json()["unread"] == 1


def test_removed_posts_drop_their_notifications(app):
    user = person(app, display_name="Tim Tagged")
    author = person(app)
    topic = a_topic(app)
    reply = a_reply(app, topic, author, body="@Tim_Tagged hello")
    client = browser(app, user)
    assert client.get("/api/notifications").get_json()["unread"] == 1
    post(browser(app, author), f"/p/{reply.id}/delete")
    assert client.get("/api/notifications").get_json()["unread"] == 0

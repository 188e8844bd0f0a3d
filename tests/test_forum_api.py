"""The forum's JSON API: reads follow the policy, writes need a session and the CSRF header,
use the same services as the forms, and explain refusals as JSON."""
from app.forum.models import Post, Topic
from tests.factories import a_category, a_group, a_reply, a_topic, api, browser, count, fetch, member, person, staff


def test_read_endpoints(app):
    category = a_category(app, name="Clinical trials")
    topic = a_topic(app, category=category, title="Finding a trial")
    replies = [a_reply(app, topic, body=f"reply {i}") for i in range(22)]
    client = browser(app)
    cats = client.get("/api/categories").get_json()["categories"]
    assert cats[0]["slug"] == "clinical-trials" and cats[0]["topic_count"] == 1
    topics = client.get(f"/api/categories/{category.slug}/topics").get_json()["topics"]
    assert topics[0]["title"] == "Finding a trial" and topics[0]["post_count"] == 23
    data = client.get(f"/api/topics/{topic.id}?page=2").get_json()
    assert data["pages"] == 2 and [p["number"] for p in data["posts"]] == [21, 22, 23]
    assert data["posts"][0]["body_html"] == "<p>reply 19</p>"
    one = client.get(f"/api/posts/{replies[0].id}").get_json()["post"]
    assert one["body"] == "reply 0" and one["author"]["role"] == "Patient"
    assert client.get("/api/categories/nope/topics").status_code == 404
    assert client.get("/api/topics/99999").get_json()["error"]["code"] == 404


def test_reads_follow_the_policy(app):
    owner = person(app)
    closed = a_group(app, owner, kind="closed")
    topic = a_topic(app, owner, group=closed)
    reply = a_reply(app, topic, owner)
    outsider, insider = browser(app, person(app)), person(app)
    member(app, closed, insider)
    for client in (browser(app), outsider):
        assert client.get(f"/api/groups/{closed.slug}/topics").status_code == 404
        assert client.get(f"/api/topics/{topic.id}").status_code == 404
        assert client.get(f"/api/posts/{reply.id}").status_code == 404
    inside = browser(app, insider)
    assert inside.get(f"/api/groups/{closed.slug}/topics").get_json()["topics"][0]["id"] == topic.id
    assert inside.get(f"/api/posts/{reply.id}").status_code == 200


def test_write_endpoints_with_csrf(app):
    category = a_category(app)
    user = person(app)
    client = browser(app, user)
    response = client.post("/api/topics", json={"category": category.slug, "title": "T", "body": "B"})
    assert response.status_code == 400 and count(app, Topic) == 0  # no CSRF header

    response = api(client, "POST", "/api/topics", {"category": category.slug, "title": "Side effects", "body": "Tired"})
    assert response.status_code == 201
    topic_id = response.get_json()["topic"]["id"]
    response = api(client, "POST", f"/api/topics/{topic_id}/replies", {"body": "More **detail**"})
    assert response.status_code == 201
    created = response.get_json()["post"]
    assert created["number"] == 2 and created["body_html"] == "<p>More <strong>detail</strong></p>"

    response = api(client, "PATCH", f"/api/posts/{created['id']}", {"body": "Edited"})
    assert response.status_code == 200 and response.get_json()["post"]["edited_at"]
    response = api(client, "DELETE", f"/api/posts/{created['id']}")
    assert response.status_code == 200 and response.get_json()["removed"] == "post"
    assert fetch(app, Post, created["id"]).deleted_at is not None

    response = api(client, "POST", "/api/topics", {"title": "Nowhere", "body": "x"})
    assert response.status_code == 400 and "category" in response.get_json()["error"]["fields"]
    response = api(client, "POST", "/api/topics", {"category": category.slug, "title": "", "body": "x"})
    assert response.status_code == 400 and response.get_json()["error"]["fields"]["title"]
    response = client.post("/api/topics", data="not json",
                           headers={"X-CSRFToken": client._csrf, "Content-Type": "text/plain"})
    assert response.status_code == 400 and response.is_json
    anonymous = api(browser(app), "POST", "/api/topics", {"category": category.slug, "title": "x", "body": "y"}, page="/login")
    assert anonymous.status_code == 401 and anonymous.is_json


def test_api_idor_and_group_rules(app):
    owner = person(app)
    open_group = a_group(app, owner, kind="open")
    closed = a_group(app, owner, kind="closed")
    topic = a_topic(app, owner, group=open_group)
    reply = a_reply(app, topic, owner, body="the owner's words")
    hidden = a_topic(app, owner, group=closed)
    intruder = browser(app, person(app))

    response = api(intruder, "PATCH", f"/api/posts/{reply.id}", {"body": "hacked"})
    assert response.status_code == 403 and response.get_json()["error"]["message"]
    assert api(intruder, "DELETE", f"/api/posts/{reply.id}").status_code == 403
    assert fetch(app, Post, reply.id).body == "the owner's words"
    response = api(intruder, "POST", f"/api/topics/{topic.id}/replies", {"body": "not a member"})
    assert response.status_code == 403 and "Join the group" in response.get_json()["error"]["message"]
    response = api(intruder, "POST", "/api/topics", {"group": open_group.slug, "title": "x", "body": "y"})
    assert response.status_code == 403
    assert api(intruder, "POST", f"/api/topics/{hidden.id}/replies", {"body": "x"}).status_code == 404
    assert api(intruder, "POST", "/api/topics", {"group": closed.slug, "title": "x", "body": "y"}).status_code == 404

    moderator = browser(app, staff(app))
    assert api(moderator, "PATCH", f"/api/posts/{reply.id}", {"body": "moderated"}).status_code == 200


def test_locked_topic_refuses_api_replies_with_a_reason(app):
    topic = a_topic(app)
    with app.app_context():
        from app.extensions import db
        db.session.get(Topic, topic.id).locked = True
        db.session.commit()
    response = api(browser(app, person(app)), "POST", f"/api/topics/{topic.id}/replies", {"body": "late"})
    assert response.status_code == 403 and "locked" in response.get_json()["error"]["message"]

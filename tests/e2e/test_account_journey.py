"""Foundation journey in a real browser: register, confirm from the outbox, log in, edit the
profile, hide a field and check as another member that it is hidden, log out. axe on every page."""
import re

from playwright.sync_api import expect

from tests.factories import PASSWORD, links_in, make_user, outbox

NEW_PASSWORD = "a quiet harbour at dawn"


def login(page, base, email, password):
    page.goto(f"{base}/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_register_confirm_login_profile_logout(live_server, new_page, axe):
    base = live_server.url
    page = new_page()
    page.goto(base + "/")
    axe(page)
    page.get_by_role("link", name="Join Oncollab").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    axe(page)

    # A first attempt with a weak password is refused next to the field, keeping what was typed.
    page.get_by_label("Display name").fill("Marta from Porto")
    page.get_by_label("E-mail address").fill("marta@example.org")
    page.get_by_label("Password", exact=True).fill("password123")
    page.get_by_label("Repeat the password").fill("password123")
    page.get_by_label("I am a").select_option("patient")
    page.get_by_label("Country").select_option("PT")
    page.get_by_label(re.compile("I have read and accept")).check()
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".field.has-error")).to_contain_text("most common")
    expect(page.get_by_label("Display name")).to_have_value("Marta from Porto")
    axe(page)

    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("main")).to_contain_text("We've sent a message")
    axe(page)

    # Confirm from the e-mail written to the outbox.
    mails = [m for m in outbox(live_server.app) if m["To"] == "marta@example.org"]
    assert mails, "no confirmation e-mail in the outbox"
    confirm_path = links_in(mails[-1], "/confirm/")[0]
    page.goto(base + confirm_path)
    axe(page)
    page.get_by_role("button", name=re.compile("Confirm")).click()
    expect(page.locator(".flashes")).to_contain_text(re.compile("confirmed", re.I))

    # Log out and back in through the form.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Log in")).to_be_visible()
    login(page, base, "marta@example.org", NEW_PASSWORD)
    expect(page.get_by_role("link", name="Marta from Porto")).to_be_visible()

    # Edit the profile: interests for members, country hidden from everyone but me.
    page.goto(base + "/settings/profile")
    axe(page)
    page.get_by_label("Interests", exact=True).fill("Walking groups & <b>nutrition</b>")
    page.get_by_label("Who can see your interests?").select_option("members")
    page.get_by_label("Who can see your country?").select_option("me")
    page.get_by_label("About me", exact=True).fill("Diagnosed in 2024. **Here to listen.**")
    page.get_by_role("button", name="Save my profile").click()
    expect(page.locator(".flashes")).to_be_visible()

    page.get_by_role("link", name="Marta from Porto").click()
    profile_url = page.url
    main = page.locator("main")
    expect(main).to_contain_text("Walking groups & <b>nutrition</b>")  # shown exactly, escaped
    expect(main).to_contain_text("Portugal")  # the owner sees her hidden country
    expect(main.locator("strong", has_text="Here to listen.")).to_be_visible()
    axe(page)

    # Another member sees the interests but not the hidden country.
    with live_server.app.app_context():
        make_user(email="other@example.org", display_name="Other Member")
    other_page = new_page()
    login(other_page, base, "other@example.org", PASSWORD)
    other_page.goto(profile_url)
    other_main = other_page.locator("main")
    expect(other_main).to_contain_text("Walking groups")
    expect(other_main).not_to_contain_text("Portugal")
    axe(other_page)

    # A visitor sees neither members-only field.
    visitor = new_page()
    visitor.goto(profile_url)
    expect(visitor.locator("main")).not_to_contain_text("Walking groups")
    expect(visitor.locator("main")).not_to_contain_text("Portugal")

    # Log out ends the session: the profile settings need a login again.
    page.get_by_role("button", name="Log out").click()
    page.goto(base + "/settings/profile")
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.dialogs == []


def test_home_page_at_375px_has_skip_link_and_one_h1(live_server, new_page, axe):
    page = new_page(width=375, height=800)
    page.goto(live_server.url + "/")
    assert page.locator("h1").count() == 1
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "page scrolls sideways at 375 px"
    axe(page)


def test_every_request_stays_on_this_site(live_server, new_page):
    """Offline: no CDN, remote font or script; every request the page makes is same-origin."""
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    for path in ("/", "/login", "/register", "/terms"):
        page.goto(live_server.url + path)
    assert requests and all(url.startswith(live_server.url) for url in requests), requests

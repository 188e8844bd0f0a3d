"""The events journey in a real browser, axe on every page visited: a member adds an event at a
cancer centre from the centre's page, finds it on the centre page and in the calendar, says they
are going, and the "Add to calendar" link answers with an iCalendar file."""
import re
import uuid
from datetime import timedelta

from playwright.sync_api import expect

from app.extensions import db
from app.models_base import utcnow
from tests.e2e.test_group_journeys import login
from tests.factories import make_user


def test_member_adds_an_event_at_a_centre_and_rsvps(live_server, new_page, axe):
    from app.directory.models import Centre
    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        centre = Centre(slug=f"gustave-roussy-{tag}", name=f"Gustave Roussy {tag}", name_key=f"gustave roussy {tag}",
                        city="Villejuif", city_key="villejuif", country="FR", address="114 rue Édouard-Vaillant",
                        kind="comprehensive_cancer_centre")
        db.session.add(centre)
        db.session.commit()
        slug, centre_name = centre.slug, centre.name
        email = make_user(display_name=f"Clinician {tag}", role="clinician").email
    base = live_server.url
    day = (utcnow() + timedelta(days=40)).date().isoformat()
    title = f"Thoracic tumour board masterclass {tag}"

    page = new_page()
    login(page, base, email)
    page.goto(f"{base}/centres/{slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(centre_name)
    expect(page.get_by_text("No upcoming events at this centre.")).to_be_visible()
    axe(page)

    page.get_by_role("link", name="Add an event at this centre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add an event")
    expect(page.get_by_label("Hosting cancer centre")).to_have_value(centre_name)
    axe(page)
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Kind of event").select_option("course")
    page.get_by_label("Description").fill("Live sessions with the board, then **case work** in small groups.")
    page.get_by_label("Start date").fill(day)
    page.get_by_label("Start time", exact=True).fill("09:00")
    page.get_by_label("End time", exact=True).fill("08:00")  # a slip: it ends before it starts
    page.get_by_label("Time zone of these times").select_option("Europe/Paris")
    page.get_by_role("button", name="Publish the event").click()
    expect(page.locator("#end_time-error")).to_have_text("The event cannot end before it starts.")
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)  # nothing typed is lost
    axe(page)
    page.get_by_label("End time", exact=True).fill("17:00")
    page.get_by_role("button", name="Publish the event").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".flashes")).to_contain_text("Your event is published")
    expect(page.get_by_role("link", name=centre_name)).to_be_visible()
    expect(page.locator(".prose strong")).to_have_text("case work")
    axe(page)
    event_url = page.url
    assert re.search(r"/events/\d+$", event_url)

    page.get_by_label("Going").check()
    page.get_by_role("button", name="Save my answer").click()
    expect(page.get_by_text("You are going.", exact=True)).to_be_visible()
    expect(page.get_by_text("1 going")).to_be_visible()
    axe(page)

    ics_link = page.get_by_role("link", name="Add to calendar (.ics file)")
    href = ics_link.get_attribute("href")
    response = page.request.get(base + href)
    assert response.status == 200 and response.headers["content-type"].startswith("text/calendar")
    body = response.text()
    assert "BEGIN:VEVENT" in body and f"SUMMARY:{title}" in body and "STATUS:CONFIRMED" in body

    page.goto(f"{base}/centres/{slug}")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    axe(page)
    page.goto(f"{base}/events")
    expect(page.get_by_role("heading", level=1)).to_have_text("Events and conferences")
    page.get_by_role("link", name=title).click()
    expect(page).to_have_url(event_url)
    page.goto(f"{base}/events")
    axe(page)

"""Events through HTTP as people use them: create, edit, cancel, delete, RSVP; validation that
keeps what was typed; the access matrix over every channel that can carry an event (page, .ics,
calendar feed, lists, centre page, group events, search); iCalendar output read back with the
icalendar package; IDOR attempts that must leave the database unchanged."""
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.agenda.models import Event, EventRsvp
from app.extensions import db
from app.models_base import utcnow
from tests.factories import a_group, browser, here, make_event, member, person, post, staff, submit, text

FUTURE = (utcnow() + timedelta(days=400)).date()
DAY = FUTURE.isoformat()


def event_form(**overrides) -> dict:
    data = dict(title="Survivorship care plans webinar", kind="webinar",
                description="Speakers from **three** centres.\n\n<script>alert(1)</script>",
                start_date=DAY, start_time="09:00", end_date=DAY, end_time="10:30", timezone="UTC",
                location="", city="", country="", online_url="https://meet.example.org/ccc", centre="",
                visibility="public")
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def an_event(app, organiser=None, **kwargs):
    with app.app_context():
        kwargs = {k: here(v) if k in ("group", "centre") else v for k, v in kwargs.items()}
        event = make_event(here(organiser), **kwargs)
        db.session.refresh(event)
        return event


def a_centre(app, name="Gustave Roussy", slug="gustave-roussy-villejuif", city="Villejuif"):
    from app.directory.models import Centre
    with app.app_context():
        centre = Centre(slug=slug, name=name, name_key=name.lower(), city=city, city_key=city.lower(),
                        country="FR", address="114 rue Édouard-Vaillant", kind="comprehensive_cancer_centre")
        db.session.add(centre)
        db.session.commit()
        db.session.refresh(centre)
        return centre


def load(app, event_id):
    with app.app_context():
        event = db.session.get(Event, event_id)
        if event is not None:
            db.session.refresh(event)
        return event


def count_events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


def unechoed(page: str, q: str) -> str:
    """A search page without the places it repeats the query (title, search box, type links)."""
    return page.replace(f"Search: {q}", "").replace(f'value="{q}"', "").replace(f"?q={q}", "")


def parse_ics(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.get_data())


# ---------------------------------------------------------------------------------------------
# Creating, editing, cancelling, deleting
# ---------------------------------------------------------------------------------------------

def test_member_creates_an_event_through_the_form(app):
    organiser = person(app, display_name="Olga Organiser")
    client = browser(app, organiser)
    response = submit(client, "/events/new", event_form(timezone="Europe/Paris", city="Lyon", country="FR"))
    assert response.status_code == 303, text(response)[:800]
    event_id = int(response.headers["Location"].rsplit("/", 1)[1])
    event = load(app, event_id)
    assert event.title == "Survivorship care plans webinar" and event.created_by == organiser.id
    assert event.visibility == "public" and event.group_id is None and event.kind == "webinar"
    # Typed in Paris time (UTC+1 or +2): stored in UTC, naive.
    offset = 2 if event.starts_at.hour == 7 else 1
    assert event.starts_at == datetime.combine(FUTURE, datetime.min.time()).replace(hour=9 - offset)
    assert event.ends_at - event.starts_at == timedelta(minutes=90)
    assert "<strong>three</strong>" in event.description_html and "<script>" not in event.description_html
    page = text(client.get(f"/events/{event_id}"))
    assert "<h1>Survivorship care plans webinar</h1>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Olga Organiser" in page and f'href="/events/{event_id}.ics"' in page
    assert 'href="https://meet.example.org/ccc" rel="nofollow ugc noopener"' in page
    assert "Survivorship care plans webinar" in text(browser(app).get("/events"))


def test_end_before_start_bad_url_and_empty_title_keep_what_was_typed(app):
    client = browser(app, person(app))
    response = submit(client, "/events/new", event_form(end_time="08:00", location="Room 12, Building B"))
    page = text(response)
    assert response.status_code == 400
    assert "The event cannot end before it starts." in page
    assert 'value="Survivorship care plans webinar"' in page and 'value="Room 12, Building B"' in page
    assert 'id="end_time-error"' in page and "Speakers from **three** centres." in page

    response = submit(client, "/events/new", event_form(online_url="javascript:alert(1)"))
    page = text(response)
    assert response.status_code == 400 and "Enter a web address starting with https:// or http://." in page
    assert 'value="javascript:alert(1)"' in page and 'id="online_url-error"' in page

    response = submit(client, "/events/new", event_form(title="   ", city="Gent"))
    page = text(response)
    assert response.status_code == 400 and "Please enter a title." in page and 'value="Gent"' in page

    response = submit(client, "/events/new", event_form(end_date=(FUTURE - timedelta(days=2)).isoformat()))
    assert response.status_code == 400 and "The event cannot end before it starts." in text(response)
    response = submit(client, "/events/new", event_form(start_date="2030-02-31"))
    assert response.status_code == 400 and 'value="2030-02-31"' in text(response)
    response = submit(client, "/events/new", event_form(centre="No Such Hospital Anywhere"))
    assert response.status_code == 400 and "We could not find this centre" in text(response)
    assert count_events(app) == 0


def test_all_day_event_and_centre_prefill(app):
    centre = a_centre(app)
    client = browser(app, person(app))
    page = text(client.get(f"/events/new?centre={centre.slug}"))
    assert 'value="Gustave Roussy"' in page and 'value="Villejuif"' in page
    end = (FUTURE + timedelta(days=2)).isoformat()
    response = submit(client, f"/events/new?centre={centre.slug}", event_form(
        title="Thoracic oncology congress", kind="congress", all_day="y", start_time="", end_time="",
        end_date=end, centre="Gustave Roussy", city="Villejuif", country="FR", online_url=""))
    assert response.status_code == 303, text(response)[:800]
    event = load(app, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert event.all_day and event.centre_id == centre.id
    assert event.starts_at == datetime.combine(FUTURE, datetime.min.time())
    assert event.ends_at == datetime.combine(FUTURE + timedelta(days=3), datetime.min.time())  # exclusive
    centre_page = text(browser(app).get(f"/centres/{centre.slug}"))
    assert "Upcoming events" in centre_page and f'href="/events/{event.id}"' in centre_page


def test_unconfirmed_and_visitors_cannot_create(app):
    client = browser(app, person(app, confirmed=False))
    assert client.get("/events/new").status_code == 403
    assert submit(client, "/", event_form(), post_url="/events/new").status_code == 403
    response = browser(app).get("/events/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert count_events(app) == 0


def test_organiser_edits_and_the_page_and_search_follow(app):
    organiser = person(app)
    event = an_event(app, organiser, title="Journal club", description="First words")
    client = browser(app, organiser)
    page = text(client.get(f"/events/{event.id}/edit"))
    assert 'value="Journal club"' in page and "First words" in page
    response = submit(client, f"/events/{event.id}/edit", event_form(title="Journal club on quokkanomics",
                                                                      visibility="members"))
    assert response.status_code == 303
    changed = load(app, event.id)
    assert changed.title == "Journal club on quokkanomics" and changed.visibility == "members"
    # A visibility change re-stamps the search document: visitors no longer find it at all.
    assert browser(app).get("/api/search?q=quokkanomics&type=community").get_json()["total"] == 0
    assert browser(app).get(f"/events/{event.id}").status_code == 404
    assert client.get("/api/search?q=quokkanomics&type=community").get_json()["total"] == 1


def test_cancel_keeps_the_event_visible_and_marked_then_reinstate(app):
    organiser = person(app)
    event = an_event(app, organiser, title="Nurses' meeting")
    client = browser(app, organiser)
    response = post(client, f"/events/{event.id}/cancel", page=f"/events/{event.id}")
    assert response.status_code == 303 and load(app, event.id).cancelled_at is not None
    page = text(browser(app).get(f"/events/{event.id}"))
    assert "This event is cancelled." in page and "Nurses&#39; meeting" in page
    assert "Cancelled" in text(browser(app).get("/events"))
    cal = parse_ics(browser(app).get(f"/events/{event.id}.ics"))
    assert str(cal.events[0]["STATUS"]) == "CANCELLED"
    # Nobody answers a cancelled event.
    other = browser(app, person(app))
    assert post(other, f"/events/{event.id}/rsvp", {"state": "going"}, page="/events").status_code == 409
    assert post(client, f"/events/{event.id}/reinstate", page=f"/events/{event.id}").status_code == 303
    assert load(app, event.id).cancelled_at is None


def test_delete_asks_first_then_removes_everywhere(app):
    organiser = person(app)
    event = an_event(app, organiser, title="Mesothelioma zyzzogeton day")
    client = browser(app, organiser)
    assert client.get("/api/search?q=zyzzogeton&type=community").get_json()["total"] == 1
    confirm = client.get(f"/events/{event.id}/delete")
    assert confirm.status_code == 200 and "Delete the event for ever" in text(confirm)
    assert load(app, event.id) is not None  # the GET only asked
    response = post(client, f"/events/{event.id}/delete", page=f"/events/{event.id}/delete")
    assert response.status_code == 303 and load(app, event.id) is None
    assert client.get(f"/events/{event.id}").status_code == 404
    assert client.get(f"/events/{event.id}.ics").status_code == 404
    assert client.get("/api/search?q=zyzzogeton&type=community").get_json()["total"] == 0
    assert "zyzzogeton" not in unechoed(text(client.get("/search?q=zyzzogeton")), "zyzzogeton")


def test_search_finds_a_new_event_at_once(app):
    client = browser(app, person(app))
    response = submit(client, "/events/new", event_form(title="Kryptonite sarcoma course", kind="course"))
    event_id = int(response.headers["Location"].rsplit("/", 1)[1])
    result = browser(app).get("/api/search?q=kryptonite&type=community").get_json()
    assert result["total"] == 1
    hit = result["results"][0]
    assert hit["kind"] == "event" and hit["id"] == event_id and hit["url"] == f"/events/{event_id}"
    assert f'href="/events/{event_id}"' in text(browser(app).get("/search?q=kryptonite"))


def test_rsvp_going_interested_withdraw_one_row_per_person(app):
    organiser = person(app)
    event = an_event(app, organiser)
    guest = person(app, display_name="Gina Guest")
    client = browser(app, guest)
    assert post(client, f"/events/{event.id}/rsvp", {"state": "going"}, page="/events").status_code == 303
    assert "1 going" in text(client.get(f"/events/{event.id}"))
    assert post(client, f"/events/{event.id}/rsvp", {"state": "interested"}, page="/events").status_code == 303
    assert post(client, f"/events/{event.id}/rsvp", {"state": "interested"}, page="/events").status_code == 303
    with app.app_context():
        rows = db.session.execute(select(EventRsvp.user_id, EventRsvp.state).where(EventRsvp.event_id == event.id)).all()
    assert rows == [(guest.id, "interested")]
    page = text(client.get(f"/events/{event.id}"))
    assert "0 going" in page and "1 interested" in page and "You are interested." in page
    assert "Gina Guest" not in text(browser(app, person(app)).get(f"/events/{event.id}"))  # names: organisers only
    assert "Gina Guest" in text(browser(app, organiser).get(f"/events/{event.id}"))
    assert post(client, f"/events/{event.id}/rsvp", {"state": "bogus"}, page="/events").status_code == 400
    assert post(client, f"/events/{event.id}/rsvp", {"state": "none"}, page="/events").status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(EventRsvp)) == 0
    visitor = browser(app)
    response = visitor.post(f"/events/{event.id}/rsvp", data={"state": "going"})
    assert response.status_code in (302, 400)  # login first (or the missing CSRF token)
    past = an_event(app, person(app), days_ahead=-3)
    assert post(client, f"/events/{past.id}/rsvp", {"state": "going"}, page="/events").status_code == 409


def test_another_member_cannot_edit_cancel_or_delete(app):
    organiser, intruder = person(app), person(app)
    event = an_event(app, organiser, title="Original title")
    before = load(app, event.id)
    client = browser(app, intruder)
    assert client.get(f"/events/{event.id}/edit").status_code == 403
    assert submit(client, "/events", event_form(title="hacked"), post_url=f"/events/{event.id}/edit").status_code == 403
    assert post(client, f"/events/{event.id}/cancel", page="/events").status_code == 403
    assert post(client, f"/events/{event.id}/delete", page="/events").status_code == 403
    assert client.get(f"/events/{event.id}/delete").status_code == 403
    after = load(app, event.id)
    assert (after.title, after.cancelled_at, after.updated_at) == (before.title, None, before.updated_at)
    assert "Edit the event" not in text(client.get(f"/events/{event.id}"))


def test_group_moderator_and_staff_manage_group_events_members_only_create(app):
    owner, moderator, plain, outsider = person(app), person(app), person(app), person(app)
    group = a_group(app, owner, kind="closed", name="Survivorship thematic area")
    member(app, group, moderator, role="moderator")
    member(app, group, plain)
    event = an_event(app, plain, group=group, title="Twinning visit")
    assert post(browser(app, moderator), f"/events/{event.id}/cancel", page="/events").status_code == 303
    assert post(browser(app, staff(app)), f"/events/{event.id}/reinstate", page="/events").status_code == 303
    # An outsider of the closed group does not even learn it exists.
    out = browser(app, outsider)
    assert out.get(f"/events/new?group={group.slug}").status_code == 404
    assert out.get(f"/events/{event.id}/edit").status_code == 404
    assert post(out, f"/events/{event.id}/delete", page="/events").status_code == 404
    # Open group: everyone reads, only members add events.
    open_group = a_group(app, owner, kind="open", name="Carers")
    stranger = browser(app, outsider)
    assert stranger.get(f"/events/new?group={open_group.slug}").status_code == 403
    response = submit(stranger, "/events", event_form(), post_url=f"/events/new?group={open_group.slug}")
    assert response.status_code == 403
    assert count_events(app) == 1
    response = submit(browser(app, owner), f"/events/new?group={open_group.slug}", event_form(title="Carers' coffee"))
    assert response.status_code == 303
    created = load(app, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert created.group_id == open_group.id and created.visibility == "group"
    listing = text(browser(app).get(f"/groups/{open_group.slug}/events"))
    assert "Carers&#39; coffee" in listing
    assert f'href="/groups/{open_group.slug}/events"' in text(browser(app).get(f"/groups/{open_group.slug}"))


# ---------------------------------------------------------------------------------------------
# The access matrix: every channel, every viewer
# ---------------------------------------------------------------------------------------------

CASES = ("public", "members", "open", "closed", "secret")
VIEWERS = ("visitor", "member", "non_member", "group_member", "site_mod")
SEES = {
    "public": set(VIEWERS),
    "members": {"member", "non_member", "group_member", "site_mod"},
    "open": set(VIEWERS),
    "closed": {"group_member", "site_mod"},
    "secret": {"group_member", "site_mod"},
}
MARKERS = {case: f"zq{case}marker" for case in CASES}


@pytest.fixture
def world(app):
    owner = person(app)
    centre = a_centre(app)
    groups = {kind: a_group(app, owner, kind=kind, name=f"{kind.title()} group") for kind in ("open", "closed", "secret")}
    people = {"visitor": None, "member": person(app), "non_member": person(app), "group_member": person(app),
              "site_mod": staff(app)}
    for group in groups.values():
        member(app, group, people["group_member"])
        if group.kind != "secret":
            member(app, group, people["non_member"], state="pending")  # asked, not yet let in
    events = {}
    for case in CASES:
        marker = MARKERS[case]
        kwargs = {"group": groups[case]} if case in groups else {"visibility": case}
        events[case] = an_event(app, owner, title=f"Event {marker}", description=f"About {marker} things",
                                centre=centre, **kwargs)
    return {"owner": owner, "centre": centre, "groups": groups, "people": people, "events": events}


def channels(client, world, case) -> dict:
    event = world["events"][case]
    marker = MARKERS[case]
    out = {
        "page": client.get(f"/events/{event.id}"),
        "ics": client.get(f"/events/{event.id}.ics"),
        "feed": client.get("/events/calendar.ics"),
        "list": client.get("/events"),
        "centre": client.get(f"/centres/{world['centre'].slug}"),
        "search": client.get(f"/search?q={marker}"),
        "api": client.get(f"/api/search?q={marker}&type=community"),
    }
    if case in world["groups"]:
        out["group_events"] = client.get(f"/groups/{world['groups'][case].slug}/events")
        out["group_page"] = client.get(f"/groups/{world['groups'][case].slug}")
    return out


@pytest.mark.parametrize("viewer", VIEWERS)
def test_every_channel_agrees_with_the_policy(app, world, viewer):
    client = browser(app, world["people"][viewer])
    for case in CASES:
        sees = viewer in SEES[case]
        event = world["events"][case]
        marker = MARKERS[case]
        got = channels(client, world, case)
        where = f"{viewer} / {case}"
        assert got["page"].status_code == (200 if sees else 404), where
        assert got["ics"].status_code == (200 if sees else 404), where
        for name in ("feed", "list", "centre", "search", "api"):
            assert got[name].status_code == 200, (where, name)
        body = {name: text(response) for name, response in got.items()}
        if sees:
            assert marker in body["page"] and marker in body["ics"], where
            assert marker in body["feed"] and marker in body["list"] and marker in body["centre"], where
            assert f'href="/events/{event.id}"' in body["search"], where
            result = got["api"].get_json()
            assert result["total"] == 1 and result["results"][0]["url"] == f"/events/{event.id}", where
        else:
            for name in ("feed", "list", "centre", "api", "page", "ics"):
                assert marker not in body[name], (where, name)
            assert f'href="/events/{event.id}"' not in body["search"], where
            assert marker not in unechoed(body["search"], marker), where
            assert got["api"].get_json()["total"] == 0, where
        if case in world["groups"]:
            inside = viewer in SEES[case]
            assert got["group_events"].status_code == (200 if inside else 404), where
            assert (marker in body["group_events"]) == inside, where
            if got["group_page"].status_code == 200:
                assert (marker in body["group_page"]) == inside, where


def test_group_kind_change_restamps_event_scope(app):
    owner = person(app)
    group = a_group(app, owner, kind="open", name="Changing group")
    event = an_event(app, owner, group=group, title="Wombatology evening")
    visitor = browser(app)
    assert visitor.get("/api/search?q=wombatology&type=community").get_json()["total"] == 1
    from tests.factories import group_form
    response = submit(browser(app, owner), f"/groups/{group.slug}/edit", group_form(name="Changing group", kind="closed"))
    assert response.status_code in (302, 303)
    # The index total counts documents by scope before the database re-check: re-stamped, it is 0.
    assert visitor.get("/api/search?q=wombatology&type=community").get_json()["total"] == 0
    assert visitor.get(f"/events/{event.id}").status_code == 404
    assert browser(app, owner).get("/api/search?q=wombatology&type=community").get_json()["total"] == 1


def test_deleting_a_group_takes_its_events_along(app):
    owner = person(app)
    group = a_group(app, owner, kind="open", name="Short-lived group")
    event = an_event(app, owner, group=group, title="Platypusology talk")
    with app.app_context():
        from app.groups.models import Group
        from app.groups.services import delete_group
        delete_group(db.session.get(Group, group.id), here(owner))
    assert load(app, event.id) is None
    assert browser(app).get("/api/search?q=platypusology&type=community").get_json()["total"] == 0


# ---------------------------------------------------------------------------------------------
# iCalendar
# ---------------------------------------------------------------------------------------------

def test_ics_has_utc_times_a_stable_uid_and_absolute_links_from_config(app):
    client = browser(app, person(app))
    response = submit(client, "/events/new", event_form(title="Lung cancer screening; a webinar, part 1",
                                                         start_date="2030-03-12", end_date="2030-03-12",
                                                         start_time="09:00", end_time="17:00",
                                                         timezone="Europe/Paris", city="Paris", country="FR"))
    event_id = int(response.headers["Location"].rsplit("/", 1)[1])
    download = browser(app).get(f"/events/{event_id}.ics", headers={"Host": "evil.example"})
    assert "attachment" in download.headers["Content-Disposition"]
    cal = parse_ics(download)
    [vevent] = cal.events
    assert vevent.decoded("dtstart") == datetime(2030, 3, 12, 8, 0, tzinfo=vevent.decoded("dtstart").tzinfo)
    assert vevent.decoded("dtstart").utcoffset() == timedelta(0)  # UTC (CET is +1 in March)
    assert vevent.decoded("dtend").hour == 16
    assert b"DTSTART:20300312T080000Z" in download.get_data()
    assert str(vevent["UID"]) == f"event-{event_id}@localhost"
    assert str(vevent["SUMMARY"]) == "Lung cancer screening; a webinar, part 1"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["URL"]) == f"http://localhost/events/{event_id}"
    assert "evil.example" not in download.get_data(as_text=True)
    again = parse_ics(browser(app).get(f"/events/{event_id}.ics"))
    assert str(again.events[0]["UID"]) == str(vevent["UID"])  # stable
    feed = parse_ics(browser(app).get("/events/calendar.ics"))
    assert [str(e["UID"]) for e in feed.events] == [f"event-{event_id}@localhost"]


def test_all_day_ics_uses_dates_with_an_exclusive_end(app):
    event = an_event(app, person(app), all_day=True, days_ahead=10, hours=48)
    [vevent] = parse_ics(browser(app).get(f"/events/{event.id}.ics")).events
    start, end = vevent.decoded("dtstart"), vevent.decoded("dtend")
    assert not isinstance(start, datetime) and (end - start).days == 3  # three days, DTEND exclusive


def test_calendar_feed_is_evaluated_for_whoever_fetches_it(app):
    owner, insider = person(app), person(app)
    group = a_group(app, owner, kind="closed", name="Feed group")
    member(app, group, insider)
    public = an_event(app, owner, title="Public one")
    members_only = an_event(app, owner, title="Members one", visibility="members")
    closed = an_event(app, owner, group=group, title="Closed one")
    old = an_event(app, owner, title="Long ago", days_ahead=-90)
    recent = an_event(app, owner, title="Last week", days_ahead=-7)

    def uids(client):
        return {str(e["UID"]).split("@")[0] for e in parse_ics(client.get("/events/calendar.ics")).events}
    assert uids(browser(app)) == {f"event-{public.id}", f"event-{recent.id}"}
    assert uids(browser(app, person(app))) == {f"event-{public.id}", f"event-{recent.id}", f"event-{members_only.id}"}
    assert uids(browser(app, insider)) == {f"event-{e.id}" for e in (public, recent, members_only, closed)}
    assert f"event-{old.id}" not in uids(browser(app, staff(app)))


# ---------------------------------------------------------------------------------------------
# Lists
# ---------------------------------------------------------------------------------------------

def test_filters_past_view_and_pages(app):
    owner = person(app)
    an_event(app, owner, title="Webinar in Spain", kind="webinar", country="ES", city="", online_url="https://x.example")
    an_event(app, owner, title="Congress in France", kind="congress", country="FR", days_ahead=70)
    an_event(app, owner, title="Finished meeting", kind="meeting", days_ahead=-20)
    client = browser(app)
    page = text(client.get("/events?kind=webinar"))
    assert "Webinar in Spain" in page and "Congress in France" not in page
    page = text(client.get("/events?country=FR"))
    assert "Congress in France" in page and "Webinar in Spain" not in page
    assert "Congress in France" not in text(client.get("/events?mode=online"))
    assert "Webinar in Spain" not in text(client.get("/events?mode=in_person"))
    page = text(client.get("/events"))
    assert "Finished meeting" not in page and page.index("Webinar in Spain") < page.index("Congress in France")
    past = text(client.get("/events?when=past"))
    assert "Finished meeting" in past and "Webinar in Spain" not in past and "<h1>Past events</h1>" in past
    month = (utcnow() + timedelta(days=70)).strftime("%Y-%m")
    assert "Congress in France" in text(client.get(f"/events?month={month}"))
    assert client.get("/events?month=2030-13&kind=<script>&country=xx&page=-4").status_code == 200
    for n in range(22):
        an_event(app, owner, title=f"Bulk event {n:02d}", days_ahead=100 + n)
    first, second = text(client.get("/events")), text(client.get("/events?page=2"))
    assert 'rel="next"' in first and "Bulk event 21" not in first and "Bulk event 21" in second


# ---------------------------------------------------------------------------------------------
# Demo data
# ---------------------------------------------------------------------------------------------

def test_demo_events_load_once_and_respect_their_groups(app):
    from app.agenda.demo import EVENTS
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    assert count_events(app) == len(EVENTS)
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0 and count_events(app) == len(EVENTS)
    assert "created   event" not in second.output
    visitor = browser(app)
    listing = text(visitor.get("/events"))
    assert "European Thoracic Oncology Congress" in listing and "coffee morning" in listing
    assert "Peer support evening" not in listing and "rotation planning" not in listing  # closed group, members
    centre = text(visitor.get("/centres/gustave-roussy-villejuif"))
    assert "Thoracic tumour board masterclass at Gustave Roussy" in centre
    with app.app_context():
        from app.accounts.models import User
        nurse = db.session.scalar(select(User).where(User.email == "nurse@demo.oncollab.eu"))
    assert "Peer support evening" in text(browser(app, nurse).get("/events"))
    assert visitor.get("/api/search?q=peer+support+evening&type=community").get_json()["total"] == 0

"""iCalendar (RFC 5545) with the ``icalendar`` package: one event, and the calendar feed.

Calendar apps usually fetch a feed without a cookie, so they get what a visitor may see; a signed-in
browser gets what its person may see. Either way the policy is asked at fetch time. Links are
absolute from ``PUBLIC_URL`` (never the Host header: a cached file must not carry a forged host).
Times are UTC (``DTSTART:...Z``); all-day events are DATE values with an exclusive DTEND. The UID
is stable per event, so re-importing updates the entry instead of duplicating it."""
from __future__ import annotations

from datetime import timezone
from urllib.parse import urlsplit

from flask import Response, current_app, url_for
from flask_login import current_user
from icalendar import Calendar
from icalendar import Event as VEvent

from app import policy
from app.agenda import bp, queries
from app.agenda.models import KIND_NAMES, Event
from app.core.countries import COUNTRIES
from app.sanitize import plain_text

DESCRIPTION_CHARS = 4_000


def absolute(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def uid_of(event: Event) -> str:
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "oncollab"
    return f"event-{event.id}@{host}"


def _utc(value):
    return value.replace(tzinfo=timezone.utc)


def _where(event: Event) -> str:
    country = str(_country(event.country)) if event.country else ""
    parts = [event.location, event.city, country]
    if event.centre is not None and event.centre.name not in (event.location or ""):
        parts.insert(0, event.centre.name)
    text = ", ".join(p for p in parts if p)
    return text or (event.online_url if event.online_url else "")


def _country(code):
    return COUNTRIES.get(code, code)


def vevent(event: Event) -> VEvent:
    item = VEvent()
    item.add("uid", uid_of(event))
    item.add("dtstamp", _utc(event.updated_at))
    item.add("created", _utc(event.created_at))
    item.add("last-modified", _utc(event.updated_at))
    if event.all_day:
        item.add("dtstart", event.starts_at.date())
        item.add("dtend", event.ends_at.date())  # exclusive, as stored
    else:
        item.add("dtstart", _utc(event.starts_at))
        item.add("dtend", _utc(event.ends_at))
    item.add("summary", event.title)
    link = absolute(url_for("agenda.show", event_id=event.id))
    text = plain_text(event.description, DESCRIPTION_CHARS)
    extra = [f"Online: {event.online_url}"] if event.online_url else []
    item.add("description", "\n\n".join(x for x in (text, *extra, link) if x))
    where = _where(event)
    if where:
        item.add("location", where)
    item.add("url", link)
    item.add("categories", [KIND_NAMES.get(event.kind, event.kind)])
    item.add("status", "CANCELLED" if event.is_cancelled else "CONFIRMED")
    item.add("class", "PUBLIC" if policy.scope_of(event) == policy.PUBLIC else "PRIVATE")
    return item


def calendar(events, name: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Oncollab//Events//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-published-ttl", "PT1H")
    for event in events:
        cal.add_component(vevent(event))
    return cal.to_ical()


def _response(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/events/<int(max=2147483647):event_id>.ics")
def event_ics(event_id):
    event = policy.get_visible_or_404(Event, event_id)
    return _response(calendar([event], event.title), filename=f"oncollab-event-{event.id}.ics")


@bp.get("/events/calendar.ics")
def calendar_feed():
    events = queries.calendar_events(current_user)
    return _response(calendar(events, current_app.config.get("SITE_NAME", "Oncollab") + " events"))

"""Verbs that change events, and the few read helpers other features call (the centre page, the
group page). The HTML forms, the demo loader and the test factories all go through these, so
validation, sanitising, the policy check and indexing happen once.

Errors are ``EventError`` with an HTTP status and, when one input is at fault, the field name:
the route shows it next to that field and keeps everything the person typed."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app import policy
from app.agenda.models import KINDS, RSVP_STATES, Event, EventRsvp
from app.agenda.queries import eager
from app.composer.render import render_for
from app.core.countries import COUNTRIES
from app.core.errors import ServiceError
from app.core.text import SPACES, UNSTORABLE
from app.directory.models import Centre
from app.extensions import db
from app.media.services import choose_picture
from app.models_base import utcnow
from app.sanitize import SANITIZER_VERSION

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
LOCATION_MAX = 300
CITY_MAX = 120
URL_MAX = 500
MAX_DAYS = 366  # a longer "event" is a typo in a year field

KIND_LABELS = {
    "conference": _l("Conference"),
    "congress": _l("Congress"),
    "webinar": _l("Webinar"),
    "course": _l("Course or training"),
    "meeting": _l("Meeting"),
    "support_meeting": _l("Patient or support meeting"),
}
assert set(KIND_LABELS) == set(KINDS)

# Zones offered in the form: UTC, then Europe and the Atlantic islands of European countries.
EXTRA_ZONES = ("UTC", "Atlantic/Azores", "Atlantic/Canary", "Atlantic/Madeira", "Atlantic/Reykjavik",
               "Asia/Nicosia", "Asia/Jerusalem", "Asia/Tbilisi", "Asia/Yerevan", "Asia/Baku")


@lru_cache(maxsize=1)
def _zones() -> frozenset:
    return frozenset(available_timezones()) | {"UTC"}


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    europe = sorted(z for z in _zones() if z.startswith("Europe/"))
    return ("UTC", *europe, *(z for z in EXTRA_ZONES[1:] if z in _zones()))


class EventError(ServiceError):
    """The calendar's refusals (a ``ServiceError``)."""


# ---------------------------------------------------------------------------------------------
# Normalising input
# ---------------------------------------------------------------------------------------------

def _line(value, field: str, limit: int, required: bool = False) -> str:
    text = SPACES.sub(" ", UNSTORABLE.sub("", str(value or ""))).strip()
    if required and not text:
        raise EventError(_("Please enter a title."), field)
    if len(text) > limit:
        raise EventError(_("This can be at most %(limit)d characters long.", limit=limit), field)
    return text


def clean_url(value) -> str:
    """http and https only, with a host; anything else (javascript:, data:, ftp:) is refused."""
    url = str(value or "").strip()
    if not url:
        return ""
    if len(url) > URL_MAX:
        raise EventError(_("This can be at most %(limit)d characters long.", limit=URL_MAX), "online_url")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or any(ch.isspace() or ord(ch) < 32 for ch in url)):
        raise EventError(_("Enter a web address starting with https:// or http://."), "online_url")
    return url


def zone_of(name) -> ZoneInfo:
    try:
        if name in _zones():
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise EventError(_("Choose a time zone from the list."), "timezone")


def to_utc(day: date, at: time | None, zone: ZoneInfo) -> datetime:
    """A local wall-clock time at the venue -> naive UTC, as stored."""
    local = datetime.combine(day, at or time(0, 0)).replace(tzinfo=zone)
    return local.astimezone(dt_timezone.utc).replace(tzinfo=None)


def local_time(value: datetime, zone_name: str) -> datetime:
    """Stored naive UTC -> an aware datetime at the venue (for pages)."""
    try:
        zone = ZoneInfo(zone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return value.replace(tzinfo=dt_timezone.utc).astimezone(zone)


@dataclass
class EventInput:
    """What a form (or any other channel) hands to the service, as typed."""
    title: str = ""
    description: str = ""
    kind: str = "meeting"
    all_day: bool = False
    start_date: date | None = None
    start_time: time | None = None
    end_date: date | None = None
    end_time: time | None = None
    timezone: str = "UTC"
    location: str = ""
    city: str = ""
    country: str | None = None
    online_url: str = ""
    centre_id: int | None = None
    visibility: str = "public"
    cover_id: int | None = None  # the organiser's own image (app/media)
    programme_id: int | None = None  # the organiser's own PDF


def _times(data: EventInput) -> tuple[datetime, datetime]:
    if data.start_date is None:
        raise EventError(_("Please give the date the event starts."), "start_date")
    end_day = data.end_date or data.start_date
    if data.all_day:
        starts = datetime.combine(data.start_date, time(0, 0))
        ends = datetime.combine(end_day, time(0, 0)) + timedelta(days=1)  # exclusive, as DTEND
        if end_day < data.start_date:
            raise EventError(_("The event cannot end before it starts."), "end_date")
    else:
        if data.start_time is None:
            raise EventError(_("Please give the time the event starts, or tick \u201call day\u201d."), "start_time")
        zone = zone_of(data.timezone)
        starts = to_utc(data.start_date, data.start_time, zone)
        if data.end_time is None and data.end_date is None:
            ends = starts + timedelta(hours=1)
        elif data.end_time is None:
            raise EventError(_("Please give the time the event ends."), "end_time")
        else:
            ends = to_utc(end_day, data.end_time, zone)
        if ends < starts:
            raise EventError(_("The event cannot end before it starts."),
                             "end_time" if end_day == data.start_date else "end_date")
    if ends - starts > timedelta(days=MAX_DAYS):
        raise EventError(_("An event can last at most a year: check the dates."), "end_date")
    return starts, ends


def _clean(data: EventInput, group, organiser_id: int) -> dict:
    title = _line(data.title, "title", TITLE_MAX, required=True)
    description = UNSTORABLE.sub("", str(data.description or "")).replace("\r\n", "\n")
    if len(description) > DESCRIPTION_MAX:
        raise EventError(_("This can be at most %(limit)d characters long.", limit=DESCRIPTION_MAX), "description")
    if data.kind not in KINDS:
        raise EventError(_("Choose what kind of event this is."), "kind")
    country = (data.country or "").strip().upper() or None
    if country is not None and country not in COUNTRIES:
        raise EventError(_("Choose a country from the list."), "country")
    if group is not None:
        visibility = "group"
    elif data.visibility in ("public", "members"):
        visibility = data.visibility
    else:
        raise EventError(_("Choose who can see the event."), "visibility")
    starts, ends = _times(data)
    centre_id = data.centre_id
    if centre_id is not None:
        if db.session.get(Centre, centre_id) is None:
            raise EventError(_("We could not find this centre in the directory."), "centre")
    try:
        description_html = str(render_for(organiser_id, description))
        cover = choose_picture(organiser_id, data.cover_id, kinds=("image",), field="cover")
        programme = choose_picture(organiser_id, data.programme_id, kinds=("document",), field="programme")
    except ServiceError as error:
        raise EventError(error.message, error.field or "description") from None
    return dict(title=title, description=description, description_html=description_html,
                cover_id=cover.id if cover else None, programme_id=programme.id if programme else None,
                html_version=SANITIZER_VERSION, kind=data.kind, all_day=bool(data.all_day),
                starts_at=starts, ends_at=ends, timezone="UTC" if data.all_day else (data.timezone or "UTC"),
                location=_line(data.location, "location", LOCATION_MAX),
                city=_line(data.city, "city", CITY_MAX), country=country,
                online_url=clean_url(data.online_url), centre_id=centre_id, visibility=visibility)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def create_event(organiser, data: EventInput, *, group=None) -> Event:
    if not policy.can_create_event(organiser, group):
        if group is not None and policy.can_view(organiser, group):
            raise EventError(_("Only members of this group can add events to it. Join the group first."), status=403)
        raise EventError(_("Please confirm your e-mail address before adding an event."), status=403)
    values = _clean(data, group, organiser.id)
    event = Event(**values, group=group, created_by=organiser.id)
    db.session.add(event)
    db.session.commit()
    return event


def update_event(event: Event, editor, data: EventInput) -> Event:
    """The group never changes (an event does not move between groups)."""
    if not policy.can_edit_event(editor, event):
        raise EventError(_("You cannot edit this event."), status=403)
    for key, value in _clean(data, event.group, event.created_by).items():
        setattr(event, key, value)
    db.session.commit()
    return event


def cancel_event(event: Event, actor) -> Event:
    """A cancelled event stays visible, marked cancelled (people who planned to come must see it)."""
    if not policy.can_delete_event(actor, event):
        raise EventError(_("You cannot cancel this event."), status=403)
    if event.cancelled_at is None:
        event.cancelled_at = utcnow()
        db.session.commit()
    return event


def reinstate_event(event: Event, actor) -> Event:
    if not policy.can_delete_event(actor, event):
        raise EventError(_("You cannot change this event."), status=403)
    if event.cancelled_at is not None:
        event.cancelled_at = None
        db.session.commit()
    return event


def delete_event(event: Event, actor) -> None:
    if not policy.can_delete_event(actor, event):
        raise EventError(_("You cannot delete this event."), status=403)
    db.session.delete(event)
    db.session.commit()


def set_rsvp(event: Event, user, state: str | None) -> str | None:
    """going / interested / None (withdraw). One row per person, changed in place."""
    if state not in (*RSVP_STATES, None):
        raise EventError(_("Choose going or interested."), "state")
    if not policy.can_rsvp(user, event):
        raise EventError(_("This event was cancelled.") if event.is_cancelled
                         else _("You cannot answer this event."), status=403 if not event.is_cancelled else 409)
    if state is not None and event.is_past(utcnow()):
        raise EventError(_("This event is over."), status=409)
    row = db.session.scalar(select(EventRsvp).where(EventRsvp.event_id == event.id, EventRsvp.user_id == user.id))
    if state is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(EventRsvp(event_id=event.id, user_id=user.id, state=state))
    else:
        row.state = state
    db.session.commit()
    return state


# ---------------------------------------------------------------------------------------------
# Reading for other features (lists for this feature's pages are in queries.py)
# ---------------------------------------------------------------------------------------------

def upcoming_at_centre(centre_id: int, user, limit: int = 5) -> list[Event]:
    """Events hosted at a centre that ``user`` may see, soonest first (the centre page)."""
    query = select(Event).where(Event.centre_id == centre_id, Event.ends_at > utcnow())
    query = policy.visible(query, user, Event).order_by(Event.starts_at, Event.id).limit(limit)
    return db.session.scalars(eager(query)).all()


def find_centre(value: str):
    """A centre from what someone typed: its slug, its page address, or its exact name."""
    text = (value or "").strip()
    if not text:
        return None
    match = re.search(r"/centres/([a-z0-9-]+)/?$", text)
    slug = match.group(1) if match else text.lower()
    centre = db.session.scalar(select(Centre).where(Centre.slug == slug))
    if centre is not None:
        return centre
    named = db.session.scalars(select(Centre).where(func.lower(Centre.name) == text.lower()).limit(2)).all()
    if len(named) == 1:
        return named[0]
    if named:
        raise EventError(_("Several centres have this name: paste the address of the centre's page instead."), "centre")
    raise EventError(_("We could not find this centre in the directory. Type its name as the directory lists it, "
                       "or paste the address of its page."), "centre")


def centre_label(centre) -> str:
    """What the form shows for a chosen centre: its name when that finds it again, else its slug."""
    same = db.session.scalar(select(func.count()).select_from(Centre).where(func.lower(Centre.name) == centre.name.lower()))
    return centre.name if same == 1 else centre.slug

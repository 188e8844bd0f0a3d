"""Reading events for pages: the calendar and a group's events with filters, RSVP counts, the
calendar feed. Every query goes through ``policy.visible`` (lists, counts and feeds alike) and
eager-loads what the templates show, so a page's query count does not grow with its rows."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app import policy
from app.accounts.models import User
from app.agenda.models import KINDS, Event, EventRsvp
from app.core.countries import COUNTRIES
from app.core.pagination import fetch_page
from app.extensions import db
from app.models_base import utcnow


@dataclass
class Filters:
    when: str = "upcoming"  # upcoming | past
    kind: str = ""
    country: str = ""
    mode: str = ""  # online | in_person
    month: str = ""  # YYYY-MM

    @classmethod
    def from_args(cls, args) -> "Filters":
        kind = args.get("kind", "")
        country = args.get("country", "").upper()
        mode = args.get("mode", "")
        month = args.get("month", "")
        return cls(when="past" if args.get("when") == "past" else "upcoming",
                   kind=kind if kind in KINDS else "",
                   country=country if country in COUNTRIES else "",
                   mode=mode if mode in ("online", "in_person") else "",
                   month=month if month_bounds(month) else "")

    def args(self, **changes) -> dict:
        values = {"when": self.when if self.when != "upcoming" else None, "kind": self.kind,
                  "country": self.country, "mode": self.mode, "month": self.month}
        values.update(changes)
        return {k: v for k, v in values.items() if v}


def month_bounds(value: str) -> tuple[datetime, datetime] | None:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    start = datetime(year, month, 1)
    end = datetime(year + (month == 12), month % 12 + 1, 1)
    return start, end


def eager(query):
    return query.options(selectinload(Event.centre), selectinload(Event.group), selectinload(Event.organiser))


def _listed(query, user, filters: Filters, now: datetime):
    query = policy.visible(query, user, Event)
    if filters.kind:
        query = query.where(Event.kind == filters.kind)
    if filters.country:
        query = query.where(Event.country == filters.country)
    if filters.mode == "online":
        query = query.where(Event.online_url != "")
    elif filters.mode == "in_person":
        query = query.where(or_(Event.location != "", Event.city != "", Event.centre_id.is_not(None)))
    bounds = month_bounds(filters.month)
    if bounds:  # a chosen month shows the whole month, past days included
        query = query.where(Event.starts_at < bounds[1], Event.ends_at > bounds[0])
        return query.order_by(Event.starts_at, Event.id)
    if filters.when == "past":
        return query.where(Event.ends_at <= now).order_by(Event.starts_at.desc(), Event.id.desc())
    return query.where(Event.ends_at > now).order_by(Event.starts_at, Event.id)


def list_events(user, filters: Filters, page: int = 1, per_page: int = 20, *, group=None):
    """(events, has_next) for a page of the calendar or of a group's events."""
    query = select(Event)
    if group is not None:
        query = query.where(Event.group_id == group.id)
    query = _listed(query, user, filters, utcnow())
    return fetch_page(eager(query), page, per_page)


def rsvp_counts(event_ids) -> dict[int, dict[str, int]]:
    """event id -> {"going": n, "interested": n}, one query for a whole page."""
    counts: dict[int, dict[str, int]] = {i: {"going": 0, "interested": 0} for i in event_ids}
    if not counts:
        return counts
    for event_id, state, n in db.session.execute(
            select(EventRsvp.event_id, EventRsvp.state, func.count())
            .where(EventRsvp.event_id.in_(list(counts))).group_by(EventRsvp.event_id, EventRsvp.state)):
        counts[event_id][state] = n
    return counts


def rsvp_of(event: Event, user) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(EventRsvp.state).where(EventRsvp.event_id == event.id,
                                                           EventRsvp.user_id == user.id))


def attendees(event: Event) -> list[tuple]:
    """(user, state) for the organiser's and moderators' eyes only (the route decides)."""
    return db.session.execute(
        select(User, EventRsvp.state).join(EventRsvp, EventRsvp.user_id == User.id)
        .where(EventRsvp.event_id == event.id, User.is_active_account.is_(True))
        .order_by(EventRsvp.state, User.display_name)).all()


def upcoming_in_group(group, user, limit: int = 3) -> list[Event]:
    if not policy.can_view_inside(user, group):
        return []
    query = select(Event).where(Event.group_id == group.id, Event.ends_at > utcnow())
    query = policy.visible(query, user, Event).order_by(Event.starts_at, Event.id).limit(limit)
    return db.session.scalars(query).all()


def calendar_events(user, *, past_days: int = 30, limit: int = 500) -> list[Event]:
    """The calendar feed: what ``user`` may see, from a month ago onwards."""
    since = utcnow() - timedelta(days=past_days)
    query = policy.visible(select(Event).where(Event.ends_at > since), user, Event)
    return db.session.scalars(eager(query.order_by(Event.starts_at, Event.id).limit(limit))).all()

"""Events and RSVPs.

Times are naive UTC like the rest of the app. ``timezone`` is the IANA zone the organiser typed
the times in, kept so pages can show the local time of the venue. An all-day event stores its first
day at 00:00 and the day after its last day at 00:00 (an exclusive end, as iCalendar's DTEND).

Access: ``visibility`` is ``public``, ``members`` (signed-in accounts) or ``group`` (exactly when
``group_id`` is set: the event then lives inside its group like the group's forum). The rule is in
app/policy/agenda.py. The description is Markdown, rendered and sanitised once at
write time (``description_html``), never on view."""
from datetime import datetime, timedelta

from app.extensions import db
from app.models_base import TimestampMixin, utcnow

KINDS = ("conference", "congress", "webinar", "course", "meeting", "support_meeting")
# Plain English names for places with no request (search documents, calendar files); pages use the
# translated labels in services.KIND_LABELS.
KIND_NAMES = {"conference": "Conference", "congress": "Congress", "webinar": "Webinar",
              "course": "Course or training", "meeting": "Meeting", "support_meeting": "Patient or support meeting"}
VISIBILITIES = ("public", "members", "group")
RSVP_STATES = ("going", "interested")


class Event(TimestampMixin, db.Model):
    __tablename__ = "events"
    __table_args__ = (
        db.CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        db.CheckConstraint("(visibility = 'group') = (group_id IS NOT NULL)", name="group_visibility"),
        db.Index("ix_events_visibility_starts", "visibility", "starts_at"),
        db.Index("ix_events_centre_ends", "centre_id", "ends_at"),
        db.Index("ix_events_group_ends", "group_id", "ends_at"),
    )
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    description_html = db.Column(db.Text, nullable=False, default="")
    html_version = db.Column(db.Integer, nullable=False, default=1)
    kind = db.Column(db.String(20), nullable=False, default="meeting", index=True)
    starts_at = db.Column(db.DateTime, nullable=False, index=True)
    ends_at = db.Column(db.DateTime, nullable=False, index=True)
    all_day = db.Column(db.Boolean, nullable=False, default=False)
    timezone = db.Column(db.String(64), nullable=False, default="UTC")
    location = db.Column(db.String(300), nullable=False, default="")
    city = db.Column(db.String(120), nullable=False, default="")
    country = db.Column(db.String(2), index=True)
    online_url = db.Column(db.String(500), nullable=False, default="")
    centre_id = db.Column(db.Integer, db.ForeignKey("centres.id", ondelete="SET NULL"), index=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"))
    visibility = db.Column(db.String(10), nullable=False, default="public")
    created_by = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    cancelled_at = db.Column(db.DateTime)
    # From the organiser's media library (app/media): a cover picture and the programme (PDF).
    cover_id = db.Column(db.Integer)
    programme_id = db.Column(db.Integer)

    centre = db.relationship("Centre")
    group = db.relationship("Group")
    organiser = db.relationship("User", foreign_keys=[created_by])
    rsvps = db.relationship("EventRsvp", back_populates="event", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def is_online(self) -> bool:
        return bool(self.online_url)

    @property
    def in_person(self) -> bool:
        return bool(self.location or self.city or self.centre_id)

    @property
    def last_day(self):
        """The last calendar day of the event (an all-day end is stored exclusive)."""
        if self.all_day:
            return (self.ends_at - timedelta(days=1)).date()
        return self.ends_at.date()

    def is_past(self, now: datetime) -> bool:
        """Over once its end has passed (the same test as the lists' ``ends_at > now``)."""
        return self.ends_at <= now

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


class EventRsvp(db.Model):
    """One person's answer to one event: going or interested (no row: no answer)."""
    __tablename__ = "event_rsvps"
    __table_args__ = (db.UniqueConstraint("event_id", "user_id", name="uq_event_rsvps_event_user"),)
    id = db.Column(db.Integer, primary_key=True)
    event_id = db.Column(db.Integer, db.ForeignKey("events.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    state = db.Column(db.String(12), nullable=False, default="going")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    event = db.relationship("Event", back_populates="rsvps")
    user = db.relationship("User")

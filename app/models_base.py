"""Column helpers shared by every feature's models."""
from datetime import datetime, timezone

from app.extensions import db


def utcnow() -> datetime:
    """Naive UTC, stored the same way in SQLite and PostgreSQL; templates localise it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TimestampMixin:
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

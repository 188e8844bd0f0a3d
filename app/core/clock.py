"""Time as the database stores it."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    """Naive UTC, stored the same way in SQLite and PostgreSQL; templates localise it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso(moment: datetime | None) -> str | None:
    """A stored (naive UTC) time as the ISO string browsers parse as UTC."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None

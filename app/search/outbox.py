"""The search outbox: "re-index this" records written in the same database transaction as the
change they describe, so a committed change always has its record and a rolled-back one has none.

The session hook (``indexer._after_flush``) and ``indexer.reindex_ids`` write rows; the one
writer (``writer.py``) drains them in id order, rebuilding each document from the database as it
is then, and deletes them only once the index has committed. A row is therefore never lost, and
applying one twice does no harm.

A row is either ``op="doc"``: the document ``kind:ref`` (ref = the row's primary key as text) is
rebuilt, or deleted when its row is gone or no longer indexable; or ``op="purge"``: every document
whose field ``kind`` holds ``ref`` goes (a deleted group or topic took its replies with it through
ON DELETE CASCADE, which the ORM never sees).
"""
from __future__ import annotations

from sqlalchemy import func, insert, select

from app.extensions import db
from app.models_base import utcnow

DOC, PURGE = "doc", "purge"


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"
    # 64-bit on PostgreSQL (ids are never reused); SQLite's INTEGER PRIMARY KEY is 64-bit already.
    id = db.Column(db.BigInteger().with_variant(db.Integer(), "sqlite"), primary_key=True, autoincrement=True)
    op = db.Column(db.String(8), nullable=False, default=DOC)
    kind = db.Column(db.String(20), nullable=False)  # doc: the document kind; purge: the field
    ref = db.Column(db.String(64), nullable=False)  # doc: the primary key as text; purge: the value
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)


def record(connection, rows: list[dict]) -> None:
    """Insert ``rows`` ({"op", "kind", "ref"}) on ``connection``: the caller's transaction."""
    if rows:
        now = utcnow()
        connection.execute(insert(SearchOutbox.__table__), [dict(row, created_at=now) for row in rows])


def doc_rows(kind: str, ids) -> list[dict]:
    return [{"op": DOC, "kind": kind, "ref": str(ident)} for ident in ids]


def backlog(session=None) -> dict:
    """For /healthz and `search check`: rows waiting, and how long the oldest has waited."""
    session = session or db.session
    pending, oldest = session.execute(select(func.count(SearchOutbox.id), func.min(SearchOutbox.created_at))).one()
    age = round((utcnow() - oldest).total_seconds(), 1) if oldest is not None else 0.0
    return {"pending": pending, "oldest_seconds": max(age, 0.0)}

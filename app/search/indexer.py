"""The search index's SQLAlchemy session hooks, and what the index should hold (the only other
session hook keeps media uses in step: app/media/uses.py).

At flush, the hooks work out which documents a change touches (a group's kind restamps its
topics, replies, events and blog posts; a topic its replies; a trial site its trial; a centre's
network its centre; a deleted group or topic purges what cascaded with it) and write one outbox
row each (``outbox.py``) in the same transaction as the change: a rollback drops them with it.
After the commit the one writer (``writer.py``) is told; it builds the documents from the
database and writes the index, never in the user's request (unless SEARCH_WRITER is "sync", the
tests' setting). The index is a cache of the database: ``rebuild`` and ``check`` repair and
verify it.
"""
from __future__ import annotations

import gc
import logging
import os
import shutil
import time
from pathlib import Path

from flask import current_app, has_app_context
from sqlalchemy import delete, event, inspect, select
from sqlalchemy.orm import selectinload
from tqdm import tqdm
from whoosh import index
from whoosh.index import LockError
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util.filelock import try_for

from app.directory.models import CentreNetwork
from app.extensions import db
from app.forum.models import Post, Topic
from app.search import documents, outbox, writer
from app.search.schema import Codec, current_name, make_schema, open_index, set_current, writer as index_writer
from app.trials.models import TrialSite

log = logging.getLogger(__name__)
_REGISTERED = False
WROTE = "search_outbox_written"
REBUILD_LOCK_TIMEOUT = 120.0  # a drain batch takes well under a second; wait that long for it


def register(app) -> None:
    """Attach the session hooks once per process (create_app runs many times in tests)."""
    global _REGISTERED
    if _REGISTERED:
        return
    event.listen(db.session, "after_flush", _after_flush)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_soft_rollback", _after_soft_rollback)
    _REGISTERED = True


def _enabled() -> bool:
    return has_app_context() and current_app.config.get("SEARCH_ENABLED", True)


def _changed(obj, *names) -> bool:
    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names)


def _after_flush(session, _flush_context) -> None:
    if not _enabled():
        return
    rows = touched(session)
    if rows:
        outbox.record(session.connection(), rows)  # the same transaction as the change
        session.info[WROTE] = True


def touched(session) -> list[dict]:
    """The outbox rows for what this flush changed: purges first, then documents, each once."""
    plain = {model: kind for kind, (model, _builder) in documents.models().items()}
    todo: dict[tuple[str, int], None] = {}  # an ordered set
    purges: dict[tuple[str, str], None] = {}

    for obj in list(session.deleted):
        kind = plain.get(type(obj))
        if kind:
            todo[(kind, obj.id)] = None
            if kind in ("group", "topic"):  # their replies went with them (ON DELETE CASCADE)
                purges[("group_id" if kind == "group" else "topic", str(obj.id))] = None
        elif isinstance(obj, TrialSite) and obj.trial_id:
            todo[("trial", obj.trial_id)] = None
        elif isinstance(obj, CentreNetwork) and obj.centre_id:
            todo[("centre", obj.centre_id)] = None
    for obj in list(session.new) + list(session.dirty):
        kind = plain.get(type(obj))
        if kind:
            todo[(kind, obj.id)] = None
            if kind == "group" and obj in session.dirty and _changed(obj, "kind"):
                _restamp_group(session, obj.id, todo)  # its topics and replies change scope
            if kind == "topic" and obj in session.dirty and _changed(obj, "deleted_at", "title", "group_id"):
                _restamp_topic(session, obj.id, todo)
            if kind == "post" and obj.number == 1:
                todo[("topic", obj.topic_id)] = None
        elif isinstance(obj, TrialSite) and obj.trial_id:
            todo[("trial", obj.trial_id)] = None
        elif isinstance(obj, CentreNetwork) and obj.centre_id:
            todo[("centre", obj.centre_id)] = None
    return ([{"op": outbox.PURGE, "kind": field, "ref": value} for field, value in purges]
            + [{"op": outbox.DOC, "kind": kind, "ref": str(ident)} for kind, ident in todo])


def _restamp_group(session, group_id: int, todo: dict) -> None:
    for topic_id in session.scalars(select(Topic.id).where(Topic.group_id == group_id)):
        todo[("topic", topic_id)] = None
        _restamp_topic(session, topic_id, todo)
    # Other content living inside the group (events, blog posts) carries group_id itself.
    for kind, (model, _builder) in documents.models().items():
        if kind not in ("group", "topic", "post") and hasattr(model, "group_id"):
            for ident in session.scalars(select(model.id).where(model.group_id == group_id)):
                todo[(kind, ident)] = None


def _restamp_topic(session, topic_id: int, todo: dict) -> None:
    for post_id in session.scalars(select(Post.id).where(Post.topic_id == topic_id, Post.number > 1)):
        todo[("post", post_id)] = None


def _after_commit(session) -> None:
    if session.info.pop(WROTE, False) and _enabled():
        writer.notify()  # wakes the writer; never waits for the index (except SEARCH_WRITER=sync)


def _after_soft_rollback(session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(WROTE, None)  # the rows went with the transaction


def write(base: str, docs: dict, groups_gone=()) -> None:
    """Write documents straight into the index, bypassing the outbox: documents by key (None
    deletes), and (field, value) terms whose documents all go. For tests and benchmarks; the
    app writes through the outbox and ``writer.py``."""
    writer.write(base, docs, groups_gone)


def reindex_ids(kind: str, ids, commit: bool = True) -> int:
    """For bulk changes made outside the ORM's unit of work (core UPDATEs, imports): outbox rows
    for these ids in the current transaction, committed here (with the change, when it is not
    committed yet) unless ``commit=False``. Ids that are gone or not indexable leave the index."""
    ids = list(dict.fromkeys(ids))
    if kind not in documents.models():
        raise ValueError(f"unknown search kind: {kind}")
    for start in range(0, len(ids), 1000):
        outbox.record(db.session.connection(), outbox.doc_rows(kind, ids[start:start + 1000]))
    if ids:
        db.session.info[WROTE] = True
    if commit:
        db.session.commit()
    return len(ids)


def _rows(kind: str, model):
    query = select(model).order_by(model.id)
    if kind in writer.RELATED:
        query = query.options(selectinload(getattr(model, writer.RELATED[kind])))
    return db.session.scalars(documents.indexable(kind, query).execution_options(yield_per=500))


def rebuild(base: str, progress: bool = False, fail_after: int | None = None) -> int:
    """Build a complete index beside the live one, then swap ``CURRENT`` in one step.

    The live index's write lock is held from start to swap, so the outbox writer waits (its rows
    stay in the outbox) and afterwards applies to the new index whatever was committed during
    the rebuild. Rows already committed when the rebuild started are covered by it and deleted.
    ``fail_after`` simulates a crash after that many documents (tests)."""
    live = open_index(base, create=True)  # there is always a live index whose lock writers take
    lock = live.lock("WRITELOCK")
    if not try_for(lock.acquire, timeout=REBUILD_LOCK_TIMEOUT, delay=0.05):
        live.close()
        raise LockError("the search index stayed locked by another writer")
    try:
        covered = list(db.session.scalars(select(outbox.SearchOutbox.id)))
        kinds = documents.models()
        total = sum(len(documents.indexable_ids(k)) for k in kinds)
        name = f"ix-{int(time.time() * 1000)}"
        path = Path(base) / name
        path.mkdir(parents=True)
        ix = index.create_in(str(path), make_schema())
        count = 0
        bulk = bulk_writer(ix, total)
        try:
            with tqdm(total=total, disable=not progress, unit="doc", desc="search rebuild") as bar:
                for kind, (model, builder) in kinds.items():
                    docs = documents.trials_in_bulk() if kind == "trial" else map(builder, _rows(kind, model))
                    for doc in docs:
                        if doc is not None:
                            bulk.add_document(**doc)
                        count += 1
                        bar.update(1)
                        if fail_after is not None and count >= fail_after:
                            raise RuntimeError("simulated crash during rebuild")
            bulk.commit()
        except BaseException:
            bulk.cancel()
            ix.close()
            shutil.rmtree(path, ignore_errors=True)
            raise
        ix.close()
        old = current_name(base)
        set_current(base, name)
    finally:
        db.session.rollback()
        lock.release()
        live.close()
    with db.engine.begin() as conn:  # apart from the caller's session
        for start in range(0, len(covered), 1000):
            conn.execute(delete(outbox.SearchOutbox).where(outbox.SearchOutbox.id.in_(covered[start:start + 1000])))
    if old and old != name:
        shutil.rmtree(Path(base) / old, ignore_errors=True)
    return count


BULK_PROCS_FROM = 20_000  # below this, starting worker processes costs more than it saves


def bulk_writer(ix, total: int):
    """The writer for a whole index: one process per core for a large one (documents are built
    here and analysed in the workers, each writing its own segment, with no merge at the end).
    Shared with bench/search_bench.py, so the benchmark times exactly this."""
    procs = min(os.cpu_count() or 1, 4) if total >= BULK_PROCS_FROM else 1
    if procs > 1:
        # 1 GB of postings per worker before spilling to sorted runs: at 100k trials, 256 MB
        # spilled and the final merge of runs took a third of the time (135 s against 90 s).
        return _BulkWriter(ix, procs=procs, codec=Codec(), limitmb=1024, multisegment=True)
    return index_writer(ix, limitmb=256)


class _CollectorFreeTask(SubWriterTask):
    """A worker of the bulk writer, with Python's cyclic garbage collector off. The worker holds
    millions of posting tuples until it writes its segment, and the collector kept re-scanning
    them: a third of the worker's time at 30,000 trials. Nothing it builds is cyclic (pickled
    dicts of strings in, tuples of bytes out), so reference counting frees it all the same."""

    def run(self):
        gc.disable()
        super().run()


class _BulkWriter(MpWriter):
    """Whoosh's multiprocess writer with the worker above (the one thing that differs)."""

    def _new_task(self):
        task = _CollectorFreeTask(self.storage, self.indexname, self.jobqueue, self.resultqueue,
                                  self.subargs, self.multisegment)
        self.tasks.append(task)
        task.start()
        return task


def ensure_built(base: str, progress: bool = False) -> int | None:
    """Build when there is no index or an empty one (``make run``); otherwise leave it."""
    ix = open_index(base)
    if ix is not None:
        try:
            if ix.doc_count() > 0:
                return None
        finally:
            ix.close()
    return rebuild(base, progress=progress)


def check(base: str) -> dict:
    """kind -> {"missing": ids in the DB not in the index, "extra": ids in the index only}."""
    ix = open_index(base)
    indexed: dict[str, set[int]] = {k: set() for k in documents.models()}
    if ix is not None:
        with ix.searcher() as searcher:
            for fields in searcher.all_stored_fields():
                indexed.setdefault(fields["kind"], set()).add(int(fields["dbid"]))
        ix.close()
    report = {}
    for kind in documents.models():
        expected = documents.indexable_ids(kind)
        report[kind] = {"missing": sorted(expected - indexed[kind]), "extra": sorted(indexed[kind] - expected)}
    return report


def status(base: str) -> dict:
    try:
        ix = open_index(base)
        if ix is None:
            return {"ok": False, "error": "not built", "documents": 0}
        try:
            return {"ok": True, "documents": ix.doc_count(), "name": current_name(base)}
        finally:
            ix.close()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}

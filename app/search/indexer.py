"""The only SQLAlchemy session hooks in the app, and the one path that writes the index.

Documents are built at flush, while the rows and their relationships are at hand, and written
after the commit, so a rolled-back change never reaches the index. Whoosh allows one writer per
index: every write goes through ``_LOCK`` (threads of this process) plus ``writer(timeout=...)``
(other processes). The index is a cache of the database: ``rebuild`` and ``check`` repair and
verify it, and an indexing error is logged rather than failing the user's request.
"""
from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import selectinload
from whoosh.multiproc import MpWriter, SubWriterTask

from app.search import documents
from app.search.schema import Codec, current_name, make_schema, open_index, set_current, writer as index_writer

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
_REGISTERED = False
WRITER_TIMEOUT = 15.0
PENDING, GROUPS_GONE, BASE = "search_pending", "search_groups_gone", "search_base"


def register(app) -> None:
    """Attach the session hooks once per process (create_app runs many times in tests)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from app.extensions import db
    event.listen(db.session, "after_flush", _after_flush)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_soft_rollback", _after_soft_rollback)
    _REGISTERED = True


def _base_dir() -> str | None:
    from flask import current_app, has_app_context
    if not has_app_context() or not current_app.config.get("SEARCH_ENABLED", True):
        return None
    return current_app.config["SEARCH_INDEX_DIR"]


def _changed(obj, *names) -> bool:
    state = inspect(obj)
    return any(state.attrs[n].history.has_changes() for n in names)


def _after_flush(session, _flush_context) -> None:
    base = _base_dir()
    if base is None:
        return
    from app.directory.models import CentreNetwork
    from app.trials.models import TrialSite
    plain = {model: kind for kind, (model, _builder) in documents.models().items()}
    pending = session.info.setdefault(PENDING, {})
    session.info[BASE] = base
    todo: dict[tuple[str, int], object] = {}
    gone: set[tuple[str, int]] = set()

    for obj in list(session.deleted):
        kind = plain.get(type(obj))
        if kind:
            gone.add((kind, obj.id))
            if kind in ("group", "topic"):  # their replies went with them (ON DELETE CASCADE)
                field = "group_id" if kind == "group" else "topic"
                session.info.setdefault(GROUPS_GONE, set()).add((field, str(obj.id)))
        elif isinstance(obj, TrialSite) and obj.trial_id:
            todo[("trial", obj.trial_id)] = None
        elif isinstance(obj, CentreNetwork) and obj.centre_id:
            todo[("centre", obj.centre_id)] = None
    for obj in list(session.new) + list(session.dirty):
        kind = plain.get(type(obj))
        if kind:
            todo[(kind, obj.id)] = obj
            if kind == "group" and obj in session.dirty and _changed(obj, "kind"):
                _restamp_group(session, obj.id, todo)  # its topics and replies change scope
            if kind == "topic" and obj in session.dirty and _changed(obj, "deleted_at", "title", "group_id"):
                _restamp_topic(session, obj.id, todo)
            if kind == "post" and obj.number == 1:
                todo.setdefault(("topic", obj.topic_id), None)
        elif isinstance(obj, TrialSite) and obj.trial_id:
            todo.setdefault(("trial", obj.trial_id), None)
        elif isinstance(obj, CentreNetwork) and obj.centre_id:
            todo.setdefault(("centre", obj.centre_id), None)
    for key in gone:
        todo.pop(key, None)
        pending[f"{key[0]}:{key[1]}"] = None
    for (kind, ident), obj in todo.items():
        try:
            pending[f"{kind}:{ident}"] = _build(session, kind, ident, obj)
        except Exception:  # the index is a cache: never fail the user's change over it
            log.exception("search: could not build %s:%s", kind, ident)


def _build(session, kind: str, ident: int, obj=None) -> dict | None:
    model, builder = documents.models()[kind]
    if obj is None:
        obj = session.get(model, ident)
    if obj is None or inspect(obj).deleted or inspect(obj).was_deleted:
        return None
    return builder(obj)


def _restamp_group(session, group_id: int, todo: dict) -> None:
    from app.forum.models import Topic
    for topic_id in session.scalars(select(Topic.id).where(Topic.group_id == group_id)):
        todo.setdefault(("topic", topic_id), None)
        _restamp_topic(session, topic_id, todo)
    # Other content living inside the group (events, blog posts) carries group_id itself.
    for kind, (model, _builder) in documents.models().items():
        if kind not in ("group", "topic", "post") and hasattr(model, "group_id"):
            for ident in session.scalars(select(model.id).where(model.group_id == group_id)):
                todo.setdefault((kind, ident), None)


def _restamp_topic(session, topic_id: int, todo: dict) -> None:
    from app.forum.models import Post
    for post_id in session.scalars(select(Post.id).where(Post.topic_id == topic_id, Post.number > 1)):
        todo.setdefault(("post", post_id), None)


def _after_commit(session) -> None:
    pending = session.info.pop(PENDING, None)
    groups_gone = session.info.pop(GROUPS_GONE, None)
    base = session.info.pop(BASE, None)
    if base and (pending or groups_gone):
        try:
            write(base, pending or {}, groups_gone or ())
        except Exception:
            log.exception("search: index write failed; run `flask search rebuild`")


def _after_soft_rollback(session, previous_transaction) -> None:
    if previous_transaction.nested:
        return  # a savepoint: the outer transaction may still commit what it built
    for name in (PENDING, GROUPS_GONE, BASE):
        session.info.pop(name, None)


def write(base: str, docs: dict, groups_gone=()) -> None:
    """The one writer path: documents by key (None deletes), and (field, value) terms whose
    documents all go (a deleted group or topic)."""
    with _LOCK:
        ix = open_index(base, create=True)
        writer = index_writer(ix, timeout=WRITER_TIMEOUT)
        try:
            for field, value in groups_gone:
                writer.delete_by_term(field, value)
            for key, doc in docs.items():
                if doc is None:
                    writer.delete_by_term("key", key)
                else:
                    writer.update_document(**doc)
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        finally:
            ix.close()


def reindex_ids(kind: str, ids) -> int:
    """For bulk changes made outside the ORM's unit of work (core UPDATEs, imports)."""
    from flask import current_app
    from app.extensions import db
    ids = list(ids)
    docs = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        model, _builder = documents.models()[kind]
        found = {o.id: o for o in db.session.scalars(select(model).where(model.id.in_(chunk)))}
        for ident in chunk:
            docs[f"{kind}:{ident}"] = _build(db.session, kind, ident, found.get(ident)) if ident in found else None
    if docs:
        write(current_app.config["SEARCH_INDEX_DIR"], docs)
    return len(docs)


def _rows(kind: str, model):
    from app.extensions import db
    related = {"centre": "networks", "post": "topic", "topic": "group", "group": "tags"}
    query = select(model).order_by(model.id)
    if kind in related:
        query = query.options(selectinload(getattr(model, related[kind])))
    if kind == "post":
        query = query.where(model.number > 1, model.deleted_at.is_(None))
    return db.session.scalars(query.execution_options(yield_per=500))


def rebuild(base: str, progress: bool = False, fail_after: int | None = None) -> int:
    """Build a complete index beside the live one, then swap ``CURRENT`` in one step.

    ``fail_after`` simulates a crash after that many documents (tests)."""
    from app.extensions import db
    from tqdm import tqdm
    kinds = documents.models()
    total = sum(len(documents.indexable_ids(k)) for k in kinds)
    name = f"ix-{int(time.time() * 1000)}"
    path = Path(base) / name
    path.mkdir(parents=True)
    from whoosh import index
    ix = index.create_in(str(path), make_schema())
    count = 0
    with _LOCK:  # this process's hooks wait; the new index is complete when it goes live
        writer = bulk_writer(ix, total)
        try:
            with tqdm(total=total, disable=not progress, unit="doc", desc="search rebuild") as bar:
                for kind, (model, builder) in kinds.items():
                    docs = documents.trials_in_bulk() if kind == "trial" else map(builder, _rows(kind, model))
                    for doc in docs:
                        if doc is not None:
                            writer.add_document(**doc)
                        count += 1
                        bar.update(1)
                        if fail_after is not None and count >= fail_after:
                            raise RuntimeError("simulated crash during rebuild")
            writer.commit()
        except BaseException:
            writer.cancel()
            ix.close()
            shutil.rmtree(path, ignore_errors=True)
            raise
        ix.close()
        old = current_name(base)
        set_current(base, name)
    db.session.rollback()
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

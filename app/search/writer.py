"""The one writer of the search index: it drains the outbox (``outbox.py``).

A drain takes the live index's Whoosh write lock (the lock Whoosh itself uses, so one writer at a
time across threads and processes), reads a batch of outbox rows in id order, rebuilds each
document from the database as it is now (a row that is gone or no longer indexable leaves the
index), applies the batch in one index commit, and only then deletes those rows. A crash at any
point leaves the rows in the outbox and the next drain applies them again, which is harmless: a
document is replaced by its key. A drain that cannot get the lock leaves everything for later.

Who drains (``SEARCH_WRITER``, see config.py):

* ``thread`` (embedded, the default without Redis): a daemon thread per app and process, woken
  after every commit that wrote outbox rows and polling every ``SEARCH_WRITER_POLL`` seconds for
  rows written by other processes (the CLI, other workers). Several processes each run one; the
  lock makes them take turns.
* ``rq`` (scale-out, the default with ``JOBS_REDIS_URL``): the commit enqueues a ``drain_job`` on
  ``SEARCH_QUEUE`` (at most one waiting at a time) and ``flask jobs worker`` runs it, with the
  same polling thread beside it for rows whose job never came (Redis down at commit time, a
  worker killed mid-job). The web processes never open the index for writing.
* ``sync`` (tests): the committing thread drains before ``commit()`` returns, so a test can
  search right after it posts.
* ``manual``: nothing drains in this process (``flask search drain`` or another process does).
"""
from __future__ import annotations

import logging
import os
import threading
import weakref
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload
from whoosh import index as whoosh_index
from whoosh.index import LockError

from app import jobs
from app.extensions import db
from app.search import documents
from app.search.outbox import PURGE, SearchOutbox
from app.search.schema import current_name, open_index, writer as index_writer

log = logging.getLogger(__name__)

BATCH = 500  # rows per index commit
THREAD_LOCK_TIMEOUT = 2.0  # the background thread waits this long for the lock, then retries
SYNC_LOCK_TIMEOUT = 30.0  # tests: wait for another thread's batch rather than leave rows behind
JOB_LOCK_TIMEOUT = 10.0
LOCKED_RETRY = 0.05  # seconds before a locked-out thread tries again
ERROR_BACKOFF = 5.0
DRAIN_FLAG_TTL = 30  # seconds: a lost drain job delays the next one at most this long
# Relationships the builders read, loaded with each batch (and by the rebuild) in one query.
RELATED = {"centre": "networks", "post": "topic", "topic": "group", "group": "tags"}
_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


class Locked(Exception):
    """Another writer holds the index; the rows stay in the outbox for the next drain."""


def mode(app) -> str:
    chosen = app.config.get("SEARCH_WRITER", "auto")
    if chosen == "auto":
        return "rq" if app.config.get("JOBS_REDIS_URL") else "thread"
    return chosen


def _process_lock(base: str) -> threading.Lock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(str(Path(base).resolve()), threading.Lock())


# --- applying documents ------------------------------------------------------------------------

def _open_writer(base: str, lock_timeout: float):
    """The live index and a writer holding its lock. Re-checks ``CURRENT`` once locked: a
    rebuild holds the old index's lock until it has swapped in the new one, so a writer that
    got the old one's lock afterwards must not write there."""
    for _attempt in range(3):
        name = current_name(base)
        try:
            if name is None:
                open_index(base, create=True).close()
                name = current_name(base)
            ix = whoosh_index.open_dir(str(Path(base) / name))
        except (OSError, whoosh_index.EmptyIndexError):  # swapped and removed under our feet
            continue
        try:
            w = index_writer(ix, timeout=lock_timeout, delay=0.02)
        except LockError:
            ix.close()
            raise Locked(base) from None
        if current_name(base) == name:
            return ix, w
        w.cancel()
        ix.close()
    raise Locked(base)


def _apply(w, docs: dict, purges=()) -> None:
    """Purges first: Whoosh deletes only reach committed segments, so a purge after an add in
    the same writer would miss it. Each key appears once in ``docs`` for the same reason."""
    for field, value in purges:
        w.delete_by_term(field, value)
    for key, doc in docs.items():
        if doc is None:
            w.delete_by_term("key", key)
        else:
            w.update_document(**doc)


def _cancel(w) -> None:
    try:
        w.cancel()
    except Exception:  # already committed or closed
        pass


def write(base: str, docs: dict, purges=(), lock_timeout: float = SYNC_LOCK_TIMEOUT) -> None:
    """Documents by key (None deletes) and (field, value) purges, straight into the index."""
    with _process_lock(base):
        ix, w = _open_writer(base, lock_timeout)
        try:
            _apply(w, docs, purges)
            w.commit()
        except BaseException:
            _cancel(w)
            raise
        finally:
            ix.close()


# --- draining the outbox -----------------------------------------------------------------------

def build(session, rows) -> tuple[list, dict]:
    """(purges, {key: document or None}) for outbox rows, from the database's current state."""
    purges = list(dict.fromkeys((row.kind, row.ref) for row in rows if row.op == PURGE))
    wanted: dict[str, list[int]] = {}
    for row in rows:
        if row.op != PURGE and row.kind in documents.models():
            wanted.setdefault(row.kind, []).append(int(row.ref))
    docs: dict[str, dict | None] = {}
    for kind, ids in wanted.items():
        model, builder = documents.models()[kind]
        ids = list(dict.fromkeys(ids))
        query = select(model).where(model.id.in_(ids))
        if kind in RELATED:
            query = query.options(selectinload(getattr(model, RELATED[kind])))
        found = {obj.id: obj for obj in session.scalars(query)}
        for ident in ids:
            key = f"{kind}:{ident}"
            obj = found.get(ident)
            try:
                docs[key] = builder(obj) if obj is not None else None
            except Exception:  # a builder bug must not stop every other document
                log.exception("search: could not build %s; its outbox row is dropped", key)
    return purges, docs


def _pending(session, limit: int):
    return session.execute(select(SearchOutbox.id, SearchOutbox.op, SearchOutbox.kind, SearchOutbox.ref)
                           .order_by(SearchOutbox.id).limit(limit)).all()


def _forget(ids) -> None:
    """Delete drained rows (by id: rows committed meanwhile, even with lower ids, stay)."""
    with db.engine.begin() as conn:
        conn.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(ids)))


def drain_batch(base: str, limit: int = BATCH, lock_timeout: float = THREAD_LOCK_TIMEOUT) -> int:
    """One batch: rows applied (0 when the outbox is empty). Raises Locked. Needs an app context."""
    session = db.session
    try:
        if session.scalar(select(SearchOutbox.id).limit(1)) is None:
            return 0  # the common case when polling: no lock taken
    finally:
        session.rollback()
    with _process_lock(base):
        ix, w = _open_writer(base, lock_timeout)
        try:
            rows = _pending(session, limit)  # read again under the lock: another writer may have been first
            if not rows:
                _cancel(w)
                return 0
            purges, docs = build(session, rows)
            session.rollback()  # end the read before the index work; the delete below is its own transaction
            _apply(w, docs, purges)
            w.commit()
        except BaseException:
            _cancel(w)
            session.rollback()
            raise
        finally:
            ix.close()
        _forget([row.id for row in rows])
    return len(rows)


def drain(limit: int = BATCH, lock_timeout: float = THREAD_LOCK_TIMEOUT, base: str | None = None) -> int:
    """Drain until the outbox is empty; rows applied. Raises Locked (rows stay). App context."""
    base = base or current_app.config["SEARCH_INDEX_DIR"]
    total = 0
    while True:
        done = drain_batch(base, limit, lock_timeout)
        total += done
        if done < limit:
            return total


# --- who drains --------------------------------------------------------------------------------

def notify() -> None:
    """Called after a commit that wrote outbox rows (app context). Never waits for the index
    lock, except in the tests' ``sync`` mode."""
    app = current_app._get_current_object()
    chosen = mode(app)
    if chosen == "thread":
        ensure_started(app).wake.set()
    elif chosen == "rq":
        _enqueue_drain(app)
    elif chosen == "sync":
        _drain_here(app)


def _drain_here(app) -> None:
    # A fresh app context, so a fresh session: the committing one cannot run SQL in after_commit.
    with app.app_context():
        try:
            drain(lock_timeout=SYNC_LOCK_TIMEOUT)
        except Exception:
            log.exception("search: drain failed; the rows stay in the outbox")


class _Thread:
    """The embedded writer: one daemon thread per app and process. Holds the app weakly, so an
    app that is dropped (tests build hundreds) takes its thread with it."""

    def __init__(self, app):
        self.app = weakref.ref(app)
        self.pid = os.getpid()
        self.poll = float(app.config.get("SEARCH_WRITER_POLL", 1.0))
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="search-writer", daemon=True)
        self.drains = 0  # completed drains (tests wait on it)

    def _run(self) -> None:
        while not self.stopping.is_set():
            app = self.app()
            if app is None:
                return
            delay = self.poll
            try:
                with app.app_context():
                    drain()
                self.drains += 1
            except Locked:
                delay = LOCKED_RETRY
            except Exception:
                log.exception("search: drain failed; retrying in %ss (rows stay in the outbox)", ERROR_BACKOFF)
                delay = ERROR_BACKOFF
            del app
            self.wake.wait(delay)
            self.wake.clear()

    def alive(self) -> bool:
        return self.pid == os.getpid() and self.thread.is_alive()


_START_GUARD = threading.Lock()


def start(app) -> _Thread:
    """Start (or restart) this process's writer thread for ``app``."""
    with _START_GUARD:
        current = app.extensions.get("search_writer")
        if current is not None and current.alive() and not current.stopping.is_set():
            return current
        return _start(app)


def _start(app) -> _Thread:
    worker = _Thread(app)
    app.extensions["search_writer"] = worker
    worker.thread.start()
    return worker


def ensure_started(app) -> _Thread:
    """The running writer thread, started on first use in this process (after a fork too, or
    after it died); one that was stopped on purpose stays stopped until ``start``."""
    current = app.extensions.get("search_writer")
    if current is not None and current.alive():
        return current
    with _START_GUARD:  # decide and start under the guard: never on a stale look
        current = app.extensions.get("search_writer")
        if current is not None and (current.alive() or (current.stopping.is_set() and current.pid == os.getpid())):
            return current
        return _start(app)


def stop(app, timeout: float = 10.0) -> bool:
    """Stop this process's writer thread (it finishes its batch first); True once it has."""
    current = app.extensions.get("search_writer")
    if current is None:
        return True
    current.stopping.set()
    current.wake.set()
    if current.thread.ident is not None:
        current.thread.join(timeout)
    return not current.thread.is_alive()


def before_request() -> None:
    """Embedded: a serving process drains even before its first commit (rows of other processes)."""
    app = current_app._get_current_object()
    if mode(app) == "thread" and app.config.get("SEARCH_ENABLED", True):
        ensure_started(app)


# --- scale-out: RQ -----------------------------------------------------------------------------

def _flag(app) -> str:
    return f"{app.config['SEARCH_QUEUE']}:drain-queued"


def _enqueue_drain(app) -> None:
    """At most one drain job waiting: the job clears the flag before it reads the outbox, so a
    commit after that queues another one."""
    try:
        conn = jobs.redis_for(app)
        if conn.set(_flag(app), "1", nx=True, ex=DRAIN_FLAG_TTL):
            try:
                jobs.enqueue_to(app.config["SEARCH_QUEUE"], drain_job, timeout=-1)
            except Exception:
                conn.delete(_flag(app))
                raise
    except Exception:
        log.warning("search: could not queue a drain job; the worker's poll will find the rows", exc_info=True)


def on_worker_start(app, queues) -> None:
    """`flask jobs worker` serving SEARCH_QUEUE also polls the outbox (rows whose job was lost)."""
    if app.config["SEARCH_QUEUE"] in queues and app.config.get("SEARCH_ENABLED", True):
        start(app)


def drain_job() -> int:
    """The RQ job (``flask jobs worker``): a job that finds nothing to do costs one query."""
    app = current_app._get_current_object()
    jobs.redis_for(app).delete(_flag(app))
    try:
        return drain(lock_timeout=JOB_LOCK_TIMEOUT)
    except Locked:
        log.info("search: index locked (a rebuild?); the worker's poll drains later")
        return 0

"""The search outbox and its one writer (app/search/outbox.py, writer.py, indexer.py hooks).

* an outbox row is written in the change's own transaction: a rollback writes none;
* nothing committed is ever lost: the writer thread stopped, killed and restarted while 20 threads
  post 200 replies; a drain process killed with SIGKILL before and after its index commit;
* scale-out: two app processes post through HTTP against one PostgreSQL database, drains run as
  RQ jobs in a `flask jobs worker` process;
* a request never takes the index lock; a rebuild keeps what was committed while it ran.

Most of the suite runs with SEARCH_WRITER="sync" (TestConfig: the committing thread drains, so a
test can search right after it posts); the tests here choose "manual", "thread" or "rq".
"""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.search import documents, indexer, writer
from app.search.outbox import SearchOutbox
from app.search.schema import open_index
from tests.factories import (add_member, browser, make_blog_post, make_event, make_group, make_reply, make_topic,
                             make_user)

ROOT = Path(__file__).resolve().parents[1]
JOBS_REDIS = os.environ.get("ONCOLLAB_TEST_JOBS_REDIS", "redis://127.0.0.1:6379/2")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- helpers -----------------------------------------------------------------------------------

def until(predicate, timeout: float = 60.0, what: str = "a condition") -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def rows(app) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(
            select(SearchOutbox.op, SearchOutbox.kind, SearchOutbox.ref).order_by(SearchOutbox.id))]


def pending(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(SearchOutbox.id)))


def indexed(base) -> set[str]:
    ix = open_index(str(base))
    if ix is None:
        return set()
    try:
        with ix.searcher() as searcher:
            return {fields["key"] for fields in searcher.all_stored_fields()}
    finally:
        ix.close()


def differences(app) -> dict:
    with app.app_context():
        report = indexer.check(app.config["SEARCH_INDEX_DIR"])
    return {kind: diff for kind, diff in report.items() if diff["missing"] or diff["extra"]}


def reply_keys(app, topic_id) -> set[str]:
    from app.forum.models import Post
    with app.app_context():
        return {f"post:{i}" for i in db.session.scalars(
            select(Post.id).where(Post.topic_id == topic_id, Post.number > 1))}


def forum(app, members: int = 1) -> dict:
    """An open group with a topic, and members who may reply (ids)."""
    with app.app_context():
        owner = make_user()
        group = make_group(owner, kind="open")
        topic = make_topic(owner, group=group)
        people = [make_user() for _ in range(members)]
        for person in people:
            add_member(group, person)
        return {"group": group.id, "topic": topic.id, "owner": owner.id, "members": [p.id for p in people]}


def post_replies(app, topic_id: int, user_id: int, bodies) -> list[int]:
    from app.accounts.models import User
    from app.forum.models import Topic
    from app.forum.services import create_reply
    ids = []
    with app.app_context():
        for body in bodies:
            ids.append(create_reply(db.session.get(Topic, topic_id), db.session.get(User, user_id), body=body).id)
            db.session.expire_all()
    return ids


@pytest.fixture
def threaded(app_factory):
    """Apps whose writer is the background thread; every writer is stopped afterwards."""
    built = []

    def build(**overrides):
        app = app_factory(SEARCH_WRITER="thread", SEARCH_WRITER_POLL=0.2, **overrides)
        built.append(app)
        return app

    yield build
    for app in built:
        assert writer.stop(app), "the writer thread did not stop"


# --- the outbox is part of the change's transaction --------------------------------------------

def test_outbox_rows_are_written_in_the_changes_transaction(app_factory):
    from app.guidelines.models import Guideline
    app = app_factory(SEARCH_WRITER="manual")
    with app.app_context():
        db.session.add(Guideline(publisher="ESMO", title="Quokka guideline", url="https://example.org/q"))
        db.session.flush()
        assert [r.kind for r in db.session.execute(select(SearchOutbox.kind))] == ["guideline"]  # same transaction
        db.session.rollback()
    assert rows(app) == []

    with app.app_context():
        kept = Guideline(publisher="ESMO", title="Kept guideline", url="https://example.org/k")
        db.session.add(kept)
        db.session.flush()
        savepoint = db.session.begin_nested()
        db.session.add(Guideline(publisher="ESMO", title="Dropped guideline", url="https://example.org/d"))
        db.session.flush()
        savepoint.rollback()
        db.session.commit()
        kept_id = kept.id
        assert db.session.scalar(select(func.count(Guideline.id))) == 1
    assert rows(app) == [("doc", "guideline", str(kept_id))]

    with app.app_context():
        first = Guideline(publisher="ESMO", title="First guideline", url="https://example.org/1")
        second = Guideline(publisher="ESMO", title="Second guideline", url="https://example.org/2")
        db.session.add_all([first, second])
        db.session.commit()
        ids = {str(first.id), str(second.id)}
    assert {r[2] for r in rows(app)[1:]} == ids and len(rows(app)) == 3  # one per change

    base = app.config["SEARCH_INDEX_DIR"]
    assert indexed(base) == set()  # manual: nothing drained yet
    with app.app_context():
        assert writer.drain() == 3
    assert pending(app) == 0
    assert indexed(base) == {f"guideline:{i}" for i in [str(kept_id), *ids]}
    assert differences(app) == {}


def test_a_change_records_everything_it_touches(app_factory):
    """The knowledge the hooks kept: a reply restamps nothing but itself and its topic; a group's
    kind restamps its topics, replies, events and blog posts; deleting it purges them all."""
    app = app_factory(SEARCH_WRITER="manual")
    world = forum(app, members=1)
    with app.app_context():
        from app.forum.models import Topic
        from app.groups.models import Group
        group, topic = db.session.get(Group, world["group"]), db.session.get(Topic, world["topic"])
        reply = make_reply(topic, body="A tapir reply.")
        event = make_event(group=group, visibility="group")
        blog = make_blog_post(group=group)
        writer.drain()
        reply_id, event_id, blog_id = reply.id, event.id, blog.id
    assert differences(app) == {}

    with app.app_context():
        make_reply(db.session.get(Topic, world["topic"]), body="Another one.")
        recorded = rows(app)
    assert ("doc", "topic", str(world["topic"])) in recorded and sum(1 for r in recorded if r[1] == "post") == 1

    with app.app_context():
        writer.drain()
        db.session.get(Group, world["group"]).kind = "closed"
        db.session.commit()
    recorded = set(rows(app))
    for kind, ident in (("group", world["group"]), ("topic", world["topic"]), ("post", reply_id),
                        ("event", event_id), ("blogpost", blog_id)):
        assert ("doc", kind, str(ident)) in recorded, (kind, recorded)

    with app.app_context():
        writer.drain()
        db.session.delete(db.session.get(Group, world["group"]))
        db.session.commit()
    assert ("purge", "group_id", str(world["group"])) in rows(app)
    with app.app_context():
        writer.drain()
    assert not any(key.startswith(("post:", "topic:", "group:")) for key in indexed(app.config["SEARCH_INDEX_DIR"]))
    assert differences(app) == {}


def test_reindex_ids_writes_outbox_rows(app_factory):
    from sqlalchemy import update
    from app.guidelines.models import Guideline
    app = app_factory(SEARCH_WRITER="manual")
    with app.app_context():
        db.session.add_all([Guideline(publisher="X", title=f"Pika {i}", url=f"https://example.org/{i}") for i in range(3)])
        db.session.commit()
        writer.drain()
        db.session.execute(update(Guideline).values(title="Pangolin guideline"))  # the hooks do not see this
        ids = sorted(db.session.scalars(select(Guideline.id)))
        assert indexer.reindex_ids("guideline", ids + [ids[-1] + 1000]) == 4  # commits with the change
    assert len(rows(app)) == 4
    with app.app_context():
        writer.drain()
        from app.search.query import search
        assert search(app.config["SEARCH_INDEX_DIR"], "pangolin", scopes=frozenset({"public"}))["total"] == 3
    assert differences(app) == {}


# --- nothing is lost ---------------------------------------------------------------------------

class _Killed(BaseException):
    """Ends the writer thread the way a crash would (not an Exception: nothing catches it)."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_200_replies_from_20_threads_while_the_writer_is_stopped_killed_and_restarted(threaded, monkeypatch):
    """Five rounds of 40 replies (20 threads x 2). Round 1: the writer is stopped while they are
    posted; round 2: posted while it is stopped; round 3: restarted while they are posted, then
    it crashes between its index commit and deleting its rows; round 4's commits restart it."""
    app = threaded()
    world = forum(app, members=20)
    base = app.config["SEARCH_INDEX_DIR"]
    posted, errors, count_lock = [0], [], threading.Lock()
    gates = [threading.Event() for _ in range(5)]
    killed, kill_next, victim = threading.Event(), threading.Event(), []
    real_forget = writer._forget

    def forget(ids):
        if kill_next.is_set():
            kill_next.clear()
            victim.append(threading.current_thread())
            killed.set()
            raise _Killed("writer thread crashed after its index commit, before deleting its rows")
        real_forget(ids)

    monkeypatch.setattr(writer, "_forget", forget)

    def poster(n, user_id):
        try:
            for round_ in range(5):
                assert gates[round_].wait(120)
                post_replies(app, world["topic"], user_id, [f"Wombat {n} round {round_} reply {i}" for i in range(2)])
                with count_lock:
                    posted[0] += 2
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            for gate in gates:
                gate.set()

    def round_(n, during=None):
        gates[n].set()
        if during:
            during()
        until(lambda: posted[0] >= 40 * (n + 1) or errors, timeout=120, what=f"round {n}")
        assert not errors, errors

    threads = [threading.Thread(target=poster, args=(n, uid)) for n, uid in enumerate(world["members"])]
    for t in threads:
        t.start()
    first = writer.ensure_started(app)
    round_(0)
    round_(1, during=lambda: writer.stop(app))
    assert not first.alive()
    waiting = pending(app)
    round_(2)  # still stopped: every row of this round waits
    assert pending(app) >= waiting + 40
    round_(3, during=lambda: (writer.start(app), kill_next.set()))
    until(killed.is_set, what="the writer thread to crash")
    until(lambda: not victim[0].is_alive(), what="the crashed thread to end")
    round_(4)  # commits wake the writer: a new thread
    for t in threads:
        t.join(60)
    assert posted[0] == 200
    restarted = app.extensions["search_writer"]
    assert restarted.thread is not victim[0] and restarted.alive()

    keys = reply_keys(app, world["topic"])
    assert len(keys) == 200
    until(lambda: pending(app) == 0 and keys <= indexed(base), what="the index to catch up")
    assert differences(app) == {}


DRAINER = r"""
import sys, time
from app import create_app
from app.search import writer
from config import TestConfig

stage, batch = sys.argv[1], int(sys.argv[2])
if stage == "before-index-commit":
    apply = writer._apply
    def paused_apply(w, docs, purges=()):
        apply(w, docs, purges)
        print("APPLYING", len(docs), flush=True)
        time.sleep(120)
    writer._apply = paused_apply
elif stage == "after-index-commit":
    forget = writer._forget
    def paused_forget(ids):
        print("INDEXED", len(ids), flush=True)
        time.sleep(120)
        forget(ids)
    writer._forget = paused_forget
app = create_app(TestConfig)
with app.app_context():
    print("DRAINED", writer.drain(limit=batch, lock_timeout=30), flush=True)
"""


def _env(app, **extra) -> dict:
    env = {**os.environ, "ONCOLLAB_CONFIG": "test", "ONCOLLAB_DATABASE_URL": app.config["DATABASE_URL"],
           "ONCOLLAB_SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
           "ONCOLLAB_INSTANCE_DIR": app.config["INSTANCE_DIR"], "ONCOLLAB_OUTBOX_DIR": app.config["OUTBOX_DIR"],
           "ONCOLLAB_SECRET_KEY": app.config["SECRET_KEY"], "ONCOLLAB_SEARCH_WRITER": "manual"}
    env.update(extra)
    return env


class _Lines:
    """A child's stdout, line by line, with a deadline."""

    def __init__(self, process):
        self.lines = queue.Queue()
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, prefix: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            if line is None:
                raise AssertionError(f"the process ended before printing {prefix!r}")
            if line.startswith(prefix):
                return line


def _kill_when(app, stage: str, marker: str, batch: int) -> None:
    process = subprocess.Popen([sys.executable, "-c", DRAINER, stage, str(batch)], cwd=ROOT, env=_env(app),
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        _Lines(process).wait_for(marker)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    assert process.returncode == -signal.SIGKILL


def test_a_drain_killed_with_sigkill_loses_nothing(app_factory):
    app = app_factory(SEARCH_WRITER="manual")
    world = forum(app)
    base = app.config["SEARCH_INDEX_DIR"]
    post_replies(app, world["topic"], world["owner"], [f"Numbat reply {i}" for i in range(40)])
    keys = reply_keys(app, world["topic"])
    waiting = pending(app)
    assert waiting >= 40

    # Killed while its batch is in the index writer, before the index commit: nothing changed.
    _kill_when(app, "before-index-commit", "APPLYING", batch=25)
    assert pending(app) == waiting and not keys & indexed(base)

    # Killed after the index commit, before the rows were deleted: they are applied again later.
    _kill_when(app, "after-index-commit", "INDEXED", batch=25)
    assert pending(app) == waiting
    assert keys & indexed(base)

    # A restart resumes from the outbox (the operator's command, in a process of its own).
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "search", "drain"], cwd=ROOT,
                            env=_env(app), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert pending(app) == 0 and keys <= indexed(base)
    assert differences(app) == {}
    check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "search", "check"], cwd=ROOT,
                           env=_env(app), capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "index matches the database" in check.stdout and "pending      0" in check.stdout


# --- the request path never takes the index lock -----------------------------------------------

def test_a_reply_is_answered_while_the_index_is_locked(threaded, monkeypatch):
    app = threaded()
    lockers = []
    open_writer = writer._open_writer

    def recording_open_writer(*args, **kwargs):
        lockers.append(threading.current_thread())
        return open_writer(*args, **kwargs)

    monkeypatch.setattr(writer, "_open_writer", recording_open_writer)
    world = forum(app)
    base = app.config["SEARCH_INDEX_DIR"]
    until(lambda: pending(app) == 0, what="the set-up to be indexed")
    client = browser(app, world["owner"])
    token = CSRF.search(client.get(f"/t/{world['topic']}").get_data(as_text=True)).group(1)

    ix = open_index(base, create=True)
    lock = ix.lock("WRITELOCK")  # what every Whoosh writer takes
    assert lock.acquire()
    try:
        response = client.post(f"/t/{world['topic']}/reply", data={"body": "Posted under lock: aardvark",
                                                                    "csrf_token": token})
        assert response.status_code == 302
        keys = reply_keys(app, world["topic"])
        assert len(keys) == 1 and pending(app) > 0
        assert not keys & indexed(base)  # the writer is waiting for the lock, the request was not
        assert threading.current_thread() not in lockers  # the test client ran the request in this thread
    finally:
        lock.release()
        ix.close()

    from app.search.query import search
    until(lambda: search(base, "aardvark", scopes=frozenset({"public"}))["total"] == 1, timeout=30,
          what="the reply to become searchable")
    until(lambda: pending(app) == 0, what="the outbox to empty")
    assert differences(app) == {}


def test_rows_committed_during_a_rebuild_reach_the_new_index(app_factory, monkeypatch):
    from app.guidelines.models import Guideline
    from app.search.query import search
    app = app_factory(SEARCH_WRITER="manual")
    base = app.config["SEARCH_INDEX_DIR"]
    with app.app_context():
        db.session.add_all([Guideline(publisher="X", title=f"Dugong {i}", url=f"https://e.org/{i}") for i in range(3)])
        db.session.commit()  # not drained: the rebuild covers these rows
    started, resume, failures = threading.Event(), threading.Event(), []
    real = documents.guideline

    def slow_guideline(g):
        started.set()
        assert resume.wait(30)
        return real(g)

    monkeypatch.setattr(documents, "guideline", slow_guideline)

    def rebuild():
        try:
            with app.app_context():
                indexer.rebuild(base)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    thread = threading.Thread(target=rebuild)
    thread.start()
    assert started.wait(30)
    with app.app_context():
        numbat = Guideline(publisher="X", title="Numbat guideline", url="https://e.org/n")
        db.session.add(numbat)
        db.session.commit()
        numbat_id = numbat.id
        with pytest.raises(writer.Locked):  # the rebuild holds the live index's lock
            writer.drain(lock_timeout=0.1)
    resume.set()
    thread.join(60)
    assert not failures
    monkeypatch.setattr(documents, "guideline", real)
    assert rows(app) == [("doc", "guideline", str(numbat_id))]  # the rows the rebuild covered are gone
    assert search(base, "numbat", scopes=frozenset({"public"}))["total"] == 0
    with app.app_context():
        writer.drain()
    assert search(base, "numbat", scopes=frozenset({"public"}))["total"] == 1
    assert search(base, "dugong", scopes=frozenset({"public"}))["total"] == 3
    assert differences(app) == {}


# --- jobs ----------------------------------------------------------------------------------------

def test_mail_is_delivered_by_a_background_job(app_factory):
    from app.accounts.emails import send_already_registered
    app = app_factory(JOBS_INLINE=False)
    with app.test_request_context():
        send_already_registered("someone@example.org")
    folder = Path(app.config["OUTBOX_DIR"])
    until(lambda: any(folder.glob("*.eml")), timeout=30, what="the .eml file")


# --- scale-out: RQ worker, two app processes, one PostgreSQL database ---------------------------

POSTER = r"""
import re, sys
from app import create_app
from app.extensions import db
from config import TestConfig

user_id, topic_id, count, tag = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
app = create_app(TestConfig)
client = app.test_client()
with app.app_context():
    from app.accounts.models import UserSession
    row = UserSession(user_id=user_id, user_agent="poster")
    db.session.add(row)
    db.session.commit()
    token = row.token
with client.session_transaction() as session:
    session["_user_id"], session["_fresh"] = token, True
csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(f"/t/{topic_id}").get_data(as_text=True)).group(1)
for i in range(count):
    response = client.post(f"/t/{topic_id}/reply", data={"body": f"{tag} reply {i}", "csrf_token": csrf})
    assert response.status_code == 302, response.status_code
if tag == "first":
    from app.accounts.emails import send_already_registered
    with app.test_request_context():
        send_already_registered("scaleout@example.org")
print("POSTED", count, flush=True)
"""


@pytest.fixture
def scaleout(tmp_path):
    """Its own PostgreSQL database and Redis key prefix, both removed afterwards."""
    import redis
    from app import create_app
    from config import TestConfig
    from tests.conftest import fresh_pg_database
    prefix = f"oncollab-test-{uuid.uuid4().hex[:10]}"
    conn = redis.Redis.from_url(JOBS_REDIS)
    conn.ping()  # Redis is part of the test set-up: fail loudly when it is missing
    with fresh_pg_database(f"oncollab_outbox_{uuid.uuid4().hex[:10]}") as url:
        app = create_app(TestConfig, INSTANCE_DIR=str(tmp_path / "instance"), DATABASE_URL=url,
                         SEARCH_INDEX_DIR=str(tmp_path / "index"), OUTBOX_DIR=str(tmp_path / "mail"),
                         SECRET_KEY="scaleout-secret", SEARCH_WRITER="manual")
        with app.app_context():
            db.create_all()
        settings = {"ONCOLLAB_JOBS_REDIS_URL": JOBS_REDIS, "ONCOLLAB_SEARCH_QUEUE": f"{prefix}-search",
                    "ONCOLLAB_JOBS_QUEUE": f"{prefix}-jobs", "RQ_KEY_PREFIX": prefix}
        try:
            yield app, settings
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
            for key in conn.scan_iter(f"{prefix}*"):
                conn.delete(key)
            conn.close()


def test_scaleout_drains_run_on_an_rq_worker(scaleout):
    app, settings = scaleout
    world = forum(app, members=2)
    with app.app_context():
        writer.drain()  # the set-up's rows; from here on only the worker writes the index
    base = app.config["SEARCH_INDEX_DIR"]
    # The worker's own poll is set to an hour: only RQ drain jobs can make the replies searchable.
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=ROOT,
                              env=_env(app, **settings, ONCOLLAB_SEARCH_WRITER="rq", ONCOLLAB_SEARCH_WRITER_POLL="3600"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        posters = [subprocess.Popen([sys.executable, "-c", POSTER, str(uid), str(world["topic"]), "30", tag], cwd=ROOT,
                                    env=_env(app, **settings, ONCOLLAB_SEARCH_WRITER="rq"),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for uid, tag in zip(world["members"], ("first", "second"))]
        for process in posters:
            out, err = process.communicate(timeout=180)
            assert process.returncode == 0 and "POSTED 30" in out, err[-2000:]
        keys = reply_keys(app, world["topic"])
        assert len(keys) == 60
        until(lambda: pending(app) == 0 and keys <= indexed(base), timeout=60, what="the worker to drain")
        assert differences(app) == {}
        until(lambda: any(Path(app.config["OUTBOX_DIR"]).glob("*.eml")), timeout=30, what="the mail job")
        assert worker.poll() is None
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            worker.kill()
            worker.wait(10)

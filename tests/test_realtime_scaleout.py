"""Scale-out: two server processes, one PostgreSQL database, one Redis message queue.

A reply posted through process A reaches a reader connected to process B; an eviction decided in
process A (removal, logout) cuts off sockets held by process B before the next message; presence
spans both. Runs in the PostgreSQL pass of ``make test`` (ONCOLLAB_TEST_DB=postgresql), which
provides the throw-away database; Redis must be running on 127.0.0.1 (DESIGN 6)."""
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
import requests

from app.extensions import db
from tests.conftest import fresh_pg_database
from tests.factories import add_member, csrf_from, make_group, make_topic, make_user
from tests.test_realtime_support import Client, never, session_cookie

REDIS_URL = os.environ.get("ONCOLLAB_TEST_REDIS", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.realtime_server", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _ready(process: subprocess.Popen) -> None:
    line = process.stdout.readline()
    if "READY" not in line:
        raise RuntimeError(f"a test server did not start: {line!r}")


@pytest.fixture(scope="module")
def shared_database(pg_database):
    """Scale-out always means PostgreSQL: in the SQLite pass this module makes its own database."""
    if pg_database:
        yield pg_database
        return
    with fresh_pg_database(f"oncollab_scaleout_{uuid.uuid4().hex[:10]}") as url:
        yield url


@pytest.fixture
def cluster(app_factory, tmp_path, shared_database, pg_database):
    pg_database = shared_database
    channel = f"oncollab-test-{uuid.uuid4().hex[:12]}"
    queue = redis.Redis.from_url(REDIS_URL)
    queue.ping()  # Redis is part of the test set-up, like PostgreSQL: fail loudly if it is missing
    app = app_factory(SOCKETIO_MESSAGE_QUEUE=REDIS_URL, SOCKETIO_CHANNEL=channel, DATABASE_URL=pg_database)
    env = {**os.environ, "ONCOLLAB_DATABASE_URL": pg_database, "ONCOLLAB_SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
           "ONCOLLAB_SOCKETIO_CHANNEL": channel, "ONCOLLAB_SECRET_KEY": app.config["SECRET_KEY"],
           "ONCOLLAB_INSTANCE_DIR": str(tmp_path / "servers"), "ONCOLLAB_SEARCH_INDEX_DIR": str(tmp_path / "index"),
           "ONCOLLAB_PUBLIC_URL": "http://127.0.0.1"}
    ports = [_free_port(), _free_port()]
    processes = []
    try:
        processes.extend(_start(port, env) for port in ports)  # both boot at once
        for process in processes:
            _ready(process)
        yield app, [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
        for key in queue.scan_iter(f"{channel}*"):
            queue.delete(key)


@pytest.fixture
def world(cluster):
    app, _urls = cluster
    with app.app_context():
        owner, member, moderator = make_user(display_name="Owner"), make_user(display_name="Member"), make_user(display_name="Mod")
        group = make_group(owner, kind="closed")
        add_member(group, member)
        add_member(group, moderator, role="moderator")
        topic = make_topic(owner, group=group)
        return dict(owner=owner.id, member=member.id, moderator=moderator.id, group=group.id,
                    slug=group.slug, topic=topic.id)


def _browser(app, base: str, user_id: int):
    """An HTTP client of one process, signed in, holding that page's CSRF token."""
    session = requests.Session()
    name, value = session_cookie(app, user_id).split("=", 1)
    session.cookies.set(name, value, domain="127.0.0.1", path="/")
    session.csrf = csrf_from(session.get(f"{base}/groups").text)
    return session


def _reader(app, base, user_id, world, cookie=None):
    client = Client(base, cookie or session_cookie(app, user_id))
    assert client.call("join_topic", {"topic": world["topic"]})["ok"]
    assert client.call("join_chat", {"group": world["group"]})["ok"]
    return client


def test_a_reply_posted_through_one_process_reaches_a_reader_on_the_other(cluster, world):
    app, (a, b) = cluster
    reader = _reader(app, b, world["member"], world)
    writer = _browser(app, a, world["owner"])
    response = writer.post(f"{a}/t/{world['topic']}/reply", data={"body": "from **A**", "csrf_token": writer.csrf},
                           allow_redirects=False)
    assert response.status_code == 302
    assert reader.wait_for("post")["body_html"] == "<p>from <strong>A</strong></p>"
    chatter = _reader(app, a, world["moderator"], world)
    assert chatter.call("chat", {"group": world["group"], "body": "over the socket on A"})["ok"]
    assert reader.wait_for("chat_message")["body_html"] == "<p>over the socket on A</p>"
    presence = reader.wait_for("presence", lambda p: len(p["names"]) == 2 and "group" in p, timeout=5)
    assert sorted(presence["names"]) == ["Member", "Mod"]
    for client in (reader, chatter):
        client.close()


def test_removal_decided_on_one_process_evicts_sockets_held_by_the_other(cluster, world):
    app, (a, b) = cluster
    affected = _reader(app, b, world["member"], world)
    witness = _reader(app, b, world["moderator"], world)
    owner = _browser(app, a, world["owner"])
    response = owner.post(f"{a}/groups/{world['slug']}/members/{world['member']}/remove",
                          data={"csrf_token": owner.csrf, "reason": ""}, allow_redirects=False)
    assert response.status_code == 303
    owner.post(f"{a}/t/{world['topic']}/reply", data={"body": "MARKER after removal", "csrf_token": owner.csrf})
    witness.wait_for("post", lambda p: "MARKER" in p["body_html"])
    never(affected, "post", lambda p: "MARKER" in (p["body_html"] or ""), wait=0.5)
    assert affected.wait_for("access_changed")
    for client in (affected, witness):
        client.close()


def test_logout_on_one_process_disconnects_the_socket_on_the_other(cluster, world):
    app, (a, b) = cluster
    cookie = session_cookie(app, world["member"])
    affected = _reader(app, b, world["member"], world, cookie)
    browser = requests.Session()
    name, value = cookie.split("=", 1)
    browser.cookies.set(name, value, domain="127.0.0.1", path="/")
    token = csrf_from(browser.get(f"{a}/groups").text)
    assert browser.post(f"{a}/logout", data={"csrf_token": token}, allow_redirects=False).status_code == 302
    deadline_ok = False
    for _ in range(50):
        if not affected.sio.connected:
            deadline_ok = True
            break
        affected.sio.sleep(0.1)
    assert deadline_ok, "the socket on B stayed connected after logout on A"
    with app.app_context():
        from app.accounts.models import UserSession
        assert db.session.scalar(db.select(UserSession.id).where(UserSession.user_id == world["member"])) is None
    affected.close()

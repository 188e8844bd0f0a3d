"""A fresh app per test: temp database (SQLite file, or PostgreSQL with ONCOLLAB_TEST_DB=postgresql),
temp search index, upload and outbox directories, real commits so hooks run."""
import contextlib
import email
import email.policy
import os
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import event, text

from app import create_app
from app.extensions import db
from config import TestConfig

PG_ADMIN_URL = os.environ.get("ONCOLLAB_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1/postgres")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')



@pytest.fixture(scope="session")
def pg_database():
    """One throw-away PostgreSQL database for the whole run, created and dropped here."""
    if os.environ.get("ONCOLLAB_TEST_DB") != "postgresql":
        yield None
        return
    from sqlalchemy import create_engine
    name = f"oncollab_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A throw-away database need not wait for the disk on every commit.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_pg_schema_ready = set()


def build_app(tmp_path: Path, pg_url: str | None = None, **overrides):
    """An app with every piece of state under tmp_path; tests may override any setting."""
    settings = dict(
        INSTANCE_DIR=str(tmp_path / "instance"),
        DATABASE_URL=pg_url or f"sqlite:///{tmp_path / 'test.db'}",
        SEARCH_INDEX_DIR=str(tmp_path / "search_index"),
        SECRET_KEY="test-secret-key",
        PUBLIC_URL="http://localhost",
    )
    settings.update(overrides)
    app = create_app(TestConfig, **settings)
    with app.app_context():
        if pg_url is None or pg_url not in _pg_schema_ready:
            db.create_all()
            if pg_url:
                _pg_schema_ready.add(pg_url)
    return app


def _truncate_all(app):
    with app.app_context():
        db.session.remove()
        # DELETE beats TRUNCATE on a few small tables (TRUNCATE rewrites files).
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app_factory(tmp_path, pg_database):
    """Build apps with extra settings (e.g. RATELIMIT_ENABLED=True); cleaned up after the test."""
    built = []

    def factory(**overrides):
        app = build_app(tmp_path, pg_database, **overrides)
        built.append(app)
        return app

    yield factory
    for app in built:
        release_app(app, pg_database)


def release_app(app, pg_database) -> None:
    """End a test app: empty the shared PostgreSQL database, or just close the SQLite file."""
    if pg_database:
        _truncate_all(app)
    else:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def get_csrf(client, url: str = "/") -> str:
    """A valid token for this client's session, taken from a real page like a browser would."""
    response = client.get(url)
    return csrf_from(response.get_data(as_text=True))


def submit(client, form_url: str, data: dict, post_url: str | None = None, **kwargs):
    """GET a form page, then POST it with its CSRF token, like a person filling the form."""
    token = get_csrf(client, form_url)
    return client.post(post_url or form_url, data={**data, "csrf_token": token}, **kwargs)


def login_as(client, user):
    """Sign a test client in through a real server-side session row (fast, no form)."""
    from app.accounts.models import UserSession
    with client.application.app_context():
        row = UserSession(user_id=user.id, user_agent="pytest")
        db.session.add(row)
        db.session.commit()
        token = row.token
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def outbox(app) -> list[email.message.EmailMessage]:
    """Mail the app sent, oldest first, parsed."""
    folder = Path(app.config["OUTBOX_DIR"])
    if not folder.exists():
        return []
    messages = []
    for path in sorted(folder.glob("*.eml")):
        messages.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return messages


def links_in(message, path_prefix: str) -> list[str]:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://[^\s]+(" + re.escape(path_prefix) + r"[^\s]*)", body)


@contextlib.contextmanager
def statements(app):
    """Every SQL statement the app runs inside the block (query-count tests)."""
    with app.app_context():
        engine = db.engine
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)

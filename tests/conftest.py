"""A fresh app per test: temp database (SQLite file, or PostgreSQL with ONCOLLAB_TEST_DB=postgresql),
temp search index, upload and outbox directories, real commits so hooks run.

Fixtures and the making of apps and databases live here; objects and the plain helpers every test
shares (signed-in clients, CSRF tokens, reading rows back) live in tests/factories.py."""
import contextlib
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from config import TestConfig

PG_ADMIN_URL = os.environ.get("ONCOLLAB_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1/postgres")


@contextlib.contextmanager
def fresh_pg_database(name: str, *, fast: bool = False):
    """A throw-away PostgreSQL database called ``name``, created here and dropped afterwards; yields its URL."""
    from sqlalchemy import create_engine
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        if fast:  # a throw-away database need not wait for the disk on every commit
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database():
    """One throw-away PostgreSQL database for the whole run, created and dropped here."""
    if os.environ.get("ONCOLLAB_TEST_DB") != "postgresql":
        yield None
        return
    with fresh_pg_database(f"oncollab_test_{uuid.uuid4().hex[:10]}", fast=True) as url:
        yield url


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


@pytest.fixture
def live(app):
    """The app served by a real threaded server on 127.0.0.1; ``live.connect(user_id)`` opens a
    python-socketio client carrying that user's session cookie (anonymous for None), closed at the end."""
    from tests.test_realtime_support import Client, LiveApp, session_cookie
    server = LiveApp(app)
    clients = []

    def connect(user=None, **kwargs):
        client = Client(server.url, session_cookie(app, user) if user is not None else None, **kwargs)
        clients.append(client)
        return client

    server.connect = connect
    yield server
    for client in clients:
        client.close()
    server.stop()

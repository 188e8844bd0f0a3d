"""The operator's view: health check, command line, demo data and migrations."""
import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select

from app import create_app
from app.extensions import db
from config import TestConfig
from tests.conftest import fresh_pg_database


def test_healthz_reports_each_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "uploads", "search_index"}
    assert all(check["ok"] for check in body["checks"].values())


def test_healthz_degrades_when_upload_dir_missing(app, client, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "does-not-exist")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["uploads"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_create_admin_creates_then_promotes(app):
    from app.accounts.models import User
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "Boss@Example.org"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.org with password:" in result.output
    password = result.output.rsplit(":", 1)[1].strip()
    assert len(password) >= 12
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "boss@example.org"))
        assert user.is_admin and user.is_confirmed and user.check_password(password)
        user.site_role = "member"
        db.session.commit()
    result = runner.invoke(args=["users", "create-admin", "boss@example.org"])
    assert "Promoted" in result.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "boss@example.org")).is_admin


def test_demo_load_is_idempotent_and_has_no_default_password(app):
    from app.accounts.models import User
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                  for table in db.metadata.sorted_tables}
        roles = set(db.session.scalars(select(User.role)))
        site_roles = set(db.session.scalars(select(User.site_role)))
    assert {"patient", "carer", "clinician", "nurse", "researcher", "centre_staff"} <= roles
    assert site_roles == {"member", "moderator", "admin"}
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        again = {table.name: db.session.scalar(select(func.count()).select_from(table))
                 for table in db.metadata.sorted_tables}
        admin = db.session.scalar(select(User).where(User.site_role == "admin"))
        for weak in ("admin", "password", "demo", "oncollab", "admin123"):
            assert not admin.check_password(weak)
    assert again == counts, "a second demo load must change nothing"
    assert "created" not in second.output.split("Password")[0].split()


def test_migrations_match_the_models(tmp_path, pg_database):
    """`flask db upgrade` builds exactly the schema the models describe (no missing migration),
    on SQLite, and on a fresh PostgreSQL database in the PostgreSQL pass."""
    if pg_database:
        with fresh_pg_database(pg_database.rsplit("/", 1)[1] + "_migrations") as url:
            _assert_upgrade_matches_models(tmp_path, url)
    _assert_upgrade_matches_models(tmp_path, f"sqlite:///{tmp_path / 'migrated.db'}")


def _assert_upgrade_matches_models(tmp_path, url: str):
    app = create_app(TestConfig, INSTANCE_DIR=str(tmp_path / "i"), DATABASE_URL=url,
                     SEARCH_INDEX_DIR=str(tmp_path / "s"), SECRET_KEY="x")
    with app.app_context():
        upgrade()
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"render_as_batch": True}), db.metadata)
        engine.dispose()
    assert diff == [], json.dumps([str(d) for d in diff], indent=1)


def test_environment_overrides_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("ONCOLLAB_SITE_NAME", "Oncollab Test")
    monkeypatch.setenv("ONCOLLAB_MAX_CONTENT_LENGTH", "1234")
    monkeypatch.setenv("ONCOLLAB_RATELIMIT_ENABLED", "false")
    app = create_app(TestConfig, INSTANCE_DIR=str(tmp_path / "i"), SECRET_KEY="x",
                     DATABASE_URL=f"sqlite:///{tmp_path / 'e.db'}", SEARCH_INDEX_DIR=str(tmp_path / "s"))
    assert app.config["SITE_NAME"] == "Oncollab Test"
    assert app.config["MAX_CONTENT_LENGTH"] == 1234
    assert app.config["RATELIMIT_ENABLED"] is False


def test_secret_key_is_generated_once_per_installation(tmp_path):
    from config import Config, load_config
    first = load_config(Config, {"INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
    second = load_config(Config, {"INSTANCE_DIR": str(tmp_path)})["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0

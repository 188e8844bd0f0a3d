"""The index as a cache of the database: rebuild (beside the live index, then swap), check,
crash safety, one writer path under concurrency, bulk reindexing and the health check."""
import threading

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.search import indexer
from app.search.query import search


def _guidelines(n, prefix="Capybara"):
    from app.guidelines.models import Guideline
    for i in range(n):
        db.session.add(Guideline(publisher="ESMO", title=f"{prefix} guideline {i}", url=f"https://example.org/{i}"))
    db.session.commit()


def total(app, q):
    return search(app.config["SEARCH_INDEX_DIR"], q, scopes=frozenset({"public"}))["total"]


def test_cli_rebuild_and_check(app):
    runner = app.test_cli_runner()
    with app.app_context():
        _guidelines(3)
        # A change the hooks cannot see (a core UPDATE): the index now lags the database.
        db.session.execute(update(__import__("app.guidelines.models", fromlist=["Guideline"]).Guideline)
                           .values(title="Tapir guideline"))
        db.session.commit()
    assert total(app, "tapir") == 0
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0  # same ids: check compares ids, not text
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "rebuilt" in result.output
    assert total(app, "tapir") == 3
    base = app.config["SEARCH_INDEX_DIR"]
    with app.app_context():
        from app.guidelines.models import Guideline
        first = db.session.scalar(select(func.min(Guideline.id)))
    indexer.write(base, {f"guideline:{first}": None})
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and "missing" in result.output
    assert runner.invoke(args=["search", "rebuild", "--if-empty"]).output.strip() == "search index already built"


def test_a_crash_half_way_leaves_the_old_index_working(app):
    base = app.config["SEARCH_INDEX_DIR"]
    with app.app_context():
        _guidelines(5)
        indexer.rebuild(base)
        _guidelines(5, prefix="Okapi")
        with pytest.raises(RuntimeError):
            indexer.rebuild(base, fail_after=3)
    assert total(app, "capybara") == 5 and total(app, "okapi") == 5
    from pathlib import Path
    assert len([p for p in Path(base).iterdir() if p.is_dir()]) == 1  # the half-built copy is gone


def test_bulk_reindex_ids(app):
    from app.guidelines.models import Guideline
    with app.app_context():
        _guidelines(4)
        db.session.execute(update(Guideline).values(title="Pangolin guideline"))
        db.session.commit()
        assert total(app, "pangolin") == 0
        ids = sorted(db.session.scalars(select(Guideline.id)))
        indexer.reindex_ids("guideline", [ids[0], ids[1], ids[-1] + 1000])
    assert total(app, "pangolin") == 2


def test_one_writer_path_under_concurrent_commits(app):
    errors = []

    def worker(n):
        try:
            with app.app_context():
                _guidelines(5, prefix=f"Axolotl{n}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert total(app, "guideline") == 20
    with app.app_context():
        report = indexer.check(app.config["SEARCH_INDEX_DIR"])
    assert not any(d["missing"] or d["extra"] for d in report.values())


def test_healthz_reports_the_index(app):
    client = app.test_client()
    check = client.get("/healthz").get_json()["checks"]["search_index"]
    assert check["ok"] and check["built"] is False
    with app.app_context():
        _guidelines(2)
    check = client.get("/healthz").get_json()["checks"]["search_index"]
    assert check["ok"] and check["built"] and check["documents"] == 2

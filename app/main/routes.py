import os
from pathlib import Path

from flask import current_app, jsonify, render_template
from sqlalchemy import text

from app.extensions import csrf, db
from app.forum.queries import topic_rows
from app.main import bp
from app.search.indexer import status
from app.search.outbox import backlog


@bp.get("/")
def home():
    return render_template("main/home.html", sections=home_sections())


def home_sections() -> dict:
    """Widgets for the home page; each feature adds its own list once it exists."""
    from flask_login import current_user
    sections = {}
    # What this person may read (policy.visible inside topic_rows), minus what they muted.
    sections["latest_discussions"], _more = topic_rows(current_user, latest=True, per_page=5)
    return sections


@bp.get("/terms")
def terms():
    return render_template("main/terms.html", version=current_app.config["TERMS_VERSION"])


@bp.get("/privacy")
def privacy():
    return render_template("main/privacy.html", version=current_app.config["TERMS_VERSION"])


@bp.get("/community-guidelines")
def community_guidelines():
    """The rules the posting assistant links to when it warns; plain words, one page."""
    return render_template("main/community_guidelines.html")


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """For operators and load balancers: is each dependency usable right now?"""
    checks = {"database": _check_database(), "uploads": _check_dir(current_app.config["UPLOAD_DIR"]),
              "search_index": _check_search(current_app.config["SEARCH_INDEX_DIR"])}
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503


def _check_database() -> dict:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as exc:  # report, never crash the health check
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def _check_search(path: str) -> dict:
    """Writable, and the live index opens (with its document count); an index not built yet is
    reported but not unhealthy: pages work and `flask search rebuild` fills it."""
    check = _check_dir(path)
    if not check["ok"]:
        return check
    state = status(path)
    if state.get("error") == "not built":
        return {"ok": True, "built": False, "documents": 0, "outbox": _search_outbox()}
    return {"ok": state["ok"], "built": state["ok"], "documents": state.get("documents", 0),
            "outbox": _search_outbox(), **({"error": state["error"]} if "error" in state else {})}


def _search_outbox() -> dict:
    """Changes not yet in the index: rows waiting and the oldest one's age (informative)."""
    try:
        return backlog()
    except Exception as exc:
        db.session.rollback()
        return {"error": type(exc).__name__}


def _check_dir(path: str) -> dict:
    p = Path(path)
    ok = p.is_dir() and os.access(p, os.W_OK)
    return {"ok": ok} if ok else {"ok": False, "error": "missing or not writable"}

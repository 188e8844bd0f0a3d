"""The notification list (HTML and JSON) and marking read. Each fetch re-applies the policy for
the recipient, so a notification about something they can no longer open simply disappears."""
from flask import jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.auth import login_required
from app.notifications import bp, services
from app.notifications.models import Notification


def _label(note: Notification) -> str:
    actor = note.actor.display_name if note.actor else _("Someone")
    return {
        "mention": _("%(actor)s mentioned you in “%(topic)s”", actor=actor, topic=note.topic.title),
        "quote": _("%(actor)s quoted you in “%(topic)s”", actor=actor, topic=note.topic.title),
        "topic": _("%(actor)s started “%(topic)s”", actor=actor, topic=note.topic.title),
    }.get(note.kind, _("%(actor)s replied in “%(topic)s”", actor=actor, topic=note.topic.title))


def _json(note: Notification) -> dict:
    return {"id": note.id, "kind": note.kind, "text": _label(note),
            "actor": {"id": note.actor.id, "display_name": note.actor.display_name} if note.actor else None,
            "topic_id": note.topic_id, "post_id": note.post_id,
            "url": url_for("forum.permalink", post_id=note.post_id),
            "created_at": note.created_at.isoformat() + "Z", "read": note.read_at is not None}


@bp.app_context_processor
def _unread_badge():
    """A callable, so the count query runs only on pages that show it, once."""
    cache = {}

    def unread_notifications() -> int:
        if "n" not in cache:
            cache["n"] = services.unread_count(current_user)
        return cache["n"]
    return {"unread_notifications": unread_notifications}


@bp.get("/notifications")
@login_required
def index():
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    notes, has_next = services.list_for(current_user, page)
    return render_template("notifications/index.html", notes=notes, page=page, has_next=has_next, label=_label)


@bp.post("/notifications/read")
@login_required
def mark_read():
    ids = request.form.getlist("id") or None
    services.mark_read(current_user, ids)
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/<int(max=2147483647):note_id>/open")
@login_required
def open_one(note_id):
    """Mark one read and go to it: a POST, because opening changes state (no writes on GET)."""
    services.mark_read(current_user, [note_id])
    note = services.get_visible(current_user, note_id)
    if note is None:
        return redirect(url_for("notifications.index"))
    return redirect(url_for("forum.permalink", post_id=note.post_id))


@bp.get("/api/notifications")
def api_index():
    if not current_user.is_authenticated:
        return jsonify(error={"code": 401, "message": _("Please sign in.")}), 401
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    notes, has_next = services.list_for(current_user, page, unread_only=request.args.get("unread") == "1")
    return jsonify(notifications=[_json(n) for n in notes], unread=services.unread_count(current_user),
                   page=page, has_next=has_next)


@bp.post("/api/notifications/read")
def api_mark_read():
    if not current_user.is_authenticated:
        return jsonify(error={"code": 401, "message": _("Please sign in.")}), 401
    data = request.get_json(silent=True) or {}
    ids = data.get("ids") if isinstance(data, dict) else None
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
        return jsonify(error={"code": 400, "message": _("ids must be a list of numbers.")}), 400
    changed = services.mark_read(current_user, ids)
    return jsonify(marked=changed, unread=services.unread_count(current_user))

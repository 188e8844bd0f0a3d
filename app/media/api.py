"""The stable JSON interface scripts and the composer rely on (issue "Media"):

* ``POST /api/media`` (multipart ``file``; optional ``title``, ``alt``, ``group``) -> 201
  ``{id, url, thumbnail_url, content_type, width, height}``; refusals 413 (too large), 415 (type
  not allowed, or content and name disagree), 400 (anything else), each ``{"error": {code,
  message}}`` like every API error, and nothing stored;
* ``GET /api/media`` my files (the composer's picker), ``GET/PATCH/DELETE /api/media/<id>``.

CSRF as for every JSON write: the ``X-CSRFToken`` header (or a ``csrf_token`` form field).
"""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from app import policy
from app.core.auth import login_required
from app.core.errors import ServiceError
from app.core.pagination import fetch_page, page_arg
from app.media import bp, services, serving
from app.media.models import Media

ID = "int(max=2147483647)"
PER_PAGE = 30


def item_json(media: Media) -> dict:
    return {"id": media.id, "url": url_for("media.file", media_id=media.id),
            "thumbnail_url": url_for("media.thumb", media_id=media.id, size="small") if media.kind == "image" else None,
            "content_type": media.content_type, "kind": media.kind, "width": media.width, "height": media.height,
            "title": media.title, "alt": media.alt, "size": media.size, "original_name": media.original_name,
            "group": media.group.slug if media.group is not None else None}


def _error(status: int, message: str, code: str | None = None):
    body = {"code": status, "message": message}
    if code:
        body["reason"] = code
    return jsonify(error=body), status


def uploaded_file():
    """The multipart file, reading at most MEDIA_MAX_BYTES (plus the form's own fields)."""
    request.max_content_length = services.limits().max_bytes + 64 * 1024
    return request.files.get("file")


def too_large_message() -> str:
    return _("The file is larger than %(mb)d MB.", mb=services.limits().max_bytes // (1024 * 1024))


@bp.post("/api/media")
@login_required
def api_upload():
    try:
        upload = uploaded_file()
        form = request.form
    except RequestEntityTooLarge:
        return _error(413, too_large_message(), "too_large")
    if upload is None:
        return _error(400, _("Send the file in the multipart field “file”."), "invalid")
    group = policy.group_or_404(form["group"]) if form.get("group") else None
    try:
        media = services.upload(current_user, upload.filename, upload.read(), title=form.get("title", ""),
                                alt=form.get("alt", ""), description=form.get("description", ""),
                                licence=form.get("licence") or "all-rights-reserved", group=group)
    except ServiceError as error:
        return _error(error.status, error.message, error.code)
    return jsonify(item_json(media)), 201


@bp.get("/api/media")
@login_required
def api_mine():
    query = select(Media).where(Media.owner_id == current_user.id).order_by(Media.created_at.desc(), Media.id.desc())
    if request.args.get("kind") in ("image", "video", "document"):
        query = query.where(Media.kind == request.args["kind"])
    items, has_next = fetch_page(query, page_arg(), PER_PAGE)
    return jsonify(items=[item_json(m) for m in items], has_next=has_next)


@bp.get(f"/api/media/<{ID}:media_id>")
def api_item(media_id):
    return jsonify(item_json(serving.load(media_id)))


@bp.patch(f"/api/media/<{ID}:media_id>")
@login_required
def api_update(media_id):
    media = serving.load(media_id)
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or any(not isinstance(data.get(k, ""), str) for k in ("title", "alt", "description")):
        return _error(400, _("Send a JSON object with text fields title, alt or description."))
    try:
        services.update(current_user, media, title=data.get("title"), alt=data.get("alt"),
                        description=data.get("description"))
    except ServiceError as error:
        return _error(error.status, error.message, error.code)
    return jsonify(item_json(media))


@bp.delete(f"/api/media/<{ID}:media_id>")
@login_required
def api_delete(media_id):
    media = serving.load(media_id)
    try:
        services.delete(current_user, media)
    except ServiceError as error:
        return _error(error.status, error.message, error.code)
    return "", 204

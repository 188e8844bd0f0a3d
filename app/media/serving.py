"""The one way a stored file leaves the server: checked by the policy, with headers that keep
it inert (DESIGN 7). Images and video are shown inline; documents are downloads only."""
from __future__ import annotations

from flask import abort, send_file
from flask_login import current_user

from app import policy
from app.media import storage
from app.media.models import Media

SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
MAX_AGE = 3600


def send(media: Media, size: str | None = None):
    """``size`` None is the file itself; "small"/"large" a thumbnail (the file while the job has
    not written it yet). The caller has already checked ``policy.can_view``."""
    content_type, path = media.content_type, storage.path_for(media.stored_name)
    if size is not None:
        thumb = storage.path_for(media.stored_name, size)
        if media.thumbnails_at is not None and thumb.exists():
            content_type, path = "image/webp", thumb
    if not path.exists():
        abort(404)
    download = media.kind == "document"
    name = media.original_name or f"file-{media.id}"
    response = send_file(path, mimetype=content_type, as_attachment=download, download_name=name,
                         conditional=True, etag=True, max_age=MAX_AGE)
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    public = not current_user.is_authenticated  # a visitor got here only if the file is public
    response.cache_control.public = public
    response.cache_control.private = not public
    response.vary.add("Cookie")
    return response


def load(media_id: int) -> Media:
    return policy.get_visible_or_404(Media, media_id)

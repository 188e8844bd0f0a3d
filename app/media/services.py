"""Uploading, describing, sharing and deleting files; albums; avatars.

Every check is the policy's (``can_upload``, ``can_manage_media``, ``can_embed``); every refusal
is a ``ServiceError`` with its HTTP status (400, 403, 413, 415) and a reason for people. A
refused upload stores nothing; an accepted one is written to disk before its row commits, and
a failed commit removes the file again. Thumbnails are made off the request (the job queue).
"""
from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import jobs, policy
from app.core import events
from app.core.errors import Denied, ServiceError
from app.core.text import UNSTORABLE
from app.extensions import db
from app.groups.models import Group
from app.media import storage
from app.media.inspect import Limits, Refused, inspect, thumbnail
from app.media.models import LICENCES, Album, Media, MediaUse
from app.models_base import utcnow

TITLE_MAX, ALT_MAX, DESCRIPTION_MAX = 200, 500, 5000


def limits() -> Limits:
    config = current_app.config
    return Limits(config["MEDIA_MAX_BYTES"], config["MEDIA_MAX_PIXELS"], config["MEDIA_MAX_ANIMATION_PIXELS"])


def used_bytes(user) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Media.size), 0)).where(Media.owner_id == user.id))


def quota(user) -> tuple[int, int]:
    """(bytes used, bytes allowed): shown on My media and enforced on upload."""
    return used_bytes(user), current_app.config["MEDIA_QUOTA_BYTES"]


def _text(value, limit: int, label: str, field: str) -> str:
    value = (value or "").strip()
    if UNSTORABLE.search(value):
        raise ServiceError(_("%(label)s contains characters that cannot be stored.", label=label), field)
    if len(value) > limit:
        raise ServiceError(_("%(label)s is longer than %(n)d characters.", label=label, n=limit), field)
    return value


def upload(user, name: str | None, data: bytes, *, title: str = "", alt: str = "", description: str = "",
           licence: str = "all-rights-reserved", group: Group | None = None, album: Album | None = None) -> Media:
    """Keep one file, or raise; nothing is stored when anything is refused."""
    if not policy.can_upload(user):
        raise Denied(_("Confirm your e-mail address before uploading files."))
    if group is not None and not policy.can_post(user, group):
        raise Denied(_("Only members of this group can share files in it."), "group")
    if album is not None and album.owner_id != user.id:
        raise ServiceError(_("No such album."), "album", status=404)
    if licence not in LICENCES:
        raise ServiceError(_("Choose a licence from the list."), "licence")
    title = _text(title, TITLE_MAX, _("The title"), "title")
    alt = _text(alt, ALT_MAX, _("The alt text"), "alt")
    description = _text(description, DESCRIPTION_MAX, _("The description"), "description")
    try:
        accepted = inspect(name, data, limits())
    except Refused as refusal:
        raise ServiceError(refusal.message, "file", status=refusal.status,
                           code={413: "too_large", 415: "unsupported_type"}.get(refusal.status, "invalid")) from None
    used, allowed = quota(user)
    if used + len(accepted.data) > allowed:
        raise ServiceError(_("This file would take you past your storage quota of %(mb)d MB. Delete files you no "
                             "longer need from My media, then try again.", mb=allowed // (1024 * 1024)), "file",
                           status=413, code="quota")
    stored_name = storage.new_name(accepted.extension)
    media = Media(owner_id=user.id, group=group, album=album, kind=accepted.kind, content_type=accepted.content_type,
                  stored_name=stored_name, original_name=name, title=title or name.rpartition(".")[0][:TITLE_MAX],
                  alt=alt, description=description, licence=licence, size=len(accepted.data), width=accepted.width,
                  height=accepted.height, frames=accepted.frames, sha256=hashlib.sha256(accepted.data).hexdigest())
    storage.write(stored_name, accepted.data)
    try:
        db.session.add(media)
        db.session.commit()
    except Exception:
        db.session.rollback()
        storage.remove(stored_name)
        raise
    if media.kind == "image":
        jobs.enqueue(make_thumbnails, media.id)
    return media


def make_thumbnails(media_id: int) -> None:
    """The job: both sizes from the stored (already clean) image, written once."""
    media = db.session.get(Media, media_id)
    if media is None or media.kind != "image" or media.thumbnails_at is not None:
        return
    data = storage.read(media.stored_name)
    for size, box in storage.THUMB_SIZES.items():
        storage.write(media.stored_name, thumbnail(data, box), size)
    media.thumbnails_at = utcnow()
    db.session.commit()


def update(user, media: Media, *, title=None, alt=None, description=None, licence=None, album=None,
           group=None, unshare: bool = False) -> Media:
    """Describe, file into an album, share to a group (or stop sharing)."""
    if not policy.can_manage_media(user, media):
        raise Denied(_("Only the owner can change this file."))
    if title is not None:
        media.title = _text(title, TITLE_MAX, _("The title"), "title") or media.original_name[:TITLE_MAX]
    if alt is not None:
        media.alt = _text(alt, ALT_MAX, _("The alt text"), "alt")
    if description is not None:
        media.description = _text(description, DESCRIPTION_MAX, _("The description"), "description")
    if licence is not None:
        if licence not in LICENCES:
            raise ServiceError(_("Choose a licence from the list."), "licence")
        media.licence = licence
    if album is not None:
        if album.owner_id != media.owner_id:
            raise ServiceError(_("No such album."), "album", status=404)
        media.album = album
    if unshare:
        media.group = None
    elif group is not None:
        if not policy.can_post(user, group):
            raise Denied(_("Only members of this group can share files in it."), "group")
        media.group = group
    db.session.commit()
    return media


def delete(user, media: Media) -> None:
    """Gone from disk with its thumbnails; places that embedded it show "[file removed]" (the
    ``media_deleted`` subscribers re-render them) and picture columns are cleared."""
    if not policy.can_manage_media(user, media):
        raise Denied(_("Only the owner can delete this file."))
    media_id, stored_name = media.id, media.stored_name
    places = []
    for use in list(media.uses):
        parent = policy.media_parent(use)
        if parent is None:
            continue
        if use.role == "embed":
            places.append((use.parent_type, use.parent_id))
        else:
            for column in ("avatar_id", "cover_id", "programme_id"):
                if getattr(parent, column, None) == media_id:
                    setattr(parent, column, None)
    db.session.delete(media)
    db.session.commit()
    storage.remove(stored_name)
    events.media_deleted.send(media_id, places=places)


def choose_picture(owner_id: int, media_id: int | None, *, kinds=("image",), field: str = "media") -> Media | None:
    """A file for a cover, an avatar or a programme: the owner's own (``policy.can_embed``: a
    picture of someone else's would widen who sees it), of the right kind, described."""
    if not media_id:
        return None
    media = db.session.get(Media, media_id)
    if media is None or media.owner_id != owner_id or media.kind not in kinds:
        raise ServiceError(_("Choose one of your own files."), field, status=404)
    if not policy.can_embed(media.owner, media):
        raise ServiceError(_("Add alt text to this image first: it describes the picture to people who cannot see it."),
                           field)
    return media


def pictures_of(owner_id: int, kind: str = "image") -> list[Media]:
    """The owner's files of one kind that can be shown (images need alt text), newest first."""
    rows = db.session.scalars(select(Media).where(Media.owner_id == owner_id, Media.kind == kind)
                              .order_by(Media.created_at.desc(), Media.id.desc()).limit(200))
    return [m for m in rows if not m.needs_alt]


def set_avatar(user, media: Media | None) -> None:
    user.avatar_id = media.id if media is not None else None
    db.session.commit()


def set_group_avatar(actor, group: Group, media: Media | None) -> None:
    if not policy.can_manage_group(actor, group):
        raise Denied(_("Only the group's owner can change its picture."))
    group.avatar_id = media.id if media is not None else None
    db.session.commit()


def create_album(user, title: str, description: str = "") -> Album:
    if not policy.can_upload(user):
        raise Denied(_("Confirm your e-mail address before creating albums."))
    title = _text(title, TITLE_MAX, _("The title"), "title")
    if not title:
        raise ServiceError(_("Give the album a title."), "title")
    album = Album(owner_id=user.id, title=title,
                  description=_text(description, DESCRIPTION_MAX, _("The description"), "description"))
    db.session.add(album)
    db.session.commit()
    return album


def delete_album(user, album: Album) -> None:
    """The album goes; its files stay in the library."""
    if album.owner_id != user.id:
        raise Denied(_("Only the owner can delete this album."))
    db.session.delete(album)
    db.session.commit()


def uses_of(media: Media) -> list[MediaUse]:
    return list(media.uses)

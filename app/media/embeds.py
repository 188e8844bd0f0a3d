"""What the renderer may embed in a body: the author's own files it references, and nothing
else (``policy.can_embed``: someone else's photo would be shown to a wider audience)."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.core.text import initials
from app.extensions import db
from app.media.models import Media
from app.sanitize import Embed

_MARKDOWN_REFERENCE = re.compile(r"\]\(\s*/media/([0-9]{1,10})\s*\)")
_IMAGE_REFERENCE = re.compile(r"!\[([^\]\n]{0,300})\]\(\s*/media/([0-9]{1,10})\s*\)")
MAX_EMBEDS = 50  # one body cannot make a page load a whole library


def referenced(source: str | None) -> list[int]:
    seen: dict[int, None] = {}
    for match in _MARKDOWN_REFERENCE.finditer(source or ""):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)[:MAX_EMBEDS]


def embed_of(media: Media) -> Embed:
    # Plain paths, not url_for: bodies are also rendered by jobs and imports, outside a request,
    # and the sanitiser accepts exactly these forms (MEDIA_SRC).
    url = f"/media/{media.id}"
    thumbnail = f"/media/{media.id}/thumb/large" if media.kind == "image" else None
    return Embed(media.kind, url, media.label, media.alt, thumbnail, media.width, media.height)


def lookup(source: str | None, author_id: int | None) -> dict[int, Embed]:
    """Embeds for the author's own files referenced in ``source`` (one query)."""
    wanted = referenced(source)
    if not wanted or author_id is None:
        return {}
    rows = db.session.scalars(select(Media).where(Media.id.in_(wanted), Media.owner_id == author_id))
    return {media.id: embed_of(media) for media in rows}


def missing_alt(source: str | None, embeds: dict[int, Embed]) -> list[str]:
    """Images embedded with no description anywhere (neither ``![this](…)`` nor the file's alt
    text): screen-reader users would hear nothing, so they are refused before publishing."""
    return [embeds[int(ident)].title for label, ident in _IMAGE_REFERENCE.findall(source or "")
            if int(ident) in embeds and embeds[int(ident)].kind == "image" and not label.strip()
            and not embeds[int(ident)].alt.strip()]


def avatar_of(who) -> dict:
    """A person's picture for live payloads (the socket twin of _macros/avatar.html): the small
    thumbnail's path, or their initials."""
    name = getattr(who, "display_name", None) or getattr(who, "name", "")
    return {"avatar": f"/media/{who.avatar_id}/thumb/small" if who.avatar_id else None, "initials": initials(name)}

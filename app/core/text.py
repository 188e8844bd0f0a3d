"""What people type, made storable: titles, bodies and slugs, the same rule for every feature."""
import re
import unicodedata

from flask_babel import gettext as _

from app.core.errors import ServiceError

TITLE_MAX = 200
BODY_MAX = 50_000
# NUL breaks PostgreSQL text, other C0 controls and lone surrogates break XML feeds and encoders.
UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
SPACES = re.compile(r"\s+")


def slugify(text: str, fallback: str = "item", limit: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return slug or fallback


def clean_title(value, field: str = "title", limit: int = TITLE_MAX) -> str:
    text = SPACES.sub(" ", UNSTORABLE.sub("", str(value or ""))).strip()
    if not text:
        raise ServiceError(_("Please enter a title."), field)
    if len(text) > limit:
        raise ServiceError(_("This can be at most %(limit)d characters long.", limit=limit), field)
    return text


def clean_body(value, field: str = "body") -> str:
    text = UNSTORABLE.sub("", str(value or "")).replace("\r\n", "\n")
    if not text.strip():
        raise ServiceError(_("Please write something."), field)
    if len(text) > BODY_MAX:
        raise ServiceError(_("Posts can be at most %(limit)d characters long.", limit=BODY_MAX), field)
    return text


def initials(name: str) -> str:
    """What an avatar shows when there is no picture: the first letters of the first and last
    words ("Clara Klein" -> "CK"; "Dr Clara Klein" -> "DK"), a single letter for one word."""
    words = [w for w in (name or "").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()

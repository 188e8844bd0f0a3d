"""@mentions. Display names are not unique and contain spaces, so two spellings are accepted:
``@[Dr Clara Klein]`` (what the editor inserts; any name) and ``@Dr_Clara_Klein`` (a handle:
the display name with underscores for spaces). A name shared by several accounts mentions no-one:
guessing could alert a stranger. Mentions never grant access; the notifier checks the policy."""
import re

from sqlalchemy import func, or_, select

from app.accounts.models import User
from app.extensions import db

MAX_MENTIONS = 20  # one post cannot page half the site
_BRACKET = re.compile(r"(?<![\w@])@\[([^\]\n]{1,80})\]")
_HANDLE = re.compile(r"(?<![\w@\[])@(\w[\w.'\-]{0,79})")
_FENCE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def mentioned_names(body: str) -> list[str]:
    text = _FENCE.sub(" ", body or "")  # code is quoted material, not a call for attention
    names = [m.group(1).strip() for m in _BRACKET.finditer(text)]
    names += [m.group(1).rstrip(".'-").replace("_", " ") for m in _HANDLE.finditer(text)]
    seen, result = set(), []
    for name in names:
        key = name.casefold()
        if name and key not in seen:
            seen.add(key)
            result.append(name)
    return result[:MAX_MENTIONS]


def resolve_mentions(body: str) -> list:
    """Active accounts named unambiguously in ``body``; one query."""
    names = mentioned_names(body)
    if not names:
        return []
    wanted = {name.casefold() for name in names}
    rows = db.session.scalars(select(User).where(
        User.is_active_account.is_(True),
        or_(User.display_name.in_(names), func.lower(User.display_name).in_([n.lower() for n in names])),
    )).all()
    by_name: dict[str, list] = {}
    for user in rows:
        key = user.display_name.casefold()
        if key in wanted:
            by_name.setdefault(key, []).append(user)
    return [users[0] for users in by_name.values() if len(users) == 1]

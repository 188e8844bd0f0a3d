"""``?page=`` and "one more row than a page": lists show Previous/Next without counting rows."""
from flask import request

from app.extensions import db

MAX_PAGE = 10_000


def page_arg(name: str = "page", limit: int = MAX_PAGE) -> int:
    """The requested page, 1 when absent or nonsense, never past ``limit`` (no deep OFFSET scans)."""
    return max(1, min(request.args.get(name, 1, type=int) or 1, limit))


def fetch_page(query, page: int, per_page: int, *, unique: bool = False) -> tuple[list, bool]:
    """One page of ``query`` plus whether a next page exists."""
    result = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1))
    rows = (result.unique() if unique else result).all()
    return rows[:per_page], len(rows) > per_page

"""Query-string parsing for the public databases' browse pages and JSON API.

Junk never reaches SQL and never becomes a 500: malformed numbers answer 400 with a reason (the
caller asked for something specific and should know it was not understood); unknown facet values
and oversized text are dropped or trimmed quietly, like a search box would.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from flask import abort, request

MAX_PAGE = 10_000
MAX_TEXT = 200


def text_arg(name: str) -> str:
    """A free-text filter: control characters (NUL breaks PostgreSQL) removed, length capped."""
    value = request.args.get(name, "", type=str)
    value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cs"))
    return " ".join(value.split())[:MAX_TEXT]


def choice_arg(name: str, allowed) -> str:
    value = text_arg(name)
    return value if value in allowed else ""


def int_arg(name: str, default: int | None, *, low: int, high: int) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400, description=f"'{name}' must be a whole number.")
    if not low <= value <= high:
        abort(400, description=f"'{name}' must be between {low} and {high}.")
    return value


def float_arg(name: str, *, low: float, high: float) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw)
    except ValueError:
        abort(400, description=f"'{name}' must be a number between {low:g} and {high:g}.")
    if math.isnan(value) or not low <= value <= high:
        abort(400, description=f"'{name}' must be a number between {low:g} and {high:g}.")
    return value


@dataclass
class Page:
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_args(default_size: int = 25, max_size: int = 100) -> tuple[int, int]:
    number = int_arg("page", 1, low=1, high=MAX_PAGE)
    size = int_arg("per_page", default_size, low=1, high=max_size)
    return number, size


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; plenty for "near me" over a few thousand centres."""
    r1, r2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = r2 - r1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(r1) * math.cos(r2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))

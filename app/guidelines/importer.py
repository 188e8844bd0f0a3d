"""Import the NCCN guideline index CSV: titles, versions and links only (never guideline text).

Idempotent by (publisher, external id); a second run of the same file adds and updates nothing.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.guidelines.models import Guideline

COLUMNS = ("nccn_id", "title", "version", "version_year", "category", "url")
PUBLISHER = "NCCN"


@dataclass
class GuidelinesReport:
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"Guidelines: {self.rows} rows read; {self.added} added, {self.updated} updated, "
               f"{self.unchanged} unchanged, {len(self.rejected)} rejected."]
        out += [f"  line {line}: {reason}" for line, reason in self.rejected]
        return out


def _text_of(source) -> str:
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.endswith(".csv")):
        return Path(source).read_text(encoding="utf-8-sig")
    return source.decode("utf-8-sig") if isinstance(source, bytes) else source


def _clean(value) -> str:
    return " ".join("".join(ch for ch in str(value or "") if ch.isprintable() or ch == " ").split())


def _parse(raw: dict) -> dict:
    external_id = _clean(raw.get("nccn_id"))
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", external_id):
        raise ValueError(f"nccn_id is not an identifier: {external_id[:40]!r}")
    title = _clean(raw.get("title"))
    if not title:
        raise ValueError("title is empty")
    url = _clean(raw.get("url"))
    if not re.match(r"^https?://[^\s/]+\.[^\s]+$", url) or len(url) > 1000:
        raise ValueError(f"url is not an http(s) link: {url[:60]!r}")
    year_text = _clean(raw.get("version_year"))
    year = int(year_text) if year_text.isdigit() and 1950 <= int(year_text) <= 2100 else None
    if year_text and year is None:
        raise ValueError(f"version_year is not a year: {year_text[:10]!r}")
    return dict(external_id=external_id, title=title[:1000], tumour_type=title[:300],
                version=_clean(raw.get("version"))[:40], year=year, category=_clean(raw.get("category"))[:200],
                url=url, language="en")


def import_guidelines(source) -> GuidelinesReport:
    report = GuidelinesReport()
    reader = csv.DictReader(io.StringIO(_text_of(source)))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.rejected.append((1, "missing columns: " + ", ".join(missing)))
        return report
    existing = {g.external_id: g for g in db.session.scalars(select(Guideline).where(Guideline.publisher == PUBLISHER))}
    for raw in reader:
        report.rows += 1
        try:
            values = _parse(raw)
        except ValueError as exc:
            report.rejected.append((reader.line_num, str(exc)))
            continue
        guideline = existing.get(values["external_id"])
        if guideline is None:
            guideline = Guideline(publisher=PUBLISHER, **values)
            db.session.add(guideline)
            existing[values["external_id"]] = guideline
            report.added += 1
            continue
        changed = {k: v for k, v in values.items() if getattr(guideline, k) != v}
        for name, value in changed.items():
            setattr(guideline, name, value)
        if changed:
            report.updated += 1
        else:
            report.unchanged += 1
    db.session.commit()
    return report

"""Guideline queries and verbs shared by the pages and the JSON API."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.directory.params import Page, int_arg, text_arg
from app.extensions import db
from app.guidelines.models import Guideline


@dataclass
class GuidelineFilters:
    publisher: str = ""
    tumour: str = ""
    year: int | None = None

    @classmethod
    def from_request(cls) -> "GuidelineFilters":
        return cls(publisher=text_arg("publisher"), tumour=text_arg("tumour"),
                   year=int_arg("year", None, low=1900, high=2200))

    def args(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(query, f: GuidelineFilters):
    if f.publisher:
        query = query.where(func.lower(Guideline.publisher) == f.publisher.lower())
    if f.tumour:
        query = query.where(Guideline.tumour_type.ilike(_like(f.tumour), escape="\\"))
    if f.year:
        query = query.where(Guideline.year == f.year)
    return query


def browse(f: GuidelineFilters, number: int, size: int) -> tuple[list[Guideline], Page]:
    total = db.session.scalar(filtered(select(func.count(Guideline.id)), f))
    page = Page(number, size, total)
    rows = db.session.scalars(filtered(select(Guideline), f).order_by(Guideline.tumour_type, Guideline.publisher,
                                                                    Guideline.id)
                              .offset(page.offset).limit(size)).all()
    return rows, page


def publishers() -> list[tuple[str, int]]:
    return db.session.execute(select(Guideline.publisher, func.count(Guideline.id))
                              .group_by(Guideline.publisher).order_by(Guideline.publisher)).all()


def years() -> list[int]:
    return db.session.scalars(select(Guideline.year).where(Guideline.year.is_not(None)).distinct()
                              .order_by(Guideline.year.desc())).all()


def add_guideline(user, *, publisher: str, title: str, tumour_type: str, version: str, year: int | None,
                  language: str, url: str) -> Guideline:
    guideline = Guideline(publisher=publisher, title=title, tumour_type=tumour_type, version=version or "",
                          year=year, language=language, url=url, added_by=user)
    db.session.add(guideline)
    db.session.commit()
    return guideline

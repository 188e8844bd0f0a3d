"""Trial queries shared by the pages and the JSON API (same filters, same order)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload, undefer

from app.directory.countries import NAMES, in_europe, name_for
from app.directory.params import Page, choice_arg, text_arg
from app.extensions import db
from app.trials.models import PHASE_LABELS, STATUS_LABELS, Trial, TrialSite

NO_PHASE = "none"


@dataclass
class TrialFilters:
    status: str = ""
    phase: str = ""
    country: str = ""
    condition: str = ""

    @classmethod
    def from_request(cls) -> "TrialFilters":
        country = text_arg("country").upper()
        return cls(status=choice_arg("status", STATUS_LABELS), phase=choice_arg("phase", {**PHASE_LABELS, NO_PHASE: ""}),
                   country=country if country in NAMES else "", condition=text_arg("condition"))

    def args(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def filtered(query, f: TrialFilters):
    if f.status:
        query = query.where(Trial.status == f.status)
    if f.phase == NO_PHASE:
        query = query.where(Trial.phases == "")
    elif f.phase:
        # Stored "PHASE1|PHASE2": match a whole code between separators (PHASE1 must not match
        # EARLY_PHASE1).
        query = query.where(("|" + Trial.phases + "|").like(f"%|{f.phase}|%"))
    if f.country:
        query = query.where(Trial.sites.any(TrialSite.country_code == f.country))
    if f.condition:
        query = query.where(Trial.conditions_text.ilike(_like(f.condition), escape="\\"))
    return query


def browse(f: TrialFilters, number: int, size: int) -> tuple[list[Trial], Page]:
    total = db.session.scalar(filtered(select(func.count(Trial.id)), f))
    page = Page(number, size, total)
    rows = db.session.scalars(filtered(select(Trial), f)
                              .order_by(Trial.last_update.desc().nulls_last(), Trial.nct_id)
                              .offset(page.offset).limit(size)).all()
    return rows, page


def site_countries() -> list[tuple[str, str]]:
    """(code, name) of every country with a trial site, for the country filter."""
    codes = db.session.scalars(select(TrialSite.country_code).where(TrialSite.country_code.is_not(None))
                               .distinct()).all()
    return sorted(((c, name_for(c)) for c in codes), key=lambda pair: pair[1])


def load_trial(nct_id: str) -> Trial | None:
    """A trial with its record, contacts, sites and their centres (the page shows all of them):
    three queries."""
    return db.session.scalar(select(Trial).where(Trial.nct_id == nct_id.upper()).options(
        undefer(Trial.raw), undefer(Trial.central_contacts), undefer(Trial.overall_officials),
        selectinload(Trial.sites).selectinload(TrialSite.centre)))


def sites_in_order(trial: Trial) -> list[TrialSite]:
    """Sites in Europe first (the hub's users), then by country and city."""
    return sorted(trial.sites, key=lambda s: (not in_europe(s.country_code), s.country, s.city, s.facility))

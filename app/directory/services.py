"""Queries and verbs for the centre directory; the pages and the JSON API call the same ones, so
filters, ordering and the correction workflow behave identically on both."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import ProfileField
from app.directory import matching
from app.directory.countries import NAMES
from app.directory.models import CENTRE_KINDS, NETWORKS, Centre, CentreCorrection, CentreNetwork
from app.directory.params import Page, choice_arg, float_arg, haversine_km, text_arg
from app.extensions import db
from app.models_base import utcnow
from app.policy import visible
from app.trials.models import OPEN_STATUSES, Trial, TrialSite


class CorrectionConflict(ValueError):
    """Approving would give the centre the name of another centre in the same city."""


@dataclass
class CentreFilters:
    q: str = ""
    country: str = ""
    city: str = ""
    kind: str = ""
    network: str = ""
    near: str = ""
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def from_request(cls) -> "CentreFilters":
        country = text_arg("country").upper()
        lat = float_arg("lat", low=-90, high=90)
        lon = float_arg("lon", low=-180, high=180)
        if (lat is None) != (lon is None):
            lat = lon = None  # half a position is no position: ignored, not an error
        return cls(q=text_arg("q"), country=country if country in NAMES else "", city=text_arg("city"),
                   kind=choice_arg("kind", CENTRE_KINDS), network=choice_arg("network", NETWORKS),
                   near=text_arg("near"), lat=lat, lon=lon)

    def args(self) -> dict:
        """The active filters, for links that keep them (pagination, facets)."""
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(query, f: CentreFilters, *, skip_country: bool = False):
    if f.q:
        query = query.where(Centre.name.ilike(_like(f.q), escape="\\"))
    if f.country and not skip_country:
        query = query.where(Centre.country == f.country)
    if f.city:
        query = query.where(Centre.city_key == matching.place_key(f.city))
    if f.kind:
        query = query.where(Centre.kind == f.kind)
    if f.network:
        query = query.where(Centre.networks.any(CentreNetwork.network == f.network))
    return query


def browse(f: CentreFilters, number: int, size: int) -> tuple[list[tuple[Centre, float | None]], Page]:
    """One page of centres, by name, or by distance when a position is known (haversine over the
    filtered candidates' coordinates, then only the page's rows are loaded)."""
    origin = origin_of(f)
    if origin is None:
        total = db.session.scalar(_filtered(select(func.count(Centre.id)), f))
        page = Page(number, size, total)
        rows = db.session.scalars(_filtered(select(Centre), f).options(selectinload(Centre.networks))
                                  .order_by(Centre.name, Centre.id).offset(page.offset).limit(size)).all()
        return [(c, None) for c in rows], page
    candidates = db.session.execute(_filtered(select(Centre.id, Centre.lat, Centre.lon), f)
                                    .where(Centre.lat.is_not(None), Centre.lon.is_not(None))).all()
    ranked = sorted((haversine_km(origin[0], origin[1], lat, lon), cid) for cid, lat, lon in candidates)
    page = Page(number, size, len(ranked))
    window = ranked[page.offset:page.offset + size]
    loaded = {c.id: c for c in db.session.scalars(select(Centre).options(selectinload(Centre.networks))
                                                  .where(Centre.id.in_([cid for _, cid in window])))}
    return [(loaded[cid], km) for km, cid in window if cid in loaded], page


def origin_of(f: CentreFilters) -> tuple[float, float] | None:
    if f.lat is not None:
        return f.lat, f.lon
    if f.near:
        return city_position(f.near)
    return None


def city_position(label: str) -> tuple[float, float] | None:
    """"Villejuif (FR)" or "Villejuif" -> the mean position of the directory's centres there."""
    city, country = label, None
    if label.endswith(")") and " (" in label:
        city, country = label[:-1].rsplit(" (", 1)
    query = select(func.avg(Centre.lat), func.avg(Centre.lon)).where(
        Centre.city_key == matching.place_key(city), Centre.lat.is_not(None))
    if country:
        query = query.where(Centre.country == country.upper())
    lat, lon = db.session.execute(query).one()
    return (float(lat), float(lon)) if lat is not None else None


def known_cities() -> list[str]:
    """Cities the "near" box offers, as "City (CC)"."""
    rows = db.session.execute(select(Centre.city, Centre.country).where(Centre.lat.is_not(None))
                              .group_by(Centre.city, Centre.country).order_by(Centre.city)).all()
    seen, labels = set(), []
    for city, country in rows:
        label = f"{city} ({country})"
        if label not in seen:
            seen.add(label)
            labels.append(label)
    return labels


def country_counts(f: CentreFilters) -> list[tuple[str, int]]:
    """Centres per country under the other filters (so the facet shows where else to look)."""
    query = _filtered(select(Centre.country, func.count(Centre.id)), f, skip_country=True)
    rows = db.session.execute(query.group_by(Centre.country)).all()
    return sorted(((code, n) for code, n in rows if code), key=lambda row: (-row[1], NAMES.get(row[0], row[0])))


def trials_at(centre: Centre):
    """Trials with a site at this centre, open ones (recruiting, not yet, by invitation) first."""
    order = case({s: i for i, s in enumerate(OPEN_STATUSES)}, value=Trial.status, else_=len(OPEN_STATUSES))
    return db.session.scalars(select(Trial).where(Trial.id.in_(
        select(TrialSite.trial_id).where(TrialSite.centre_id == centre.id)))
        .order_by(order, Trial.last_update.desc(), Trial.nct_id)).all()


def members_showing(centre: Centre, viewer) -> list:
    """Members whose "centre" profile field names this centre and who let ``viewer`` see it:
    one query, with the access rule applied by the policy (never re-implemented here)."""
    names = {centre.name, *(centre.aliases or [])}
    names |= {n[4:] for n in names if n.lower().startswith("the ")}  # "The Netherlands Cancer Institute"
    names |= {f"{n}, {centre.city}" for n in list(names)}
    query = visible(select(ProfileField), viewer, ProfileField).where(
        ProfileField.key == "centre", func.lower(ProfileField.value).in_(sorted(n.lower() for n in names)))
    fields = db.session.scalars(query.options(joinedload(ProfileField.user))).all()
    return sorted({f.user for f in fields}, key=lambda u: (u.display_name.casefold(), u.id))


# --- corrections ---------------------------------------------------------------------------------

def current_values(centre: Centre) -> dict:
    return {"name": centre.name, "kind": centre.kind, "address": centre.address, "state": centre.state,
            "zip": centre.zip, "website": centre.website, "specialties": centre.specialties,
            "languages": centre.languages, "contact": centre.contact, "networks": centre.network_codes,
            "lat": centre.lat, "lon": centre.lon}


def changed_fields(centre: Centre, proposed: dict) -> dict:
    now = current_values(centre)
    changes = {}
    for name, value in proposed.items():
        value = sorted(set(value or [])) if name == "networks" else value
        if name in ("lat", "lon"):
            value = None if value is None else round(float(value), 6)
        if value != now[name] and not (value in ("", None) and now[name] in ("", None)):
            changes[name] = "" if value is None and name not in ("lat", "lon") else value
    return changes


def propose_correction(centre: Centre, user, changes: dict, message: str = "") -> CentreCorrection:
    correction = CentreCorrection(centre=centre, proposer=user, changes=changes, message=message or "")
    db.session.add(correction)
    db.session.commit()
    return correction


def pending_corrections(number: int, size: int = 50) -> tuple[list[CentreCorrection], Page]:
    """Oldest first, a page at a time, with the centre and proposer loaded alongside."""
    pending = CentreCorrection.state == "pending"
    page = Page(number, size, db.session.scalar(select(func.count(CentreCorrection.id)).where(pending)))
    rows = db.session.scalars(select(CentreCorrection).where(pending)
                              .options(joinedload(CentreCorrection.centre).selectinload(Centre.networks),
                                       joinedload(CentreCorrection.proposer))
                              .order_by(CentreCorrection.created_at, CentreCorrection.id)
                              .offset(page.offset).limit(size)).all()
    return rows, page


def approve_correction(correction: CentreCorrection, moderator) -> None:
    """Apply the proposed values; a renamed centre keeps its old name as an alias, so the next
    registry import still finds it."""
    centre = correction.centre
    changes = dict(correction.changes or {})
    if "name" in changes:
        new_key = matching.key(changes["name"])
        clash = db.session.scalar(select(Centre.id).where(
            Centre.name_key == new_key, Centre.city_key == centre.city_key, Centre.country == centre.country,
            Centre.id != centre.id))
        if clash:
            raise CorrectionConflict("Another centre in this city already has that name.")
    correction.previous = {name: value for name, value in current_values(centre).items() if name in changes}
    for name, value in changes.items():
        if name == "networks":
            centre.networks = [CentreNetwork(network=code) for code in sorted(set(value)) if code in NETWORKS]
        elif name == "name":
            if centre.name not in (centre.aliases or []):
                centre.aliases = sorted({*(centre.aliases or []), centre.name} - {value})
            centre.name, centre.name_key = value, matching.key(value)
        elif name in ("lat", "lon"):
            setattr(centre, name, None if value is None else float(value))
        elif name in current_values(centre):
            setattr(centre, name, value or "")
    _decide(correction, moderator, "approved", "")


def reject_correction(correction: CentreCorrection, moderator, reason: str) -> None:
    _decide(correction, moderator, "rejected", reason)


def _decide(correction: CentreCorrection, moderator, state: str, reason: str) -> None:
    correction.state, correction.reason = state, reason or ""
    correction.decided_by, correction.decided_at = moderator, utcnow()
    db.session.commit()


def corrections_for(centre: Centre, viewer) -> list[CentreCorrection]:
    """The proposals on this centre that ``viewer`` may see (their own; staff: all)."""
    if not getattr(viewer, "is_authenticated", False):
        return []
    query = visible(select(CentreCorrection), viewer, CentreCorrection).where(CentreCorrection.centre_id == centre.id)
    return db.session.scalars(query.options(joinedload(CentreCorrection.proposer))
                              .order_by(CentreCorrection.created_at.desc(), CentreCorrection.id.desc())).all()

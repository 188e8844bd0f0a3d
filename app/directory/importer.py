"""Import the trial-sites CSV as the first centre directory.

Idempotent: a centre is found again by its natural key (normalised name, city, country) under its
kept name *or any alias*, so the second run adds nothing; fields a moderator corrected are never
overwritten (the import only fills blanks). Rows that are not centres (sponsor-anonymised sites,
sites named after an investigator) stay trial sites only: TrialSite rows with ``centre_id`` NULL.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from app.directory import matching
from app.directory.countries import code_for, name_for
from app.directory.models import Centre
from app.extensions import db
from app.trials.models import Trial, TrialSite

COLUMNS = ("facility", "city", "state", "zip", "country", "in_europe", "lat", "lon", "trial_count", "nct_ids")
RESERVED_SLUGS = {"corrections", "new", "near", "api"}
_RESEARCH = re.compile(r"\b(research|studiengesellschaft|laborator)", re.IGNORECASE)
_CARE = re.compile(r"hosp|h[oô]pital|ospedal|klinik|clinic|cl[ií]nica|ziekenhuis|hastane|medical cent|chu\b|spital", re.IGNORECASE)


@dataclass
class SiteRow:
    line: int
    facility: str
    city: str
    state: str
    zip: str
    country: str
    lat: float | None
    lon: float | None
    trial_count: int
    nct_ids: list[str]

    @property
    def place(self) -> tuple[str, str]:
        return matching.place_key(self.city), self.country


@dataclass
class SitesReport:
    rows: int = 0
    anonymised: int = 0
    centres: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    linked_sites: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    persons: list[tuple[str, str, str]] = field(default_factory=list)  # (facility, city, nct ids)
    merges: list[tuple[str, str, str]] = field(default_factory=list)  # (kept, merged, rule)
    trials_known: bool = True

    def lines(self) -> list[str]:
        out = [f"Sites: {self.rows} rows read; {self.anonymised} sponsor-anonymised and "
               f"{len(self.persons)} named after an investigator kept as trial sites only; "
               f"{len(self.rejected)} rejected.",
               f"Centres: {self.centres} from this file after {len(self.merges)} merges "
               f"({self.added} added, {self.updated} updated, {self.unchanged} unchanged).",
               f"Trial sites newly linked to centres: {self.linked_sites}."]
        if not self.trials_known:
            out.append("Note: no trials imported yet, so sites named after investigators could not be "
                       "recognised; import trials first.")
        if self.merges:
            out.append("Merged names (kept <- merged: rule):")
            out += [f"  {kept} <- {merged}: {rule}" for kept, merged, rule in self.merges]
        if self.persons:
            out.append("Not centres (the registry lists these names as investigators):")
            out += [f"  {facility} ({city}) in {ncts}" for facility, city, ncts in self.persons]
        if self.rejected:
            out.append("Rejected rows:")
            out += [f"  line {line}: {reason}" for line, reason in self.rejected]
        return out


def import_sites(source, *, progress: bool = False) -> SitesReport:
    """``source``: a path, or the CSV text itself."""
    report = SitesReport()
    rows = _read_rows(_text_of(source), report)
    persons = _investigators({nct for row in rows for nct in row.nct_ids}, report)
    candidates = []
    for row in rows:
        if matching.is_anonymised(row.facility):
            report.anonymised += 1
        elif any(matching.person_key(row.facility) in persons.get(nct, ()) for nct in row.nct_ids):
            report.persons.append((row.facility, row.city, " ".join(row.nct_ids)))
        else:
            candidates.append(row)

    by_place: dict[tuple[str, str], list[SiteRow]] = defaultdict(list)
    for row in candidates:
        by_place[row.place].append(row)
    index = centre_index(load=True)
    slugs = set(db.session.scalars(select(Centre.slug)))
    for place in sorted(by_place):
        for cluster in _clusters(by_place[place], report):
            _upsert(cluster, index, slugs, report)
    db.session.commit()
    report.linked_sites = link_trial_sites()
    db.session.commit()
    return report


def _text_of(source) -> str:
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.endswith(".csv")):
        return Path(source).read_text(encoding="utf-8-sig")
    return source.decode("utf-8-sig") if isinstance(source, bytes) else source


def _read_rows(text: str, report: SitesReport) -> list[SiteRow]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        report.rejected.append((1, "missing columns: " + ", ".join(missing)))
        return []
    rows = []
    for raw in reader:
        report.rows += 1
        line = reader.line_num
        try:
            rows.append(_parse_row(line, raw))
        except ValueError as exc:
            report.rejected.append((line, str(exc)))
    return rows


def _clean(value) -> str:
    text = unicodedata.normalize("NFC", str(value or ""))
    return " ".join("".join(ch for ch in text if ch.isprintable() or ch == " ").split())


def _parse_row(line: int, raw: dict) -> SiteRow:
    facility, city, country = _clean(raw.get("facility")), _clean(raw.get("city")), _clean(raw.get("country"))
    if not facility:
        raise ValueError("facility is empty")
    if not city:
        raise ValueError("city is empty")
    code = code_for(country)
    if code is None:
        raise ValueError(f"unknown country {country!r} (add it to app/directory/countries.py)")
    lat, lon = _coordinate(raw.get("lat"), "lat", 90), _coordinate(raw.get("lon"), "lon", 180)
    if (lat is None) != (lon is None):
        raise ValueError("lat and lon must both be given or both be empty")
    try:
        trial_count = int(raw.get("trial_count") or 0)
    except ValueError:
        raise ValueError(f"trial_count is not a whole number: {raw.get('trial_count')!r}") from None
    ncts = [n for n in re.split(r"[\s;,|]+", raw.get("nct_ids") or "") if n]
    bad = [n for n in ncts if not re.fullmatch(r"NCT\d{8}", n)]
    if bad:
        raise ValueError(f"not NCT ids: {', '.join(bad[:3])}")
    return SiteRow(line, facility[:500], city[:200], _clean(raw.get("state"))[:200], _clean(raw.get("zip"))[:40],
                   code, lat, lon, trial_count, ncts)


def _coordinate(value, name: str, limit: int) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} is not a number: {text!r}") from None
    if not -limit <= number <= limit or number != number:
        raise ValueError(f"{name} is out of range: {text}")
    return number


def _investigators(nct_ids: set[str], report: SitesReport) -> dict[str, set[str]]:
    """Names the registry lists as people for each trial (officials and contacts), as keys.

    Used only to keep investigator-named sites out of the directory; never stored or shown."""
    if not nct_ids:
        return {}
    people: dict[str, set[str]] = defaultdict(set)
    found = db.session.execute(select(Trial.id, Trial.nct_id, Trial.central_contacts, Trial.overall_officials)
                               .where(Trial.nct_id.in_(sorted(nct_ids)))).all()
    report.trials_known = bool(found)
    ids = {trial_id: nct for trial_id, nct, *_ in found}
    for _, nct, contacts, officials in found:
        for person in list(contacts or []) + list(officials or []):
            if isinstance(person, dict) and person.get("name"):
                people[nct].add(matching.person_key(person["name"]))
    if ids:
        for trial_id, contacts in db.session.execute(
                select(TrialSite.trial_id, TrialSite.contacts).where(TrialSite.trial_id.in_(list(ids)))):
            for person in contacts or []:
                if isinstance(person, dict) and person.get("name"):
                    people[ids[trial_id]].add(matching.person_key(person["name"]))
    return people


@dataclass
class Cluster:
    kept: SiteRow
    members: list[SiteRow]


def _clusters(rows: list[SiteRow], report: SitesReport) -> list[Cluster]:
    """Group one city's rows into centres (union of pairwise matches); record why each merged."""
    rows = sorted(rows, key=lambda r: r.facility)
    city, country = rows[0].city, rows[0].country
    place_words = set(matching.tokens(city)) | set(matching.tokens(name_for(country)))
    for row in rows:
        place_words |= set(matching.tokens(row.state))
    parent = list(range(len(rows)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    edges: dict[int, list[tuple[int, matching.Match]]] = defaultdict(list)
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            match = matching.same_centre(rows[i].facility, rows[j].facility, place_words)
            if match:
                edges[i].append((j, match))
                edges[j].append((i, match))
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups[find(i)].append(i)
    clusters = []
    for members in groups.values():
        kept = min(members, key=lambda i: matching.display_quality(rows[i].facility, rows[i].trial_count))
        seen, queue = {kept}, [kept]
        while queue:  # breadth-first from the kept name, so each merge names its nearest reason
            current = queue.pop(0)
            for other, match in sorted(edges[current], key=lambda e: e[0]):
                if other not in seen:
                    seen.add(other)
                    queue.append(other)
                    via = "" if current == kept else f" (via {rows[current].facility!r})"
                    report.merges.append((f"{rows[kept].facility} [{city}, {country}]", rows[other].facility,
                                          f"{match.rule}: {match.detail}{via}"))
        clusters.append(Cluster(rows[kept], [rows[i] for i in sorted(members)]))
    return clusters


def centre_index(load: bool = False) -> dict:
    """(name_key, city_key, country) -> Centre (``load``) or centre id, for names and aliases."""
    if load:
        centres = db.session.scalars(select(Centre)).all()
        rows = [(c, c.name, c.aliases, c.city_key, c.country) for c in centres]
    else:
        rows = [(cid, name, aliases, city_key, country) for cid, name, aliases, city_key, country in
                db.session.execute(select(Centre.id, Centre.name, Centre.aliases, Centre.city_key, Centre.country))]
    index = {}
    for value, name, aliases, city_key, country in rows:
        for each in [name, *(aliases or [])]:
            index.setdefault((matching.key(each), city_key, country), value)
    return index


def site_key(facility: str, city: str, country_code: str | None) -> tuple[str, str, str | None]:
    return matching.key(facility), matching.place_key(city), country_code


def _upsert(cluster: Cluster, index: dict, slugs: set[str], report: SitesReport) -> None:
    kept, members = cluster.kept, cluster.members
    place = matching.place_key(kept.city)
    centre = next((index[k] for k in ((matching.key(m.facility), place, kept.country) for m in members)
                   if k in index), None)
    trial_count = len({nct for m in members for nct in m.nct_ids}) or sum(m.trial_count for m in members)
    names = {m.facility for m in members}
    report.centres += 1
    if centre is None:
        centre = Centre(name=kept.facility, name_key=matching.key(kept.facility), city=kept.city, city_key=place,
                        country=kept.country, kind=_guess_kind(kept.facility), source="sites_csv",
                        slug=_unique_slug(kept.facility, kept.city, slugs), aliases=[])
        db.session.add(centre)
        report.added += 1
    else:
        report.unchanged += 1
    before = _snapshot(centre)
    aliases = sorted((set(centre.aliases or []) | names) - {centre.name})
    if aliases != list(centre.aliases or []):
        centre.aliases = aliases
    first = [kept] + [m for m in members if m is not kept]
    centre.state = centre.state or next((m.state for m in first if m.state), "")
    centre.zip = centre.zip or next((m.zip for m in first if m.zip), "")
    if centre.lat is None or centre.lon is None:
        point = next((m for m in first if m.lat is not None), None)
        if point:
            centre.lat, centre.lon = point.lat, point.lon
    if centre.trial_count != trial_count:
        centre.trial_count = trial_count
    if before is not None and _snapshot(centre) != before:
        report.unchanged -= 1
        report.updated += 1
    for name in [centre.name, *centre.aliases]:
        index.setdefault((matching.key(name), place, kept.country), centre)


def _snapshot(centre: Centre):
    if centre.id is None:
        return None
    return (tuple(centre.aliases or []), centre.state, centre.zip, centre.lat, centre.lon, centre.trial_count)


def _guess_kind(name: str) -> str:
    """Registries do not say what a site is; only "research" without any care word is telling.
    Designations such as "comprehensive cancer centre" are never guessed."""
    return "research_institute" if _RESEARCH.search(name) and not _CARE.search(name) else "hospital"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _unique_slug(name: str, city: str, taken: set[str]) -> str:
    base = slugify(name)[:80].strip("-") or "centre"
    city_slug = slugify(city)[:30]
    if city_slug and not base.endswith(city_slug):
        base = f"{base}-{city_slug}"
    slug, n = base, 2
    while slug in taken or slug in RESERVED_SLUGS:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def link_trial_sites() -> int:
    """Point unlinked trial sites at the directory centre with the same key; returns how many."""
    index = centre_index()
    if not index:
        return 0
    pending = db.session.execute(select(TrialSite.id, TrialSite.facility, TrialSite.city, TrialSite.country_code)
                                 .where(TrialSite.centre_id.is_(None))).all()
    by_centre: dict[int, list[int]] = defaultdict(list)
    for site_id, facility, city, code in pending:
        if matching.is_anonymised(facility):
            continue
        centre_id = index.get(site_key(facility, city, code))
        if centre_id:
            by_centre[centre_id].append(site_id)
    for centre_id, site_ids in by_centre.items():
        db.session.execute(update(TrialSite).where(TrialSite.id.in_(site_ids)).values(centre_id=centre_id))
    return sum(len(ids) for ids in by_centre.values())

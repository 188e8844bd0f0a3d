"""Import ClinicalTrials.gov API v2 JSON: an array of studies, or ``{"studies": [...]}``.

Every record is checked before it touches the database, so a malformed record (not an object,
missing or bad nctId, wrong types, NUL characters, over-long codes) is rejected alone, with its
reason, and the rest are imported. Upsert by NCT id; a record whose content hash is unchanged is
left alone, so a second run of the same file adds 0 and updates 0.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from tqdm import tqdm

from app.directory import matching
from app.directory.countries import code_for
from app.directory.importer import centre_index, site_key
from app.extensions import db
from app.trials.models import Trial, TrialSite

NCT_RE = re.compile(r"^NCT\d{8}$")
CODE_RE = re.compile(r"^[A-Z0-9_]{1,40}$")
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
BATCH = 25


class ImportFailure(ValueError):
    """The file as a whole cannot be read (not JSON, wrong top-level shape)."""


class RecordError(ValueError):
    """One record is malformed; the message says where and why."""


@dataclass
class TrialsReport:
    read: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (position, nct id or "?", reason)
    sites: int = 0
    sites_linked: int = 0

    def lines(self) -> list[str]:
        out = [f"Trials: {self.read} records read; {len(self.added)} added, {len(self.updated)} updated, "
               f"{self.unchanged} unchanged, {len(self.rejected)} rejected.",
               f"Trial sites written this run: {self.sites} ({self.sites_linked} linked to directory centres)."]
        if self.rejected:
            out.append("Rejected records:")
            out += [f"  #{pos} {nct}: {reason}" for pos, nct, reason in self.rejected]
        return out


def load_studies(source) -> list:
    """``source``: a path, JSON text/bytes, or already-parsed data."""
    data = source
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith(("[", "{"))):
        data = Path(source).read_bytes()
    if isinstance(data, (bytes, str)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ImportFailure(f"not valid JSON: {exc}") from None
    if isinstance(data, dict) and "studies" in data:
        data = data["studies"]
    if not isinstance(data, list):
        raise ImportFailure("expected a JSON array of studies or an object with a \"studies\" array")
    return data


def import_trials(source, *, progress: bool = False) -> TrialsReport:
    studies = load_studies(source)
    report = TrialsReport(read=len(studies))
    existing = {nct: (tid, digest) for tid, nct, digest in db.session.execute(
        select(Trial.id, Trial.nct_id, Trial.source_hash))}
    centres = centre_index()
    seen: set[str] = set()
    pending = 0
    for position, record in enumerate(tqdm(studies, file=sys.stderr, disable=not progress, unit="study",
                                           desc="Importing trials"), start=1):
        nct = _peek_nct(record)
        try:
            fields, sites = parse_study(record)
            if fields["nct_id"] in seen:
                raise RecordError("duplicate of an earlier record in this file")
        except RecordError as exc:
            report.rejected.append((position, nct, str(exc)))
            continue
        nct = fields["nct_id"]
        seen.add(nct)
        digest = hashlib.sha256(json.dumps(record, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        if nct in existing and existing[nct][1] == digest:
            report.unchanged += 1
            continue
        trial = db.session.get(Trial, existing[nct][0]) if nct in existing else None
        if trial is None:
            trial = Trial(nct_id=nct)
            db.session.add(trial)
            report.added.append(nct)
        else:
            report.updated.append(nct)
            trial.sites.clear()
        for name, value in fields.items():
            setattr(trial, name, value)
        trial.raw = record
        trial.source_hash = digest
        people = {matching.person_key(p["name"]) for p in _people(fields, sites) if p.get("name")}
        for site in sites:
            site["centre_id"] = _centre_for(site, centres, people)
            trial.sites.append(TrialSite(**site))
            report.sites += 1
            report.sites_linked += site["centre_id"] is not None
        pending += 1
        if pending >= BATCH:
            db.session.commit()
            pending = 0
    db.session.commit()
    return report


def _people(fields: dict, sites: list[dict]) -> list[dict]:
    people = list(fields["central_contacts"]) + list(fields["overall_officials"])
    for site in sites:
        people += site["contacts"]
    return [p for p in people if isinstance(p, dict)]


def _centre_for(site: dict, centres: dict, people: set[str]) -> int | None:
    if matching.is_anonymised(site["facility"]) or matching.person_key(site["facility"]) in people:
        return None
    return centres.get(site_key(site["facility"], site["city"], site["country_code"]))


def _peek_nct(record) -> str:
    try:
        value = record["protocolSection"]["identificationModule"]["nctId"]
        return value if isinstance(value, str) and len(value) < 40 else "?"
    except (TypeError, KeyError):
        return "?"


# --- one record ---------------------------------------------------------------------------------

_MISSING = object()


def _get(obj, path: str, kind, default=_MISSING):
    """Walk a dotted path; a missing value gives ``default``, a wrong type raises RecordError."""
    current = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            raise RecordError(f"{path}: expected an object at {part!r}")
        if part not in current or current[part] is None:
            if default is _MISSING:
                raise RecordError(f"{path} is missing")
            return default
        current = current[part]
    checks = {
        "str": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "dict": lambda v: isinstance(v, dict),
        "list[str]": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        "list[dict]": lambda v: isinstance(v, list) and all(isinstance(i, dict) for i in v),
    }
    if not checks[kind](current):
        raise RecordError(f"{path}: expected {kind.replace('dict', 'object').replace('str', 'string')}, "
                          f"got {type(current).__name__}")
    return current


def _text(obj, path: str, limit: int | None = None, required: bool = False) -> str:
    value = _get(obj, path, "str") if required else _get(obj, path, "str", "")
    if limit and len(value) > limit:
        raise RecordError(f"{path}: longer than {limit} characters")
    return value


def _code(obj, path: str) -> str:
    value = _get(obj, path, "str", "")
    if value and not CODE_RE.match(value):
        raise RecordError(f"{path}: not a registry code: {value[:40]!r}")
    return value


def _date(obj, path: str) -> str:
    value = _get(obj, path, "str", "")
    if value and not DATE_RE.match(value):
        raise RecordError(f"{path}: not a date: {value[:40]!r}")
    return value


def _no_nul(value, path: str = "record") -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise RecordError(f"{path}: contains a NUL character")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k, path)
            _no_nul(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_nul(v, f"{path}[{i}]")


def parse_study(record) -> tuple[dict, list[dict]]:
    """Map one API v2 study to Trial columns and TrialSite rows, or raise RecordError."""
    if not isinstance(record, dict):
        raise RecordError(f"record is not an object (got {type(record).__name__})")
    p = _get(record, "protocolSection", "dict")
    nct = _get(p, "identificationModule.nctId", "str")
    if not NCT_RE.match(nct):
        raise RecordError(f"identificationModule.nctId is not an NCT id: {nct[:40]!r}")
    _no_nul(record)
    title = _text(p, "identificationModule.briefTitle", required=True).strip()
    if not title:
        raise RecordError("identificationModule.briefTitle is empty")
    phases = _get(p, "designModule.phases", "list[str]", [])
    for phase in phases:
        if not CODE_RE.match(phase):
            raise RecordError(f"designModule.phases: not a phase code: {phase[:40]!r}")
    std_ages = _get(p, "eligibilityModule.stdAges", "list[str]", [])
    enrollment = _get(p, "designModule.enrollmentInfo.count", "int", None)
    if enrollment is not None and not 0 <= enrollment < 2 ** 31:
        raise RecordError("designModule.enrollmentInfo.count: out of range")
    interventions = [{"name": _text(i, "name", 500), "type": _code(i, "type")}
                     for i in _get(p, "armsInterventionsModule.interventions", "list[dict]", [])]
    collaborators = [{"name": _text(c, "name", 500), "class": _code(c, "class")}
                     for c in _get(p, "sponsorCollaboratorsModule.collaborators", "list[dict]", [])]
    conditions = _get(p, "conditionsModule.conditions", "list[str]", [])
    last_update = _date(p, "statusModule.lastUpdatePostDateStruct.date")
    fields = dict(
        nct_id=nct, brief_title=title,
        official_title=_text(p, "identificationModule.officialTitle"),
        acronym=_text(p, "identificationModule.acronym", 200),
        status=_code(p, "statusModule.overallStatus") or "UNKNOWN",
        phases="|".join(phases), study_type=_code(p, "designModule.studyType"),
        conditions=conditions, conditions_text="; ".join(conditions),
        keywords=_get(p, "conditionsModule.keywords", "list[str]", []),
        interventions=interventions,
        brief_summary=_text(p, "descriptionModule.briefSummary"),
        eligibility_criteria=_text(p, "eligibilityModule.eligibilityCriteria"),
        min_age=_text(p, "eligibilityModule.minimumAge", 40), max_age=_text(p, "eligibilityModule.maximumAge", 40),
        sex=_code(p, "eligibilityModule.sex")[:10],
        healthy_volunteers=_get(p, "eligibilityModule.healthyVolunteers", "bool", None),
        std_ages="|".join(a for a in std_ages if CODE_RE.match(a))[:60],
        enrollment=enrollment, enrollment_type=_code(p, "designModule.enrollmentInfo.type")[:20],
        sponsor=_text(p, "sponsorCollaboratorsModule.leadSponsor.name"),
        sponsor_class=_code(p, "sponsorCollaboratorsModule.leadSponsor.class")[:20],
        collaborators=collaborators,
        start_date=_date(p, "statusModule.startDateStruct.date"),
        primary_completion_date=_date(p, "statusModule.primaryCompletionDateStruct.date"),
        completion_date=_date(p, "statusModule.completionDateStruct.date"),
        last_update=_as_date(last_update),
        has_results=_get(record, "hasResults", "bool", False),
        # NEVER index these two (people's names and contacts, shown as the registry does).
        central_contacts=_get(p, "contactsLocationsModule.centralContacts", "list[dict]", []),
        overall_officials=_get(p, "contactsLocationsModule.overallOfficials", "list[dict]", []),
    )
    if len(fields["phases"]) > 100:
        raise RecordError("designModule.phases: too many phases")
    sites = [_site(loc, n) for n, loc in
             enumerate(_get(p, "contactsLocationsModule.locations", "list[dict]", []))]
    return fields, sites


def _site(loc: dict, position: int) -> dict:
    where = f"contactsLocationsModule.locations[{position}]"
    try:
        lat = _number(loc, "lat", 90)
        lon = _number(loc, "lon", 180)
        return dict(
            position=position, facility=_text(loc, "facility", 1000), city=_text(loc, "city", 200),
            state=_text(loc, "state", 200), zip=_text(loc, "zip", 40), country=_text(loc, "country", 120),
            country_code=code_for(_text(loc, "country", 120)), lat=lat, lon=lon,
            status=_code(loc, "status"),
            contacts=_get(loc, "contacts", "list[dict]", []),  # NEVER index (investigators)
        )
    except RecordError as exc:
        raise RecordError(f"{where}.{exc}") from None


def _number(loc: dict, name: str, limit: int) -> float | None:
    point = _get(loc, "geoPoint", "dict", None)
    if point is None or point.get(name) is None:
        return None
    value = point[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -limit <= value <= limit:
        raise RecordError(f"geoPoint.{name}: not a coordinate")
    return float(value)


def _as_date(text: str) -> date | None:
    if not text:
        return None
    parts = [int(x) for x in text.split("-")] + [1, 1]
    try:
        return date(parts[0], parts[1], parts[2])
    except ValueError:
        raise RecordError(f"statusModule.lastUpdatePostDateStruct.date: not a date: {text!r}") from None

"""Trial pages and JSON: browse, one trial (patient view first, full record for professionals),
the discussion button, and /api/trials."""
from __future__ import annotations

import re

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from app.core.auth import login_required
from app.directory.params import page_args
from app.trials import bp, eligibility
from app.trials.discussion import DiscussionUnavailable, link_text, live_topic, open_discussion, topic_url
from app.trials.models import AGE_GROUP_LABELS, PHASE_LABELS, SEX_LABELS, STATUS_LABELS, Trial
from app.trials.services import NO_PHASE, TrialFilters, browse, load_trial, site_countries, sites_in_order

NCT_PATH = re.compile(r"^NCT\d{8}$", re.IGNORECASE)
_ACRONYMS = {"nct": "NCT", "id": "ID", "ids": "IDs", "ipd": "IPD", "fda": "FDA", "dmc": "DMC", "url": "URL",
             "pmid": "PMID", "mesh": "MeSH", "meshes": "MeSH terms", "na": "N/A", "us": "US"}
_SUFFIXES = ("Module", "Section", "Struct", "Info")


@bp.app_template_filter("registry_label")
def registry_label(key) -> str:
    """"identificationModule" -> "Identification", "PRINCIPAL_INVESTIGATOR" -> "Principal investigator"."""
    text = str(key)
    if text.isupper() or "_" in text:
        words = text.lower().split("_")
    else:
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and text != suffix:
                text = text[: -len(suffix)]
                break
        words = [w.lower() for w in re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", text)] or [text]
    words = [_ACRONYMS.get(w, w) for w in words]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


@bp.app_template_filter("registry_text")
def registry_text(value) -> str:
    return eligibility.unescape(str(value))


@bp.app_template_filter("registry_age")
def registry_age(code) -> str:
    return AGE_GROUP_LABELS.get(code, str(code))


@bp.get("/trials")
def index():
    filters = TrialFilters.from_request()
    number, size = page_args(default_size=25)
    trials, page = browse(filters, number, size)
    return render_template("trials/index.html", trials=trials, page=page, filters=filters,
                           countries=site_countries(), statuses=STATUS_LABELS,
                           phases={**PHASE_LABELS, NO_PHASE: "No phase given"})


def _trial_or_404(nct_id: str) -> Trial:
    if not NCT_PATH.match(nct_id or ""):
        abort(404)
    trial = load_trial(nct_id)
    if trial is None:
        abort(404)
    return trial


@bp.get("/trials/<nct_id>")
def show(nct_id: str):
    trial = _trial_or_404(nct_id)
    if nct_id != trial.nct_id:
        return redirect(url_for("trials.show", nct_id=trial.nct_id), 301)
    topic = live_topic(trial)
    return render_template(
        "trials/show.html", trial=trial, criteria=eligibility.parse(trial.eligibility_criteria),
        sites=sites_in_order(trial), topic=topic, topic_link=topic_url(topic, "") if topic else "",
        sex_labels=SEX_LABELS, summary=eligibility.unescape(trial.brief_summary), record=trial.raw)


@bp.post("/trials/<nct_id>/discuss")
@login_required
def discuss(nct_id: str):
    trial = _trial_or_404(nct_id)
    page = url_for("trials.show", nct_id=trial.nct_id)
    try:
        topic = open_discussion(
            trial, current_user, category_slug="clinical-trials", category_name="Clinical trials",
            category_description="One thread per clinical trial: questions and experiences.",
            title=f"{trial.nct_id}: {trial.brief_title}",
            body=f"Discussion of the clinical trial [{link_text(trial.brief_title)}]({page}) ({trial.nct_id}).\n\n"
                 f"Source: ClinicalTrials.gov, {trial.registry_url}")
    except DiscussionUnavailable as exc:
        flash(str(exc) or "Discussions are not available yet.", "warning")
        return redirect(page)
    return redirect(topic_url(topic, page))


# --- JSON ----------------------------------------------------------------------------------------

def trial_summary(trial: Trial) -> dict:
    """List fields: no people, no contacts, ever."""
    return {"nct_id": trial.nct_id, "title": trial.brief_title, "status": trial.status,
            "status_label": trial.status_label, "phases": [p for p in trial.phases.split("|") if p],
            "phase_label": trial.phase_label, "conditions": trial.conditions,
            "last_update": trial.last_update.isoformat() if trial.last_update else None,
            "url": url_for("trials.show", nct_id=trial.nct_id, _external=True)}


@bp.get("/api/trials")
def api_index():
    filters = TrialFilters.from_request()
    number, size = page_args(default_size=25)
    trials, page = browse(filters, number, size)
    return jsonify(total=page.total, page=page.number, per_page=page.size,
                   results=[trial_summary(t) for t in trials])


@bp.get("/api/trials/<nct_id>")
def api_show(nct_id: str):
    trial = _trial_or_404(nct_id)
    data = trial_summary(trial)
    data.update(
        official_title=trial.official_title, acronym=trial.acronym, study_type=trial.study_type,
        interventions=trial.interventions, sponsor=trial.sponsor, collaborators=trial.collaborators,
        sex=trial.sex, min_age=trial.min_age, max_age=trial.max_age, std_ages=[a for a in trial.std_ages.split("|") if a],
        healthy_volunteers=trial.healthy_volunteers, enrollment=trial.enrollment,
        start_date=trial.start_date, primary_completion_date=trial.primary_completion_date,
        completion_date=trial.completion_date, has_results=trial.has_results,
        registry_url=trial.registry_url, source="ClinicalTrials.gov",
        # As the registry shows them; never in list endpoints or any index.
        central_contacts=trial.central_contacts, overall_officials=trial.overall_officials,
        locations=[{"facility": s.facility, "city": s.city, "state": s.state, "zip": s.zip, "country": s.country,
                    "country_code": s.country_code, "status": s.status, "lat": s.lat, "lon": s.lon,
                    "contacts": s.contacts,
                    "centre": url_for("directory.api_show", slug=s.centre.slug, _external=True) if s.centre else None}
                   for s in sites_in_order(trial)],
    )
    return jsonify(data)

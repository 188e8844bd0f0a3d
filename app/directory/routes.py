"""Centre pages: browse and near me, one centre (map, trials, members), corrections workflow."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.agenda.services import upcoming_at_centre
from app.core.auth import login_required
from app.directory import bp, mapsvg, services
from app.directory.countries import choices, name_for
from app.directory.forms import CentreCorrectionForm, DecisionForm
from app.directory.models import CENTRE_KINDS, NETWORKS, Centre, CentreCorrection
from app.directory.params import page_args
from app.extensions import db


@bp.get("/centres")
def index():
    filters = services.CentreFilters.from_request()
    number, size = page_args(default_size=25)
    rows, page = services.browse(filters, number, size)
    origin = services.origin_of(filters)
    return render_template(
        "directory/index.html", rows=rows, page=page, filters=filters, origin=origin,
        near_unknown=bool(filters.near and filters.lat is None and origin is None),
        counts=services.country_counts(filters), cities=services.known_cities(),
        countries=choices(), kinds=CENTRE_KINDS, networks=NETWORKS, name_for=name_for)


def _centre_or_404(slug: str) -> Centre:
    centre = db.session.scalar(select(Centre).where(Centre.slug == slug))
    if centre is None:
        abort(404)
    return centre


def _render_centre(centre: Centre, form: CentreCorrectionForm | None = None, status: int = 200):
    can_propose = policy.can_propose_correction(current_user)
    if can_propose and form is None:
        form = CentreCorrectionForm()
        form.fill_from(centre)
    return render_template(
        "directory/show.html", centre=centre, map=mapsvg.map_for(centre.lat, centre.lon),
        events=upcoming_at_centre(centre.id, current_user),
        can_add_event=policy.can_create_event(current_user), can_review=policy.is_staff(current_user),
        coordinates=mapsvg.format_coordinates(centre.lat, centre.lon) if centre.has_point else "",
        trials=services.trials_at(centre), members=services.members_showing(centre, current_user),
        corrections=services.corrections_for(centre, current_user), form=form if can_propose else None,
        country_name=name_for(centre.country), networks=NETWORKS), status


@bp.get("/centres/<slug>")
def show(slug: str):
    return _render_centre(_centre_or_404(slug))


@bp.post("/centres/<slug>/corrections")
@login_required
def propose(slug: str):
    centre = _centre_or_404(slug)
    if not policy.can_propose_correction(current_user):
        abort(403)
    form = CentreCorrectionForm()
    if not form.validate_on_submit():
        return _render_centre(centre, form, 400)
    changes = services.changed_fields(centre, form.proposed())
    if not changes:
        form.name.errors.append("Nothing was changed: edit at least one field before sending.")
        return _render_centre(centre, form, 400)
    services.propose_correction(centre, current_user, changes, form.message.data)
    flash("Thank you: a moderator will review your correction.", "success")
    return redirect(url_for("directory.show", slug=centre.slug) + "#corrections")


def _require_moderator() -> None:
    if not policy.is_staff(current_user):
        abort(403)


@bp.get("/centres/corrections")
@login_required
def corrections():
    _require_moderator()
    number, _ = page_args()
    rows, page = services.pending_corrections(number)
    return render_template("directory/corrections.html", corrections=rows, page=page, form=DecisionForm())


def _pending_or_404(correction_id: int) -> CentreCorrection:
    correction = db.session.get(CentreCorrection, correction_id)
    if correction is None:
        abort(404)
    return correction


@bp.post("/centres/corrections/<int:correction_id>/approve")
@login_required
def approve(correction_id: int):
    _require_moderator()
    correction = _pending_or_404(correction_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    if correction.state != "pending":
        flash("This correction was already decided.", "warning")
    else:
        try:
            services.approve_correction(correction, current_user)
            flash(f"Applied to {correction.centre.name}.", "success")
        except services.CorrectionConflict as exc:
            db.session.rollback()
            flash(str(exc), "error")
    return redirect(url_for("directory.corrections"))


@bp.post("/centres/corrections/<int:correction_id>/reject")
@login_required
def reject(correction_id: int):
    _require_moderator()
    correction = _pending_or_404(correction_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("; ".join(form.reason.errors) or "The form expired; please try again.", "error")
    elif correction.state != "pending":
        flash("This correction was already decided.", "warning")
    else:
        services.reject_correction(correction, current_user, form.reason.data)
        flash("Correction rejected.", "success")
    return redirect(url_for("directory.corrections"))

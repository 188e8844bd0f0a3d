"""Guideline pages and JSON: browse, one guideline with its discussion, add (clinicians)."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user

from app import policy
from app.core.auth import login_required
from app.directory.params import page_args
from app.extensions import db
from app.guidelines import bp, services
from app.guidelines.forms import GuidelineForm
from app.guidelines.models import Guideline
from app.trials.discussion import DiscussionUnavailable, link_text, live_topic, open_discussion, topic_url


@bp.get("/guidelines")
def index():
    filters = services.GuidelineFilters.from_request()
    number, size = page_args(default_size=50)
    guidelines, page = services.browse(filters, number, size)
    return render_template("guidelines/index.html", guidelines=guidelines, page=page, filters=filters,
                           publishers=services.publishers(), years=services.years(),
                           can_add=policy.can_add_guideline(current_user))


def _guideline_or_404(guideline_id: int) -> Guideline:
    guideline = db.session.get(Guideline, guideline_id)
    if guideline is None:
        abort(404)
    return guideline


@bp.get("/guidelines/<int:guideline_id>")
def show(guideline_id: int):
    guideline = _guideline_or_404(guideline_id)
    topic = live_topic(guideline)
    return render_template("guidelines/show.html", guideline=guideline, topic=topic,
                           topic_link=topic_url(topic, "") if topic else "")


@bp.route("/guidelines/new", methods=["GET", "POST"])
@login_required
def new():
    if not policy.can_add_guideline(current_user):
        abort(403)
    form = GuidelineForm()
    if form.validate_on_submit():
        guideline = services.add_guideline(
            current_user, publisher=form.publisher.data, title=form.title.data, tumour_type=form.tumour_type.data,
            version=form.version.data, year=form.year.data, language=form.language.data, url=form.url.data)
        flash("Guideline added.", "success")
        return redirect(url_for("guidelines.show", guideline_id=guideline.id))
    return render_template("guidelines/new.html", form=form), 400 if form.is_submitted() else 200


@bp.post("/guidelines/<int:guideline_id>/discuss")
@login_required
def discuss(guideline_id: int):
    guideline = _guideline_or_404(guideline_id)
    page = url_for("guidelines.show", guideline_id=guideline.id)
    try:
        topic = open_discussion(
            guideline, current_user, category_slug="guidelines", category_name="Guidelines",
            category_description="One thread per clinical practice guideline.",
            title=f"{guideline.publisher}: {guideline.title}",
            body=f"Discussion of the guideline [{link_text(guideline.title)}]({page}) ({link_text(guideline.publisher)}"
                 f"{', version ' + guideline.version if guideline.version else ''}).\n\n"
                 f"Publisher's page: {guideline.url}")
    except DiscussionUnavailable as exc:
        flash(str(exc) or "Discussions are not available yet.", "warning")
        return redirect(page)
    return redirect(topic_url(topic, page))


@bp.get("/api/guidelines")
def api_index():
    filters = services.GuidelineFilters.from_request()
    number, size = page_args(default_size=50)
    guidelines, page = services.browse(filters, number, size)
    return jsonify(total=page.total, page=page.number, per_page=page.size, results=[
        {"id": g.id, "publisher": g.publisher, "title": g.title, "tumour_type": g.tumour_type,
         "version": g.version, "year": g.year, "language": g.language, "link": g.url,
         "url": url_for("guidelines.show", guideline_id=g.id, _external=True)} for g in guidelines])

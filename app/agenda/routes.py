"""Event pages: the calendar (upcoming and past, with filters), one event, a group's events, and
the forms to add, edit, cancel, delete and answer an event. iCalendar files are in ics.py.

Every route loads its event with the policy (404 when invisible), then asks the policy whether
this person may act (403 with a reason); a refused form is shown again with what was typed."""
from __future__ import annotations

from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.agenda import bp, queries, services
from app.agenda.forms import DeleteForm, EventForm, RsvpForm
from app.agenda.models import Event
from app.agenda.queries import Filters
from app.agenda.services import KIND_LABELS, EventError
from app.core.auth import login_required
from app.core.countries import COUNTRIES
from app.core.pagination import page_arg
from app.directory.models import Centre
from app.extensions import db
from app.forum.limits import posting_limit
from app.media.models import Media
from app.models_base import utcnow

PER_PAGE = 20


def _month_choices(now: datetime) -> list[tuple[str, str]]:
    """From a year back to eighteen months ahead, for the month filter."""
    out = []
    year, month = now.year - 1, now.month
    for _i in range(31):
        out.append((f"{year:04d}-{month:02d}", date(year, month, 1).strftime("%B %Y")))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# Globals, not context variables: imported macros (agenda/_macros.html, the centre page) see them.
@bp.app_template_global()
def event_kind_label(kind: str):
    return KIND_LABELS.get(kind, kind)


@bp.app_template_global()
def event_local(value, zone: str):
    return services.local_time(value, zone)


@bp.app_template_global()
def event_country(code):
    return COUNTRIES.get(code, code or "")


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

@bp.get("/events")
def index():
    filters = Filters.from_args(request.args)
    page = page_arg()
    events, has_next = queries.list_events(current_user, filters, page, PER_PAGE)
    return render_template(
        "agenda/index.html", events=events, has_next=has_next, page=page, filters=filters,
        counts=queries.rsvp_counts([e.id for e in events]), kinds=KIND_LABELS, countries=COUNTRIES,
        months=_month_choices(utcnow()), can_create=policy.can_create_event(current_user))


@bp.get("/groups/<slug>/events")
def group_events(slug):
    group = policy.group_or_404(slug)
    filters = Filters(when="past" if request.args.get("when") == "past" else "upcoming")
    page = page_arg()
    events, has_next = queries.list_events(current_user, filters, page, PER_PAGE, group=group)
    return render_template(
        "agenda/group_events.html", group=group, events=events, has_next=has_next, page=page, filters=filters,
        counts=queries.rsvp_counts([e.id for e in events]),
        can_create=policy.can_create_event(current_user, group),
        moderator=policy.can_moderate(current_user, group))


@bp.get("/events/<int(max=2147483647):event_id>")
def show(event_id):
    event = policy.get_visible_or_404(Event, event_id)
    return render_event(event)


def render_event(event: Event, form: RsvpForm | None = None, status: int = 200):
    manager = policy.can_edit_event(current_user, event)
    return render_template(
        "agenda/show.html", event=event, counts=queries.rsvp_counts([event.id])[event.id],
        mine=queries.rsvp_of(event, current_user), rsvp_form=form or RsvpForm(),
        can_rsvp=policy.can_rsvp(current_user, event) and not event.is_past(utcnow()),
        is_past=event.is_past(utcnow()),
        attendees=queries.attendees(event) if manager else [],
        show_group=event.group is not None and policy.can_view(current_user, event.group),
        # Shown wherever the event is (policy/media: the event uses them).
        cover=db.session.get(Media, event.cover_id) if event.cover_id else None,
        programme=db.session.get(Media, event.programme_id) if event.programme_id else None), status


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def attach_error(form, error: EventError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, error.message]
    else:
        flash(error.message, "error")


def _resolve_centre(form) -> int | None:
    centre = services.find_centre(form.centre.data)
    return centre.id if centre is not None else None


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
@posting_limit
def new():
    group = None
    group_slug = request.args.get("group", "")
    if group_slug:
        group = policy.group_or_404(group_slug)
    allowed = policy.can_create_event(current_user, group)
    form = EventForm()
    form.offer_files(current_user.id)
    status = 200
    if not form.is_submitted():
        centre_slug = request.args.get("centre", "")
        if centre_slug:
            centre = db.session.scalar(select(Centre).where(Centre.slug == centre_slug))
            if centre is not None:
                form.centre.data = services.centre_label(centre)
                form.city.data, form.country.data = centre.city, centre.country or ""
                form.location.data = centre.address or ""
        if group is not None and group.country:
            form.country.data = form.country.data or group.country
    if not allowed:
        status = 403
    elif form.validate_on_submit():
        try:
            event = services.create_event(current_user, form.to_input(_resolve_centre(form)), group=group)
        except EventError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("Your event is published."), "success")
            return redirect(url_for("agenda.show", event_id=event.id), 303)
    elif form.is_submitted():
        status = 400
    return render_template("agenda/form.html", form=form, event=None, group=group, allowed=allowed,
                           cancel_url=url_for("agenda.group_events", slug=group.slug) if group else url_for("agenda.index")), status


@bp.route("/events/<int(max=2147483647):event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id):
    event = policy.get_visible_or_404(Event, event_id)
    if not policy.can_edit_event(current_user, event):
        abort(403, _("Only the organiser, the group's moderators and site moderators can edit this event."))
    form = EventForm()
    form.offer_files(event.created_by)
    status = 200
    if not form.is_submitted():
        _fill(form, event)
    elif form.validate():
        try:
            services.update_event(event, current_user, form.to_input(_resolve_centre(form)))
        except EventError as error:
            db.session.rollback()
            attach_error(form, error)
            status = error.status
        else:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("agenda.show", event_id=event.id), 303)
    else:
        status = 400
    return render_template("agenda/form.html", form=form, event=event, group=event.group, allowed=True,
                           cancel_url=url_for("agenda.show", event_id=event.id)), status


def _fill(form: EventForm, event: Event) -> None:
    form.title.data, form.kind.data, form.description.data = event.title, event.kind, event.description
    form.all_day.data = event.all_day
    if event.all_day:
        form.start_date.data, form.end_date.data = event.starts_at.date(), event.last_day
        form.timezone.data = "UTC"
    else:
        starts, ends = services.local_time(event.starts_at, event.timezone), services.local_time(event.ends_at, event.timezone)
        form.start_date.data, form.start_time.data = starts.date(), starts.time().replace(tzinfo=None)
        form.end_date.data, form.end_time.data = ends.date(), ends.time().replace(tzinfo=None)
        form.timezone.data = event.timezone
    form.location.data, form.city.data, form.country.data = event.location, event.city, event.country or ""
    form.online_url.data = event.online_url
    form.centre.data = services.centre_label(event.centre) if event.centre else ""
    form.visibility.data = event.visibility if event.visibility in ("public", "members") else "public"
    form.cover.data, form.programme.data = str(event.cover_id or ""), str(event.programme_id or "")


def _act(event_id: int, action, done: str):
    event = policy.get_visible_or_404(Event, event_id)
    form = DeleteForm()
    if not form.validate_on_submit():
        abort(400, _("Your form expired or was sent from another site. Please reload the page and try again."))
    try:
        action(event, current_user)
    except EventError as error:
        abort(error.status, error.message)
    flash(done, "success")
    return redirect(url_for("agenda.show", event_id=event.id), 303)


@bp.post("/events/<int(max=2147483647):event_id>/cancel")
@login_required
def cancel(event_id):
    return _act(event_id, services.cancel_event, _("The event is marked cancelled. People who saw it will see that."))


@bp.post("/events/<int(max=2147483647):event_id>/reinstate")
@login_required
def reinstate(event_id):
    return _act(event_id, services.reinstate_event, _("The event is on again."))


@bp.route("/events/<int(max=2147483647):event_id>/delete", methods=["GET", "POST"])
@login_required
def delete(event_id):
    event = policy.get_visible_or_404(Event, event_id)
    if not policy.can_delete_event(current_user, event):
        abort(403, _("Only the organiser, the group's moderators and site moderators can delete this event."))
    form = DeleteForm()
    if form.validate_on_submit():
        group = event.group
        services.delete_event(event, current_user)
        flash(_("The event was deleted."), "success")
        return redirect(url_for("agenda.group_events", slug=group.slug) if group else url_for("agenda.index"), 303)
    return render_template("agenda/delete.html", event=event, form=form), 400 if form.is_submitted() else 200


@bp.post("/events/<int(max=2147483647):event_id>/rsvp")
@login_required
def rsvp(event_id):
    event = policy.get_visible_or_404(Event, event_id)
    form = RsvpForm()
    if not form.validate_on_submit():
        return render_event(event, form, 400)
    state = None if form.state.data == "none" else form.state.data
    try:
        services.set_rsvp(event, current_user, state)
    except EventError as error:
        abort(error.status, error.message)
    flash({"going": _("You are going. See you there!"), "interested": _("Marked as interested."),
           None: _("Your answer was withdrawn.")}[state], "success")
    return redirect(url_for("agenda.show", event_id=event.id, _anchor="rsvp"), 303)


@bp.app_template_global()
def group_upcoming_events(group, limit: int = 3):
    """The next few events inside a group, as the viewer may see them (the group landing page)."""
    return queries.upcoming_in_group(group, current_user, limit=limit)

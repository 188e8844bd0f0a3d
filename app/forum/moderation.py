"""Moderator actions on topics: pin, lock, move and delete. Site staff moderate categories;
a group's owner and moderators moderate its forum (policy.can_moderate decides both)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app import policy
from app.core.auth import login_required
from app.core.errors import ServiceError
from app.extensions import db
from app.forum import bp, services
from app.forum.forms import MoveForm
from app.forum.models import Category, Topic
from app.forum.queries import viewer
from app.forum.routes import topic_url
from app.groups.models import Group


def _moderated_topic(topic_id: int) -> Topic:
    topic = policy.get_visible_or_404(Topic, topic_id)
    if not policy.can_moderate(current_user, topic.group):
        abort(403, _("Only moderators can do that."))
    return topic


def _flag() -> bool:
    return request.form.get("value", "1") in ("1", "true", "on", "yes")


@bp.post("/t/<int(max=2147483647):topic_id>/pin")
@login_required
def pin_topic(topic_id):
    topic = _moderated_topic(topic_id)
    services.set_pinned(topic, viewer(), _flag())
    flash(_("Topic pinned.") if topic.pinned else _("Topic unpinned."), "success")
    return redirect(topic_url(topic))


@bp.post("/t/<int(max=2147483647):topic_id>/lock")
@login_required
def lock_topic(topic_id):
    topic = _moderated_topic(topic_id)
    services.set_locked(topic, viewer(), _flag())
    flash(_("Topic locked: no new replies.") if topic.locked else _("Topic unlocked."), "success")
    return redirect(topic_url(topic))


@bp.post("/t/<int(max=2147483647):topic_id>/delete")
@login_required
def delete_topic(topic_id):
    topic = _moderated_topic(topic_id)
    group, category = topic.group, topic.category
    services.delete_topic(topic, viewer())
    flash(_("Topic deleted."), "success")
    if group is not None:
        return redirect(url_for("forum.group_forum", slug=group.slug))
    return redirect(url_for("forum.category", slug=category.slug))


def move_choices(user) -> list[tuple[str, str]]:
    """Places this moderator may move a topic to: categories for site staff, and the groups
    they moderate (all groups for staff)."""
    choices = []
    groups = policy.moderated_groups(select(Group), user)
    if policy.is_staff(user):
        choices += [(f"c:{c.id}", _("Category: %(name)s", name=c.name))
                    for c in db.session.scalars(select(Category).order_by(Category.position, Category.id))]
    groups = groups.where(Group.archived_at.is_(None)).order_by(Group.name).limit(500)
    choices += [(f"g:{g.id}", _("Group: %(name)s (%(kind)s)", name=g.name, kind=g.kind))
                for g in db.session.scalars(groups)]
    return choices


def _destination(value: str):
    kind, _sep, ident = (value or "").partition(":")
    if not ident.isdigit():
        return None, None
    if kind == "c":
        return db.session.get(Category, int(ident)), None
    if kind == "g":
        return None, db.session.get(Group, int(ident))
    return None, None


@bp.route("/t/<int(max=2147483647):topic_id>/move", methods=["GET", "POST"])
@login_required
def move_topic(topic_id):
    topic = _moderated_topic(topic_id)
    form = MoveForm()
    form.destination.choices = [SelectChoice(value, label) for value, label in move_choices(current_user)]
    current = f"g:{topic.group_id}" if topic.group_id else f"c:{topic.category_id}"
    status, needs_confirm = 200, False
    if not form.is_submitted():
        form.destination.data = current
    elif form.validate():
        category, group = _destination(form.destination.data)
        try:
            services.move_topic(topic, viewer(), category=category, group=group, confirm_wider=form.confirm.data)
        except services.NeedsConfirmation as error:
            form.confirm.errors = [error.message]
            status, needs_confirm = error.status, True
        except ServiceError as error:
            form.destination.errors = [*form.destination.errors, error.message]
            status = error.status
        else:
            flash(_("Topic moved."), "success")
            return redirect(topic_url(topic))
    else:
        status = 400
    private = topic.group is not None and topic.group.kind != "open"
    return render_template("forum/move.html", form=form, topic=topic, private=private,
                           needs_confirm=needs_confirm), status

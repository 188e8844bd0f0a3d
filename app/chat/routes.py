"""The live discussion page of a group, which works as a plain page with forms: read the latest
messages (page back with "Older messages"), post, remove, and, for moderators, turn a message
into a forum topic. live.js adds the live part on top when JavaScript and sockets work."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app import policy
from app.chat import bp, services
from app.chat.models import ChatMessage
from app.composer.confirm import CONFIRM_STATUS, warnings_to_confirm
from app.core.auth import login_required
from app.core.errors import ServiceError
from app.core.text import TITLE_MAX
from app.extensions import db
from app.forum.limits import posting_limit
from app.forum.queries import viewer
from app.sanitize import SANITIZER_VERSION, render_markdown


class ChatForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired()], render_kw={"rows": 3})


class TopicFromMessageForm(FlaskForm):
    title = StringField(_l("Title of the new topic"), validators=[DataRequired(), Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX})


def load_message(group, seq: int) -> ChatMessage:
    message = db.session.scalar(select(ChatMessage).where(ChatMessage.group_id == group.id, ChatMessage.seq == seq))
    if message is None:
        abort(404)
    return message


def render_live(group, form, *, status: int = 200, error: str | None = None, warnings=()):
    before = request.args.get("before", type=int)
    before = before if before and 0 < before < 2**31 else None
    messages, has_older = services.history(group, before=before)
    html = {m.id: Markup(m.body_html) if m.html_version >= SANITIZER_VERSION else render_markdown(m.body)
            for m in messages if not m.is_removed}
    user = viewer()
    return render_template(
        "chat/live.html", group=group, form=form, messages=messages, html=html, has_older=has_older,
        before=before, error=error, warnings=warnings, can_post=policy.can_post(user, group) if user else False,
        rights=policy.page_rights(user, group, may_write=False),
        mentions=services.unread_mentions(user, group), max_length=services.max_length(),
        now=services.utcnow()), status


@bp.get("/groups/<slug>/live")
def live(slug):
    return render_live(policy.group_or_404(slug), ChatForm())


@bp.post("/groups/<slug>/live")
@login_required
@posting_limit
def post(slug):
    group = policy.group_or_404(slug)
    form = ChatForm()
    if not form.validate_on_submit():
        return render_live(group, form, status=400)
    # Warnings only for someone who may write here: anyone else gets the service's reason (403).
    warnings = warnings_to_confirm(form.body.data, request.form) if policy.can_post(viewer(), group) else []
    if warnings:
        return render_live(group, form, status=CONFIRM_STATUS, warnings=warnings)
    try:
        message = services.post_message(group, viewer(), body=form.body.data)
    except services.ChatError as error:
        db.session.rollback()
        form.body.errors = [*form.body.errors, error.message]
        return render_live(group, form, status=error.status, error=error.message)
    return redirect(url_for("chat.live", slug=group.slug, _anchor=f"m{message.seq}"), 303)


@bp.post("/groups/<slug>/live/<int:seq>/remove")
@login_required
def remove(slug, seq):
    group = policy.group_or_404(slug)
    message = load_message(group, seq)
    try:
        services.remove_message(message, viewer())
    except services.ChatError as error:
        abort(error.status, error.message)
    flash(_("The message was removed."), "success")
    return redirect(url_for("chat.live", slug=group.slug), 303)


@bp.route("/groups/<slug>/live/<int:seq>/topic", methods=["GET", "POST"])
@login_required
def to_topic(slug, seq):
    group = policy.group_or_404(slug)
    message = load_message(group, seq)
    if not policy.can_moderate(current_user, group):
        abort(403, _("Only moderators can turn a message into a topic."))
    if message.is_removed:
        abort(404)
    form = TopicFromMessageForm()
    status = 200
    if request.method == "GET":
        first_line = next((line.strip("#>*_ ") for line in message.body.split("\n") if line.strip()), "")
        form.title.data = first_line[:TITLE_MAX]
    elif form.validate_on_submit():
        try:
            topic = services.message_to_topic(message, viewer(), title=form.title.data)
        except (services.ChatError, ServiceError) as error:
            db.session.rollback()
            form.title.errors = [*form.title.errors, error.message]
            status = getattr(error, "status", 400)
        else:
            flash(_("The message is now a forum topic."), "success")
            return redirect(url_for("forum.topic", topic_id=topic.id, slug=topic.slug), 303)
    else:
        status = 400
    html = Markup(message.body_html)
    return render_template("chat/to_topic.html", group=group, message=message, html=html, form=form), status


@bp.post("/groups/<slug>/live/mentions/read")
@login_required
def mentions_read(slug):
    group = policy.group_or_404(slug)
    if FlaskForm().validate_on_submit():
        services.mark_mentions_read(viewer(), group)
    return redirect(url_for("chat.live", slug=group.slug), 303)

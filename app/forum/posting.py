"""Writing through HTML forms: new topics, replies, edits, removal and edit history. Each route
loads what it acts on with the policy (404 when invisible), then hands over to the service,
which decides the rest (403 with a reason); a refused form is shown again with the typed text,
and so is a text the posting assistant has warnings about, until the writer ticks "Publish anyway"
(app/composer/confirm.py)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import policy
from app.composer.confirm import CONFIRM_STATUS, warnings_to_confirm
from app.core.auth import login_required
from app.core.errors import ServiceError
from app.extensions import db
from app.forum import bp, services
from app.forum.forms import EditForm, ReplyForm, TopicForm
from app.forum.limits import posting_limit
from app.forum.models import Post, PostRevision, Topic
from app.forum.queries import page_count, viewer
from app.forum.routes import category_or_404, post_url, render_topic, topic_url


def attach_error(form, error: ServiceError) -> None:
    """Put a service error next to its field when it has one, else at the top of the form."""
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, error.message]
    else:
        flash(error.message, "error")


@bp.route("/forum/c/<slug>/new", methods=["GET", "POST"])
@login_required
@posting_limit
def new_category_topic(slug):
    home = category_or_404(slug)
    return _new_topic(home, None, cancel_url=url_for("forum.category", slug=home.slug))


@bp.route("/groups/<slug>/forum/new", methods=["GET", "POST"])
@login_required
@posting_limit
def new_group_topic(slug):
    group = policy.group_or_404(slug)
    return _new_topic(None, group, cancel_url=url_for("forum.group_forum", slug=group.slug))


def _new_topic(category, group, cancel_url):
    form = TopicForm()
    status, warnings = 200, []
    home = group if group is not None else category
    allowed = policy.can_start_topic(current_user, home)
    if not allowed:
        # An open group's forum is readable by all, but only members write in it: join first.
        status = 403
    elif form.validate_on_submit():
        warnings = warnings_to_confirm(f"{form.title.data or ''}\n\n{form.body.data}", request.form)
        if warnings:
            status = CONFIRM_STATUS  # shown again with the assistant's warnings; nothing saved yet
        else:
            try:
                topic = services.create_topic(viewer(), title=form.title.data, body=form.body.data,
                                              group=group, category=category)
            except ServiceError as error:
                attach_error(form, error)
                status = error.status
            else:
                flash(_("Your topic is published."), "success")
                return redirect(topic_url(topic))
    elif form.is_submitted():
        status = 400
    return render_template("forum/new_topic.html", form=form, home=home, group=group,
                           cancel_url=cancel_url, allowed=allowed, warnings=warnings), status


@bp.post("/t/<int(max=2147483647):topic_id>/reply")
@login_required
@posting_limit
def reply(topic_id):
    topic = policy.get_visible_or_404(Topic, topic_id)
    form = ReplyForm()
    if not form.validate_on_submit():
        return render_topic(topic, form, status=400, page=page_count(topic))
    # Warnings only for someone who may reply: anyone else gets the service's reason (403).
    warnings = warnings_to_confirm(form.body.data, request.form) if policy.can_post(current_user, topic) else []
    if warnings:
        return render_topic(topic, form, status=CONFIRM_STATUS, page=page_count(topic), warnings=warnings)
    try:
        post = services.create_reply(topic, viewer(), body=form.body.data, quote_of=form.quote_of.data or None)
    except ServiceError as error:
        if error.field == "body":
            form.body.errors = [*form.body.errors, error.message]
        return render_topic(topic, form, status=error.status, page=page_count(topic), form_error=error.message)
    flash(_("Your reply is posted."), "success")
    return redirect(post_url(post))


@bp.route("/p/<int(max=2147483647):post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id):
    post = policy.get_visible_or_404(Post, post_id)
    if not policy.can_edit_post(current_user, post):
        abort(403, _("You cannot edit this post."))
    form = EditForm()
    status, warnings = 200, []
    if not form.is_submitted():
        form.body.data = post.body
        form.title.data = post.topic.title
    elif form.validate():
        text = f"{form.title.data or ''}\n\n{form.body.data}" if post.number == 1 else form.body.data
        warnings = warnings_to_confirm(text, request.form)
        if warnings:
            status = CONFIRM_STATUS
        else:
            try:
                services.edit_post(post, viewer(), body=form.body.data,
                                   title=form.title.data if post.number == 1 else None)
            except ServiceError as error:
                attach_error(form, error)
                status = error.status
            else:
                flash(_("Your changes are saved."), "success")
                return redirect(post_url(post))
    else:
        status = 400
    return render_template("forum/edit_post.html", form=form, post=post, topic=post.topic, warnings=warnings), status


@bp.post("/p/<int(max=2147483647):post_id>/delete")
@login_required
def delete_post(post_id):
    post = policy.get_visible_or_404(Post, post_id)
    topic = post.topic
    try:
        gone = services.delete_post(post, viewer())
    except ServiceError as error:
        abort(error.status, error.message)
    if gone == "topic":
        flash(_("Your topic was removed."), "success")
        if topic.group is not None:
            return redirect(url_for("forum.group_forum", slug=topic.group.slug))
        return redirect(url_for("forum.category", slug=topic.category.slug))
    flash(_("The post was removed."), "success")
    return redirect(post_url(post))


@bp.get("/p/<int(max=2147483647):post_id>/history")
@login_required
def post_history(post_id):
    """Earlier versions are for moderators (reports, disputes); everyone sees the "edited" mark."""
    post = policy.get_visible_or_404(Post, post_id)
    if not policy.can_moderate(current_user, post.topic.group):
        abort(403, _("Only moderators can see earlier versions of a post."))
    revisions = db.session.scalars(select(PostRevision).where(PostRevision.post_id == post.id)
                                   .options(joinedload(PostRevision.editor)).order_by(PostRevision.id.desc())).all()
    return render_template("forum/history.html", post=post, topic=post.topic, revisions=revisions)

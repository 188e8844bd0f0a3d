"""Browsing the forum: the index, a category's or group's topics, a topic page, permalinks, and
the reader's own state (read marker, watch level).

Reading is a plain GET and never writes (DESIGN 11). The read marker moves by POST /t/<id>/read:
static/js/forum.js sends it once the page has loaded (with the CSRF header), and the same endpoint backs a
"Mark as read" button for people without JavaScript; replying also moves it."""
from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.core.auth import login_required
from app.core.pagination import page_arg
from app.extensions import db
from app.forum import bp, queries, services
from app.forum.forms import ReplyForm, WatchForm
from app.forum.models import Category, Post, Topic
from app.security import safe_next


def category_or_404(slug: str) -> Category:
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        abort(404)
    return category


def topic_url(topic: Topic, **kwargs) -> str:
    return url_for("forum.topic", topic_id=topic.id, slug=topic.slug, **kwargs)


def post_url(post: Post) -> str:
    return topic_url(post.topic, page=queries.page_of(post.number), _anchor=f"p{post.id}")


def group_url(group) -> str:
    return url_for("groups.show", slug=group.slug)


@bp.app_context_processor
def _forum_helpers():
    return {"topic_url": topic_url, "group_url": group_url}


@bp.get("/forum")
def index():
    overview = queries.category_overview(current_user)
    latest, _more = queries.topic_rows(current_user, latest=True, per_page=10)
    return render_template("forum/index.html", overview=overview, latest=latest,
                           can_manage=policy.can_manage_categories(current_user))


@bp.get("/forum/c/<slug>")
def category(slug):
    home = category_or_404(slug)
    page = page_arg()
    rows, has_next = queries.topic_rows(current_user, category=home, page=page)
    level = queries.category_level(current_user, home)
    return render_template("forum/topic_list.html", home=home, group=None, rows=rows, page=page,
                           has_next=has_next, watch_form=WatchForm(level=level), level=level,
                           can_start=policy.can_start_topic(current_user, home),
                           new_url=url_for("forum.new_category_topic", slug=home.slug),
                           feed_url=url_for("forum.category_feed", slug=home.slug))


@bp.get("/groups/<slug>/forum")
def group_forum(slug):
    group = policy.group_or_404(slug)
    page = page_arg()
    rows, has_next = queries.topic_rows(current_user, group=group, page=page)
    return render_template("forum/topic_list.html", home=group, group=group, rows=rows, page=page,
                           has_next=has_next, watch_form=None, level=None,
                           can_start=policy.can_start_topic(current_user, group),
                           new_url=url_for("forum.new_group_topic", slug=group.slug),
                           feed_url=url_for("forum.group_feed", slug=group.slug) if group.kind == "open" else None)


@bp.get("/t/<int(max=2147483647):topic_id>")
@bp.get("/t/<int(max=2147483647):topic_id>/<slug>")
def topic(topic_id, slug=None):
    topic = policy.get_visible_or_404(Topic, topic_id)
    form = ReplyForm()
    quote_id = request.args.get("quote", type=int)
    if quote_id and 0 < quote_id < 2**31 and current_user.is_authenticated:
        quoted = db.session.get(Post, quote_id)
        if quoted is not None and quoted.topic_id == topic.id and not quoted.is_removed:
            form.body.data, form.quote_of.data = services.quote_text(quoted), str(quoted.id)
    return render_topic(topic, form)


def render_topic(topic: Topic, form, *, status: int = 200, page: int | None = None, form_error: str | None = None,
                 warnings=()):
    data = queries.topic_page(topic, current_user, page or page_arg())
    return render_template("forum/topic.html", p=data, topic=topic, form=form, form_error=form_error, warnings=warnings,
                           watch_form=WatchForm(level=data.level),
                           feed_url=url_for("forum.topic_feed", topic_id=topic.id)), status


@bp.get("/p/<int(max=2147483647):post_id>")
def permalink(post_id):
    post = policy.get_visible_or_404(Post, post_id)
    return redirect(post_url(post))


@bp.get("/t/<int(max=2147483647):topic_id>/unread")
def first_unread(topic_id):
    topic = policy.get_visible_or_404(Topic, topic_id)
    if not current_user.is_authenticated:
        return redirect(topic_url(topic))
    post = queries.first_unread_post(topic, current_user)
    return redirect(post_url(post) if post is not None else topic_url(topic))


@bp.post("/t/<int(max=2147483647):topic_id>/read")
@login_required
def mark_read(topic_id):
    """JSON from forum.js, or a form post from the no-JS button; both carry the CSRF token."""
    topic = policy.get_visible_or_404(Topic, topic_id)
    payload = request.get_json(silent=True) if request.is_json else request.form
    if not hasattr(payload, "get"):
        payload = {}
    try:
        number = int(payload.get("number", topic.post_count))
    except (TypeError, ValueError):
        number = topic.post_count
    last_read = services.mark_read(queries.viewer(), topic, number)
    if request.is_json:
        return jsonify(topic_id=topic.id, last_read=last_read)
    return redirect(safe_next(request.form.get("next"), topic_url(topic)))


@bp.post("/t/<int(max=2147483647):topic_id>/watch")
@login_required
def watch_topic(topic_id):
    topic = policy.get_visible_or_404(Topic, topic_id)
    form = WatchForm()
    if form.validate_on_submit():
        services.set_watch_level(queries.viewer(), form.level.data, topic=topic)
        flash(_("Notification setting saved."), "success")
    return redirect(topic_url(topic))


@bp.post("/forum/c/<slug>/watch")
@login_required
def watch_category(slug):
    home = category_or_404(slug)
    form = WatchForm()
    if form.validate_on_submit():
        services.set_watch_level(queries.viewer(), form.level.data, category=home)
        flash(_("Notification setting saved."), "success")
    return redirect(url_for("forum.category", slug=home.slug))

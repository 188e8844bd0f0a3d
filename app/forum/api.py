"""JSON API for the forum: the same services and the same policy as the HTML pages.

Writes authenticate with the session cookie and carry the CSRF token in ``X-CSRFToken``
(CSRFProtect checks it before the view runs). Token auth for third-party clients is not offered
yet. Errors are ``{"error": {"code", "message", "fields"?}}``, like app.errors. A text the posting
assistant has warnings about answers 409 with ``"code": "confirm"`` and the ``warnings``; sending
it again with ``"confirm": true`` publishes it (app/composer/confirm.py)."""
from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.composer.confirm import CONFIRM_STATUS, confirm_payload, warnings_to_confirm
from app.core.errors import ServiceError
from app.core.pagination import page_arg
from app.extensions import db
from app.forum import bp, queries, services
from app.forum.limits import posting_limit
from app.forum.models import Category, Post, Topic
from app.forum.routes import category_or_404


def _iso(value):
    return value.isoformat() + "Z" if value else None


def _user(user, badges=None) -> dict:
    data = {"id": user.id, "display_name": user.display_name, "role": user.role_label}
    if badges and user.id in badges:
        extra = badges[user.id]
        data.update(verified=extra["verified"], profession=extra.get("profession"), specialty=extra.get("specialty"))
    return data


def category_json(category: Category, topic_count=None) -> dict:
    return {"id": category.id, "slug": category.slug, "name": category.name, "description": category.description,
            "position": category.position, "topic_count": topic_count,
            "url": url_for("forum.category", slug=category.slug)}


def topic_json(topic: Topic, row=None) -> dict:
    data = {"id": topic.id, "title": topic.title, "author": _user(topic.author),
            "category": topic.category.slug if topic.category_id else None,
            "group": topic.group.slug if topic.group_id else None,
            "pinned": topic.pinned, "locked": topic.locked, "post_count": topic.post_count,
            "created_at": _iso(topic.created_at), "last_post_at": _iso(topic.last_post_at),
            "url": url_for("forum.topic", topic_id=topic.id, slug=topic.slug)}
    if row is not None and current_user.is_authenticated:
        data["unread"] = row.unread
    return data


def post_json(post: Post, badges=None, html=None) -> dict:
    removed = post.is_removed
    return {"id": post.id, "topic_id": post.topic_id, "number": post.number, "author": _user(post.author, badges),
            "body": None if removed else post.body,
            "body_html": None if removed else str(html if html is not None else post.body_html),
            "removed": removed, "quote_of": post.quote_of_id, "created_at": _iso(post.created_at),
            "edited_at": _iso(post.edited_at), "url": url_for("forum.permalink", post_id=post.id)}


def _error(status: int, message: str, fields: dict | None = None):
    body = {"code": status, "message": message}
    if fields:
        body["fields"] = fields
    return jsonify(error=body), status


def _service_error(error: ServiceError):
    return _error(error.status, error.message, {error.field: [error.message]} if error.field else None)


def _needs_confirmation(data: dict, allowed: bool, *texts):
    """The posting assistant's answer when it has warnings and the client did not send
    ``"confirm": true``: 409 ``{"error": {...}, "code": "confirm", "warnings": [...]}``; else None.
    Only for a writer who is ``allowed`` to publish there: anyone else gets the service's refusal."""
    warnings = warnings_to_confirm("\n\n".join(t for t in texts if t), data.get("confirm")) if allowed else []
    if not warnings:
        return None
    extra = confirm_payload(warnings)
    body = {"code": CONFIRM_STATUS, "message": extra.pop("message")}
    return jsonify(error=body, **extra), CONFIRM_STATUS


def _payload() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("Send a JSON object with Content-Type: application/json."))
    return data


def _texts(data: dict, *names) -> list:
    """String fields from a JSON body; any other type is refused rather than coerced."""
    values = []
    for name in names:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            abort(400, _("%(field)s must be text.", field=name))
        values.append(value)
    return values


def _signed_in_user():
    if not current_user.is_authenticated:
        abort(401, _("Please sign in."))
    return queries.viewer()


def _topic_list(**home):
    page = page_arg()
    rows, has_next = queries.topic_rows(current_user, page=page, **home)
    return jsonify(topics=[topic_json(r.topic, r) for r in rows], page=page, has_next=has_next)


@bp.get("/api/categories")
def api_categories():
    return jsonify(categories=[category_json(item["category"], item["topic_count"])
                               for item in queries.category_overview(current_user)])


@bp.get("/api/categories/<slug>/topics")
def api_category_topics(slug):
    return _topic_list(category=category_or_404(slug))


@bp.get("/api/groups/<slug>/topics")
def api_group_topics(slug):
    return _topic_list(group=policy.group_or_404(slug))


@bp.get("/api/topics/<int(max=2147483647):topic_id>")
def api_topic(topic_id):
    topic = policy.get_visible_or_404(Topic, topic_id)
    page = queries.topic_page(topic, current_user, page_arg())
    return jsonify(topic=topic_json(topic), page=page.page, pages=page.pages, per_page=queries.PER_PAGE,
                   posts=[post_json(p, page.badges, page.html[p.id]) for p in page.posts])


@bp.get("/api/posts/<int(max=2147483647):post_id>")
def api_post(post_id):
    post = policy.get_visible_or_404(Post, post_id)
    return jsonify(post=post_json(post, queries.badges_for({post.author}, current_user)))


@bp.post("/api/topics")
@posting_limit
def api_create_topic():
    user = _signed_in_user()
    data = _payload()
    category = group = None
    if data.get("group"):
        group = policy.group_or_404(str(data["group"]))
    elif data.get("category"):
        category = db.session.scalar(select(Category).where(Category.slug == str(data["category"])))
        if category is None:
            return _error(404, _("No such category."), {"category": [_("No such category.")]})
    else:
        return _error(400, _("Say where the topic goes: a category or a group."),
                      {"category": [_("Give a category or a group.")]})
    try:
        title, body = _texts(data, "title", "body")
        allowed = policy.can_start_topic(user, group if group is not None else category)
        if (answer := _needs_confirmation(data, allowed, title, body)) is not None:
            return answer
        topic = services.create_topic(user, title=title, body=body, group=group, category=category)
    except ServiceError as error:
        return _service_error(error)
    return jsonify(topic=topic_json(topic)), 201


@bp.post("/api/topics/<int(max=2147483647):topic_id>/replies")
@posting_limit
def api_create_reply(topic_id):
    user = _signed_in_user()
    topic = policy.get_visible_or_404(Topic, topic_id)
    data = _payload()
    body = _texts(data, "body")[0]
    if (answer := _needs_confirmation(data, policy.can_post(user, topic), body)) is not None:
        return answer
    try:
        post = services.create_reply(topic, user, body=body, quote_of=data.get("quote_of"))
    except ServiceError as error:
        return _service_error(error)
    return jsonify(post=post_json(post)), 201


@bp.route("/api/posts/<int(max=2147483647):post_id>", methods=["PATCH"])
def api_edit_post(post_id):
    user = _signed_in_user()
    post = policy.get_visible_or_404(Post, post_id)
    data = _payload()
    try:
        title, body = _texts(data, "title", "body")
        if (answer := _needs_confirmation(data, policy.can_edit_post(user, post), title, body)) is not None:
            return answer
        services.edit_post(post, user, body=post.body if body is None else body, title=title)
    except ServiceError as error:
        return _service_error(error)
    return jsonify(post=post_json(post))


@bp.route("/api/posts/<int(max=2147483647):post_id>", methods=["DELETE"])
def api_delete_post(post_id):
    user = _signed_in_user()
    post = policy.get_visible_or_404(Post, post_id)
    try:
        gone = services.delete_post(post, user)
    except ServiceError as error:
        return _service_error(error)
    return jsonify(removed=gone, post_id=post.id, topic_id=post.topic_id)

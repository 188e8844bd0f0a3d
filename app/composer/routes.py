"""The composer's JSON API: drafts saved as you type, the live preview and mention suggestions.

Every call is for the signed-in, active writer about their own text: drafts are keyed by the
session's user and a *place* (where the text will go), never by an id in the URL, so nobody can
ask for someone else's. Writes carry the CSRF token in ``X-CSRFToken`` like every JSON write
(CSRFProtect checks it before the view runs). Errors are ``{"error": {"code", "message"}}``
(app.errors)."""
import re

from flask import abort, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from app import policy
from app.composer import bp, mentions
from app.composer.models import PLACE_MAX, Draft
from app.composer.render import render_for
from app.core.limits import from_config, per_account
from app.core.text import BODY_MAX, UNSTORABLE
from app.extensions import db, limiter
from app.models_base import utcnow

# "topic:42", "topic:new:group:living-with-lung-cancer", "chat:my-group", "blog:new".
PLACE = re.compile(r"^[a-z]+(?::[a-z0-9-]+){0,3}$")
MAX_DRAFTS = 100  # per person: the oldest go first, so typing into many places cannot fill the disk


# Each route counts on its own (autosave and preview run side by side while someone types).
composer_limit = limiter.limit(from_config("RATELIMIT_COMPOSER"), key_func=per_account, methods=["PUT", "POST"])


def _writer():
    """The signed-in, active account making the call (401 signed out, 403 suspended)."""
    if not policy.signed_in(current_user):
        abort(401, _("Please sign in."))
    if not policy.active(current_user):
        abort(403)
    return current_user


def _place(place: str) -> str:
    if len(place) > PLACE_MAX or not PLACE.match(place):
        abort(400, _("This is not a place one can write in."))
    return place


def _body() -> str:
    """The ``body`` of a JSON request: text, storable, and no longer than a post may be."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("Send a JSON object with Content-Type: application/json."))
    body = data.get("body", "")
    if not isinstance(body, str):
        abort(400, _("%(field)s must be text.", field="body"))
    body = UNSTORABLE.sub("", body).replace("\r\n", "\n")
    if len(body) > BODY_MAX:
        abort(413, _("Posts can be at most %(limit)d characters long.", limit=BODY_MAX))
    return body


def _draft(user, place: str):
    return db.session.scalar(select(Draft).where(Draft.user_id == user.id, Draft.place == place))


@bp.get("/api/drafts/<path:place>")
def get_draft(place):
    """The writer's draft for ``place``; 204 when there is none (the usual case on every page
    with a composer: not an error, and browsers log 404s as console errors)."""
    draft = _draft(_writer(), _place(place))
    if draft is None:
        return "", 204
    return jsonify(body=draft.body, updated_at=draft.updated_at.isoformat() + "Z")


@bp.put("/api/drafts/<path:place>")
@composer_limit
def save_draft(place):
    """Save (or, with an empty body, forget) the writer's draft for ``place``."""
    user, place = _writer(), _place(place)
    body = _body()
    draft = _draft(user, place)
    if not body.strip():
        if draft is not None:
            db.session.delete(draft)
            db.session.commit()
        return "", 204
    if draft is not None:
        draft.body, draft.updated_at = body, utcnow()
        db.session.commit()
        return "", 204
    _make_room(user)
    db.session.add(Draft(user_id=user.id, place=place, body=body, updated_at=utcnow()))
    try:
        db.session.commit()
    except IntegrityError:  # the same place saved twice at once (two tabs): the later text wins
        db.session.rollback()
        draft = _draft(user, place)
        draft.body, draft.updated_at = body, utcnow()
        db.session.commit()
    return "", 204


def _make_room(user) -> None:
    count = db.session.scalar(select(func.count()).select_from(Draft).where(Draft.user_id == user.id))
    if count >= MAX_DRAFTS:
        oldest = select(Draft.id).where(Draft.user_id == user.id).order_by(Draft.updated_at, Draft.id) \
            .limit(count - MAX_DRAFTS + 1)
        db.session.execute(delete(Draft).where(Draft.id.in_(oldest)))


@bp.delete("/api/drafts/<path:place>")
def delete_draft(place):
    user, place = _writer(), _place(place)
    db.session.execute(delete(Draft).where(Draft.user_id == user.id, Draft.place == place))
    db.session.commit()
    return "", 204


@bp.post("/api/preview")
@composer_limit
def preview():
    """The text rendered exactly as it will be stored: the server's own renderer, for this author
    (their own media embedded, mentions linked)."""
    user = _writer()
    return jsonify(html=str(render_for(user.id, _body())))


@bp.get("/api/mentions")
def mention_suggestions():
    """People the writer may mention at ``place`` whose name starts with ``q``."""
    user = _writer()
    place = request.args.get("place", "")
    group = mentions.group_of_place(_place(place)) if place else None
    people = mentions.suggestions(user, request.args.get("q", ""), group)
    return jsonify(people=[{"id": person.id, "name": person.display_name,
                            "url": url_for("accounts.profile", user_id=person.id)} for person in people])

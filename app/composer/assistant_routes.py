"""The posting assistant over JSON, for the page script that checks a text while it is being
written (before the writer presses "Publish"). The publishing routes run the same check on the
server whatever the script did (app/composer/confirm.py), so this endpoint is a convenience,
never the safeguard.

Signed-in, active writers only (401 / 403): the check is cheap, but it is not a public text
service. The CSRF token travels in ``X-CSRFToken`` like every JSON write (CSRFProtect checks it
before the view runs). Errors are ``{"error": {"code", "message"}}`` (app.errors)."""
from flask import abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from app import policy
from app.composer import bp
from app.composer.assistant import review
from app.composer.confirm import as_json, guidelines_url, language
from app.core.limits import from_config, per_account
from app.core.text import BODY_MAX
from app.extensions import limiter


@bp.post("/api/compose/check")
@limiter.limit(from_config("RATELIMIT_ASSISTANT"), key_func=per_account)
def check():
    if not policy.signed_in(current_user):
        abort(401, _("Please sign in."))
    if not policy.active(current_user):
        abort(403)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("Send a JSON object with Content-Type: application/json."))
    body = data.get("body")
    if not isinstance(body, str):
        abort(400, _("%(field)s must be text.", field="body"))
    if len(body) > BODY_MAX:
        abort(400, _("Posts can be at most %(limit)d characters long.", limit=BODY_MAX))
    return jsonify(warnings=as_json(review(body, language())), guidelines_url=guidelines_url())

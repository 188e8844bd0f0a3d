"""Error pages: HTML for people, JSON for API callers, never a traceback."""
import math
import time

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import limiter

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "This page does not exist, or you do not have access to it.",
    405: "That method is not allowed here.",
    413: "The upload is too large.",
    429: "Too many attempts. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors; browsers get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(code: int, reason: str | None = None):
    message = reason or _(MESSAGES.get(code, "Error"))
    if wants_json():
        response = jsonify(error={"code": code, "message": message})
    else:
        response = render_template("errors/error.html", code=code, message=message)
    return response, code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return error_response(400, _("Your form expired or was sent from another site. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(error):
        reason = error.description if error.code not in (404, 429, 500) and error.description != type(error).description else None
        # 429: Flask-Limiter's description is the limit itself ("3 per 1 minute"), not words for people.
        result = app.make_response(error_response(error.code or 500, reason))
        for key, value in error.get_headers():
            if key.lower() in ("retry-after", "allow", "www-authenticate"):
                result.headers[key] = value
        if error.code == 429:
            result.headers.setdefault("Retry-After", str(_retry_after(error)))
        return result

    @app.errorhandler(Exception)
    def _unexpected(error):
        app.logger.exception("Unhandled error on %s", request.path.replace("\n", "\\n"))
        return error_response(500)


def _retry_after(error) -> int:
    """Seconds until the breached window resets. Flask-Limiter later takes the max of this and
    its own value, so the window length (the old fallback) would overstate the wait."""
    try:
        current = limiter.current_limit
        if current is not None:
            return max(1, math.ceil(current.reset_at - time.time()))
        return int(error.limit.limit.get_expiry())
    except Exception:
        return 60

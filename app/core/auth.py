"""The sign-in requirement for routes. Signed-out people who try to write are sent to the login
page with a way back (HTML), or get a 401 (JSON). Flask-Login's own redirect needs a
login_view; this does not depend on it."""
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, make_response, redirect, request, url_for
from flask_login import current_user

from app.security import safe_next


def _back_to() -> str:
    if request.method == "GET":
        return request.full_path.rstrip("?")
    # After a refused POST, come back to the page that held the form, not to the POST target.
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return "/"
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""), "/")


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            if request.path.startswith("/api/"):
                abort(401)
            return redirect(url_for("accounts.login", next=_back_to()))
        return view(*args, **kwargs)
    return wrapper


def require_login() -> None:
    """Inside a view: stop here with Flask-Login's answer (login page or JSON 401)."""
    if not current_user.is_authenticated:
        abort(make_response(current_app.login_manager.unauthorized()))

"""Server-side sessions: the cookie names a row, so logout and password changes really end it."""
from datetime import timedelta

from flask import has_request_context, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from app.accounts.models import User, UserSession
from app.core import events
from app.errors import error_response, wants_json
from app.extensions import db, login_manager
from app.models_base import utcnow

LAST_SEEN_EVERY = timedelta(minutes=5)  # no write on every GET


@login_manager.user_loader
def load_user(token: str):
    if not token:
        return None
    row = db.session.execute(
        select(UserSession, User).join(User, UserSession.user_id == User.id).where(UserSession.token == token)
    ).first()
    if row is None:
        return None
    user_session, user = row
    if not user.is_active_account:  # a suspended account is signed out everywhere at once
        return None
    from flask import current_app
    now = utcnow()
    if now - user_session.last_seen_at > timedelta(seconds=current_app.config["SESSION_IDLE_TIMEOUT"]):
        db.session.delete(user_session)
        db.session.commit()
        return None
    if now - user_session.last_seen_at > LAST_SEEN_EVERY:
        user_session.last_seen_at = now
        db.session.commit()
    user._session_token = token
    return user


def start_session(user: User, remember: bool = False) -> None:
    """Sign in with a fresh server-side session; the old cookie contents are discarded (rotation)."""
    session.clear()
    row = UserSession(user=user, user_agent=(request.user_agent.string or "")[:200])
    db.session.add(row)
    db.session.commit()
    user._session_token = row.token
    login_user(user, remember=remember)
    session.permanent = True


def end_session(user) -> None:
    token = getattr(user, "_session_token", None)
    if token:
        db.session.execute(db.delete(UserSession).where(UserSession.token == token))
        db.session.commit()
        _end_sockets(user.id, token=token)
    # Clear first: logout_user() leaves a marker in the session that tells Flask-Login to delete
    # the remember-me cookie; clearing afterwards would wipe the marker and leave the cookie.
    session.clear()
    logout_user()


def end_other_sessions(user: User) -> None:
    """After a password or e-mail change every other browser must sign in again."""
    keep = _current_token(user)
    db.session.execute(
        db.delete(UserSession).where(UserSession.user_id == user.id, UserSession.token != (keep or ""))
    )
    db.session.commit()
    _end_sockets(user.id, keep=keep)


def _current_token(user: User) -> str | None:
    """The session of the browser making this request, if it belongs to ``user``. The object may
    have been loaded before Flask-Login's (e.g. from an e-mailed token), so ask current_user too."""
    token = getattr(user, "_session_token", None)
    if token is None and has_request_context() and current_user.is_authenticated and current_user.id == user.id:
        token = getattr(current_user, "_session_token", None)
    return token


def end_all_sessions(user: User) -> None:
    """After a password reset nobody, including whoever holds a stolen cookie, stays signed in."""
    db.session.execute(db.delete(UserSession).where(UserSession.user_id == user.id))
    db.session.commit()
    _end_sockets(user.id)


def _end_sockets(user_id: int, **which) -> None:
    """Open Socket.IO connections hold a copy of the session: they are closed by the subscriber
    in app/realtime/control.py."""
    events.sessions_ended.send(user_id, **which)


@login_manager.unauthorized_handler
def _unauthorized():
    """Browsers go to the login page with a relative `next`; API callers get a JSON 401."""
    if wants_json():
        return error_response(401, _("Please log in first."))
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("accounts.login", next=target))

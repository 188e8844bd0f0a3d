"""Joining, signing in and out, and the e-mailed links that confirm an address or reset a password.

Decisions that are easy to undo by accident:

* Registering with an address that already has an account answers exactly like a new
  registration (same redirect, same page: "We've sent a message to that address"), and the
  message that reaches the mailbox says clearly that the address is registered, with links to
  log in and reset. Only the mailbox owner learns the account exists (ASVS 6.3.8).
* A new account is signed in straight away with a "confirm your e-mail" banner; features that
  publish can require ``current_user.is_confirmed``.
* Links in e-mails open a page with a button. Only the POST changes anything: mail scanners
  and link previews fetch GET URLs, and no GET may change state.
* Login failures read the same for an unknown address, a wrong password and a suspended
  account. Per-account limits count failures only, so the owner's own success is never the
  attempt that locks them out; once the limit is reached even the right password waits.
"""
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts import bp, emails, services, tokens
from app.accounts.forms import (ButtonForm, ForgotPasswordForm, LoginForm, RegisterForm, ResetPasswordForm,
                                canonical_email)
from app.accounts.models import User
from app.accounts.sessions import end_session, start_session
from app.extensions import db, limiter
from app.security import safe_next


def config_limit(setting: str):
    """Read the limit per request, so tests and operators can change it without re-importing."""
    return lambda: current_app.config[setting]


def posted_account_key() -> str:
    """Counts attempts against one account whichever IP they come from (stuffing via proxies)."""
    return "account:" + canonical_email(request.form.get("email"))


def signed_in_user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()


def _login_failed(_response) -> bool:
    return bool(g.get("login_failed"))


_DUMMY_HASH = None


def _spend_hash_time(password: str) -> None:
    """Unknown accounts cost the same scrypt work as known ones, so timing does not tell them apart."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = generate_password_hash("not a real password")
    check_password_hash(_DUMMY_HASH, password or "")


def home_url() -> str:
    return url_for("main.home")


# -- Joining ---------------------------------------------------------------------------------------

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(config_limit("RATELIMIT_REGISTER"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_url())
    form = RegisterForm()
    if form.validate_on_submit():
        existing = services.find_user_by_email(form.email.data)
        if existing is not None:
            _spend_hash_time(form.password.data)
            emails.send_already_registered(existing.email)
        else:
            try:
                user = services.create_user(
                    email=form.email.data, display_name=form.display_name.data, password=form.password.data,
                    role=form.role.data, country=form.country.data or None, language=form.language.data)
            except IntegrityError:  # the same address registered a moment ago by a parallel request
                db.session.rollback()
                emails.send_already_registered(form.email.data)
            else:
                emails.send_confirmation(user)
                start_session(user)
        return redirect(url_for("accounts.register_sent"))
    return render_template("accounts/register.html", form=form)


@bp.get("/register/sent")
def register_sent():
    return render_template("accounts/register_sent.html")


def _token_user(purpose: str, token: str):
    """(user, payload, None) for a usable link, else (None, None, reason) with reason 'expired'/'invalid'."""
    try:
        payload = tokens.read_token(purpose, token)
    except tokens.TokenError as error:
        return None, None, "expired" if error.expired else "invalid"
    user = db.session.get(User, payload["uid"])
    if user is None or not user.is_active_account:
        return None, None, "invalid"
    return user, payload, None


def link_problem(kind: str, reason: str):
    """400 with words a person can act on, and the way to get a fresh link."""
    return render_template("accounts/link_problem.html", kind=kind, reason=reason), 400


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    user, payload, reason = _token_user(tokens.CONFIRM, token)
    if user is not None and not tokens.matches(tokens.address_fingerprint(user), payload.get("fp")):
        user, reason = None, "invalid"  # sent to an address the account no longer uses
    if user is None:
        return link_problem("confirm", reason)
    form = ButtonForm()
    if user.is_confirmed:
        return render_template("accounts/confirm_email.html", form=None, user=user, already=True)
    if form.validate_on_submit():
        services.confirm_email(user)
        flash(_("Thank you: your e-mail address is confirmed."), "success")
        return redirect(url_for("accounts.settings") if current_user.is_authenticated else home_url())
    return render_template("accounts/confirm_email.html", form=form, user=user, already=False)


# -- Signing in and out ------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(config_limit("RATELIMIT_LOGIN"), methods=["POST"])
@limiter.limit(config_limit("RATELIMIT_LOGIN_ACCOUNT"), key_func=posted_account_key, methods=["POST"],
               deduct_when=_login_failed)
def login():
    form = LoginForm(next=request.args.get("next", ""))
    target = form.next.data or request.args.get("next")
    if current_user.is_authenticated:
        return redirect(safe_next(target, home_url()))
    login_error = None
    if form.validate_on_submit():
        user = services.find_user_by_email(canonical_email(form.email.data))
        if user is None:
            _spend_hash_time(form.password.data)
        if user is None or not user.check_password(form.password.data) or not user.is_active_account:
            g.login_failed = True
            login_error = _("E-mail or password is incorrect.")
        else:
            start_session(user, remember=form.remember.data)
            flash(_("Welcome back, %(name)s.", name=user.display_name), "success")
            return redirect(safe_next(target, home_url()))
    return render_template("accounts/login.html", form=form, login_error=login_error)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        end_session(current_user._get_current_object())
    flash(_("You have logged out."), "success")
    return redirect(home_url())


# -- Forgotten password --------------------------------------------------------------------------------

@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(config_limit("RATELIMIT_RESET"), methods=["POST"])
@limiter.limit(config_limit("RATELIMIT_RESET"), key_func=posted_account_key, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = services.find_user_by_email(canonical_email(form.email.data))
        if user is not None and user.is_active_account:
            emails.send_reset(user)
        return redirect(url_for("accounts.forgot_password_sent"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.get("/reset/sent")
def forgot_password_sent():
    return render_template("accounts/forgot_password_sent.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    user, payload, reason = _token_user(tokens.RESET, token)
    if user is not None and not tokens.matches(tokens.credentials_fingerprint(user), payload.get("fp")):
        user, reason = None, "used"  # the password changed since the link was sent: it is spent
    if user is None:
        return link_problem("reset", reason)
    form = ResetPasswordForm(user=user)
    if form.validate_on_submit():
        services.change_password(user, form.password.data, keep_current_session=False)
        services.confirm_email(user)  # the link reached the mailbox, which is what confirming proves
        if current_user.is_authenticated:
            end_session(current_user._get_current_object())
        emails.send_password_changed(user)
        # Asking to log in (rather than signing in here) lets password managers store the new one.
        flash(_("Your password has been changed and every browser was signed out. Log in with your new password."),
              "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)

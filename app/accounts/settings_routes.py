"""Account settings: address, password, confirmation.

Both changes ask for the current password, so a borrowed or stolen session cannot take the
account over, and both are rate-limited per account because that password check is otherwise
an unthrottled guessing oracle. A new address takes effect only once its link is followed; the
old address is told at once, so the owner can react before it happens.
"""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app.accounts import bp, emails, services, tokens
from app.accounts.forms import ButtonForm, ChangeEmailForm, ChangePasswordForm
from app.accounts.models import UserSession
from app.accounts.routes import _token_user, config_limit, link_problem, signed_in_user_key
from app.extensions import db, limiter
from app.security import safe_next


def _render_settings(email_form=None, password_form=None):
    user = current_user._get_current_object()
    sessions = db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id))
    return render_template("accounts/settings.html", user=user, session_count=sessions,
                           email_form=email_form or ChangeEmailForm(formdata=None),
                           password_form=password_form or ChangePasswordForm(formdata=None, user=user),
                           resend_form=ButtonForm(formdata=None))


@bp.get("/settings")
@login_required
def settings():
    return _render_settings()


@bp.post("/settings/email")
@login_required
@limiter.limit(config_limit("RATELIMIT_LOGIN_ACCOUNT"), key_func=signed_in_user_key)
def change_email():
    user = current_user._get_current_object()
    form = ChangeEmailForm()
    if form.validate_on_submit():
        if not user.check_password(form.current_password.data):
            form.current_password.errors.append(_("Your current password is not correct."))
        elif form.new_email.data == user.email:
            form.new_email.errors.append(_("That is already your e-mail address."))
        else:
            if services.find_user_by_email(form.new_email.data) is not None:
                # Same answer as for a free address: this form must not reveal who is a member.
                emails.send_address_in_use(form.new_email.data)
            else:
                emails.send_email_change(user, form.new_email.data)
            flash(_("We have sent a link to %(email)s. Your address changes when you open it. "
                    "Until then, keep using your current address.", email=form.new_email.data), "success")
            return redirect(url_for("accounts.settings"))
    return _render_settings(email_form=form)


@bp.route("/settings/email/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    user, payload, reason = _token_user(tokens.EMAIL_CHANGE, token)
    if user is not None and not tokens.matches(tokens.credentials_fingerprint(user), payload.get("fp")):
        user, reason = None, "used"  # address or password changed since: the link is spent
    if user is None or not isinstance(payload.get("new"), str):
        return link_problem("email_change", reason or "invalid")
    new_email = payload["new"]
    form = ButtonForm()
    if form.validate_on_submit():
        old_email = user.email
        if services.change_email(user, new_email):
            emails.send_email_changed(old_email, user)
            flash(_("Your e-mail address is now %(email)s.", email=new_email), "success")
        else:
            flash(_("That address is already used by another account, so your address was not changed."), "error")
        return redirect(url_for("accounts.settings") if current_user.is_authenticated else url_for("main.home"))
    return render_template("accounts/confirm_email_change.html", form=form, new_email=new_email)


@bp.post("/settings/password")
@login_required
@limiter.limit(config_limit("RATELIMIT_LOGIN_ACCOUNT"), key_func=signed_in_user_key)
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(user=user)
    if form.validate_on_submit():
        if not user.check_password(form.current_password.data):
            form.current_password.errors.append(_("Your current password is not correct."))
        else:
            services.change_password(user, form.password.data, keep_current_session=True)
            emails.send_password_changed(user)
            flash(_("Your password has been changed. Every other browser was signed out."), "success")
            return redirect(url_for("accounts.settings"))
    return _render_settings(password_form=form)


@bp.post("/settings/resend-confirmation")
@login_required
@limiter.limit(config_limit("RATELIMIT_RESET"), key_func=signed_in_user_key)
def resend_confirmation():
    user = current_user._get_current_object()
    form = ButtonForm()
    if form.validate_on_submit():
        if user.is_confirmed:
            flash(_("Your e-mail address is already confirmed."), "success")
        else:
            emails.send_confirmation(user)
            flash(_("We have sent a new confirmation link to %(email)s.", email=user.email), "success")
    return redirect(safe_next(request.form.get("next"), url_for("accounts.settings")))

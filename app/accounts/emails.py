"""Account e-mails. Links come from mail.public_url (configured PUBLIC_URL), never from the
request's Host header, so a forged Host cannot redirect a reset link to an attacker's site."""
from flask import url_for
from flask_babel import gettext as _

from app.accounts import tokens
from app.mail import public_url, send_mail


def _link(endpoint: str, **values) -> str:
    return public_url(url_for(endpoint, **values))


def send_confirmation(user) -> None:
    token = tokens.make_token(tokens.CONFIRM, uid=user.id, fp=tokens.address_fingerprint(user))
    send_mail(user.email, _("Confirm your e-mail address"), "mail/confirm_email.txt", user=user,
              link=_link("accounts.confirm_email", token=token))


def send_already_registered(address: str) -> None:
    """The reply to "register with an existing address": only the mailbox owner learns it exists."""
    send_mail(address, _("You already have an account"), "mail/already_registered.txt",
              login_link=_link("accounts.login"), reset_link=_link("accounts.forgot_password"))


def send_reset(user) -> None:
    token = tokens.make_token(tokens.RESET, uid=user.id, fp=tokens.credentials_fingerprint(user))
    send_mail(user.email, _("Reset your password"), "mail/reset_password.txt", user=user,
              link=_link("accounts.reset_password", token=token))


def send_email_change(user, new_email: str) -> None:
    token = tokens.make_token(tokens.EMAIL_CHANGE, uid=user.id, new=new_email,
                              fp=tokens.credentials_fingerprint(user))
    send_mail(new_email, _("Confirm your new e-mail address"), "mail/change_email.txt", user=user,
              new_email=new_email, link=_link("accounts.confirm_email_change", token=token))
    send_mail(user.email, _("A change of your e-mail address was requested"), "mail/change_email_requested.txt",
              user=user, new_email=new_email, reset_link=_link("accounts.forgot_password"))


def send_address_in_use(address: str) -> None:
    send_mail(address, _("Your address was entered on Oncollab"), "mail/address_in_use.txt",
              login_link=_link("accounts.login"))


def send_email_changed(old_email: str, user) -> None:
    send_mail(old_email, _("Your e-mail address was changed"), "mail/email_changed.txt", user=user,
              reset_link=_link("accounts.forgot_password"))


def send_password_changed(user) -> None:
    send_mail(user.email, _("Your password was changed"), "mail/password_changed.txt", user=user,
              reset_link=_link("accounts.forgot_password"))

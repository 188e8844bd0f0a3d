"""Account forms. Validation lives here so every form that sets a password uses one policy.

Single-line fields refuse control characters (Unicode category Cc): a browser cannot type them
into an <input>, and in a name they forge log lines and smuggle terminal escapes into admin
tools. Everything else a person can type (RTL marks, emoji, zero-width joiners, markup-looking
text) is stored exactly and escaped on output.
"""
import unicodedata
from functools import lru_cache
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from app.accounts.models import PROFILE_FIELDS, ROLES, TRAINING_SPECIALTIES, VISIBILITY
from app.accounts.services import normalise_email
from app.core.countries import COUNTRIES

PASSWORD_MIN, PASSWORD_MAX = 8, 128
DISPLAY_NAME_MAX, SHORT_FIELD_MAX, BIO_MAX = 80, 200, 5000


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


COUNTRY_CHOICES = _choices([("", _l("Prefer not to say")), *COUNTRIES.items()])
# Language names are shown in their own language, so people find theirs whatever the page language.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "it": "Italiano",
                  "nl": "Nederlands", "pl": "Polski", "pt": "Português"}
VISIBILITY_CHOICES = _choices((key, _l(label)) for key, label in VISIBILITY.items())


def _strip(value):
    return value.strip() if isinstance(value, str) else value


@lru_cache(maxsize=1)
def common_passwords() -> frozenset:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def canonical_email(raw: str | None) -> str:
    """One spelling per mailbox (lower case, IDN domains as ASCII), for storage, look-up and rate-limit keys."""
    raw = (raw or "").strip()
    try:
        return normalise_email(validate_email(raw, check_deliverability=False, allow_smtputf8=False).ascii_email)
    except EmailNotValidError:
        return normalise_email(raw)


def single_line(form, field):
    if field.data and any(unicodedata.category(ch) == "Cc" for ch in field.data):
        raise ValidationError(_l("Remove line breaks, tabs and other control characters."))


def no_nul(form, field):
    if field.data and "\x00" in field.data:
        raise ValidationError(_l("The text contains a character we cannot store (NUL)."))


def email_address(form, field):
    try:
        result = validate_email(field.data or "", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValidationError(_l("Enter an e-mail address like name@example.org.")) from None
    field.data = normalise_email(result.ascii_email)


class PasswordPolicy:
    """Length and a common-password list, no composition rules (ASVS 6.2): long passphrases win."""

    def __call__(self, form, field):
        password = field.data or ""
        if len(password) < PASSWORD_MIN:
            raise ValidationError(_l("Use at least %(n)d characters.", n=PASSWORD_MIN))
        if len(password) > PASSWORD_MAX:
            raise ValidationError(_l("Use at most %(n)d characters.", n=PASSWORD_MAX))
        lowered = password.strip().lower()
        if lowered in common_passwords():
            raise ValidationError(_l("This password is one of the most common ones, so it is easy to guess. Choose another."))
        personal = {word.strip().lower() for word in getattr(form, "personal_words", lambda: [])() if word}
        if lowered in personal or any(lowered == word.split("@")[0] for word in personal if "@" in word):
            raise ValidationError(_l("Do not use your name or e-mail address as your password."))


PASSWORD_HINT = _l("At least 8 characters. A few unrelated words make a strong password that is easy to remember.")


def _new_password(label):
    return PasswordField(label, validators=[DataRequired(_l("Choose a password.")), PasswordPolicy()])


def _confirm_password(label=_l("Repeat the password")):
    return PasswordField(label, validators=[DataRequired(_l("Repeat the password.")),
                                            EqualTo("password", _l("The two passwords are not the same."))])


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Display name"), filters=[_strip], validators=[
        DataRequired(_l("Enter the name other members will see.")), Length(max=DISPLAY_NAME_MAX), single_line])
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[
        DataRequired(_l("Enter your e-mail address.")), Length(max=254), email_address])
    password = _new_password(_l("Password"))
    confirm = _confirm_password()
    # No preselected role: a skipped select would otherwise label a clinician "Patient".
    role = SelectField(_l("I am a"), choices=_choices([("", _l("Choose one")), *((k, _l(v)) for k, v in ROLES.items())]),
                       validators=[DataRequired(_l("Choose the description that fits you best."))])
    country = SelectField(_l("Country"), choices=COUNTRY_CHOICES, validators=[Optional()])
    language = SelectField(_l("Preferred language"))
    consent = BooleanField(_l("I have read and accept the terms of use and the privacy notice."), validators=[
        DataRequired(_l("You need to accept the terms of use and the privacy notice to join."))])
    submit = SubmitField(_l("Create my account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()

    def personal_words(self):
        return [self.display_name.data, self.email.data]


def language_choices():
    return _choices((code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"])


class LoginForm(FlaskForm):
    # No format check here: every failure must read the same, whatever was typed.
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[
        DataRequired(_l("Enter your e-mail address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=PASSWORD_MAX * 4)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("E-mail address"), filters=[_strip], validators=[
        DataRequired(_l("Enter your e-mail address.")), Length(max=254)])
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    password = _new_password(_l("New password"))
    confirm = _confirm_password()
    submit = SubmitField(_l("Set my new password"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._user = user

    def personal_words(self):
        return [self._user.display_name, self._user.email] if self._user else []


class ChangePasswordForm(ResetPasswordForm):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password."))])
    submit = SubmitField(_l("Change my password"))


class ChangeEmailForm(FlaskForm):
    new_email = EmailField(_l("New e-mail address"), filters=[_strip], validators=[
        DataRequired(_l("Enter the new address.")), Length(max=254), email_address])
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password."))])
    submit = SubmitField(_l("Send a confirmation link"))


class ButtonForm(FlaskForm):
    """A lone button, so links from e-mails show a page and only the POST changes anything."""
    submit = SubmitField(_l("Confirm"))


# -- Profile -------------------------------------------------------------------------------------

FIELD_LABELS = {
    "bio": _l("About me"), "profession": _l("Profession"), "specialty": _l("Specialty"),
    "centre": _l("Centre or organisation"), "country": _l("Country"), "languages": _l("Languages I speak"),
    "interests": _l("Interests"), "training_specialty": _l("Training specialty"),
    "home_centre": _l("Home centre"), "training_cohort": _l("Training cohort"),
}
VISIBILITY_LABELS = {
    "bio": _l("Who can see your “About me”?"), "profession": _l("Who can see your profession?"),
    "specialty": _l("Who can see your specialty?"), "centre": _l("Who can see your centre?"),
    "country": _l("Who can see your country?"), "languages": _l("Who can see your languages?"),
    "interests": _l("Who can see your interests?"),
    "training_specialty": _l("Who can see your training specialty?"),
    "home_centre": _l("Who can see your home centre?"),
    "training_cohort": _l("Who can see your training cohort?"),
}
FIELD_HINTS = {
    "bio": _l("Markdown works: **bold**, *italic*, lists and links. Up to 5,000 characters."),
    "languages": _l("For example: Dutch, English"),
    "training_cohort": _l("For trainees of the inter-specialty training programme, e.g. “cohort 2”."),
}
TRAINEE_FIELDS = ("training_specialty", "home_centre", "training_cohort")


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), filters=[_strip], validators=[
        DataRequired(_l("Enter the name other members will see.")), Length(max=DISPLAY_NAME_MAX), single_line])
    submit = SubmitField(_l("Save my profile"))

    def profile_values(self) -> dict[str, tuple[str, str]]:
        return {key: (self[key].data or "", self[f"{key}_visibility"].data) for key in PROFILE_FIELDS}


def _profile_field(key: str):
    label = FIELD_LABELS[key]
    if key == "bio":
        return TextAreaField(label, validators=[Length(max=BIO_MAX), no_nul])
    if key == "country":
        return SelectField(label, choices=COUNTRY_CHOICES, validators=[Optional()])
    if key == "training_specialty":
        return SelectField(label, choices=_choices((k, _l(v)) for k, v in TRAINING_SPECIALTIES.items()),
                           validators=[Optional()])
    return StringField(label, filters=[_strip], validators=[Length(max=SHORT_FIELD_MAX), single_line])


for _key, (_label, _default) in PROFILE_FIELDS.items():
    setattr(ProfileForm, _key, _profile_field(_key))
    setattr(ProfileForm, f"{_key}_visibility",
            SelectField(VISIBILITY_LABELS[_key], choices=VISIBILITY_CHOICES, default=_default))

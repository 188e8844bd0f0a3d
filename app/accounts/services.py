"""Verbs that change accounts; the HTML forms, the CLI and the demo loader all call these."""
from flask import current_app
from sqlalchemy import select

from app.accounts.models import PROFILE_FIELDS, ProfileField, User
from app.accounts.sessions import end_all_sessions, end_other_sessions
from app.extensions import db
from app.models_base import utcnow
from app.sanitize import render_markdown

MARKDOWN_FIELDS = {"bio"}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def create_user(*, email: str, display_name: str, password: str, role: str, confirmed: bool = False,
                site_role: str = "member", country: str | None = None, language: str = "en") -> User:
    """Create an account that has accepted the current terms (the version is stored)."""
    user = User(email=normalise_email(email), display_name=display_name.strip(), role=role,
                site_role=site_role, country=country or None, language=language,
                terms_version=current_app.config["TERMS_VERSION"], terms_accepted_at=utcnow())
    user.set_password(password)
    if confirmed:
        user.email_confirmed_at = utcnow()
    db.session.add(user)
    db.session.flush()
    if country:
        save_profile(user, {"country": (country, None)}, commit=False)
    db.session.commit()
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def save_profile(user: User, values: dict[str, tuple[str, str | None]], commit: bool = True) -> None:
    """Store profile values with their visibility; Markdown fields are rendered once, here."""
    existing = {field.key: field for field in user.profile_fields}
    for key, (value, visibility) in values.items():
        if key not in PROFILE_FIELDS:
            raise KeyError(f"unknown profile field {key!r}")
        field = existing.get(key)
        if field is None:
            field = ProfileField(user=user, key=key, visibility=PROFILE_FIELDS[key][1])
            existing[key] = field
            db.session.add(field)
        field.value = value or ""
        if visibility:
            field.visibility = visibility
        field.html = str(render_markdown(field.value)) if key in MARKDOWN_FIELDS else None
    if commit:
        db.session.commit()


def confirm_email(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.commit()


def change_password(user: User, password: str, *, keep_current_session: bool) -> None:
    """A new password ends other sessions (stolen cookies die); a reset ends every session."""
    user.set_password(password)
    db.session.commit()
    if keep_current_session:
        end_other_sessions(user)
    else:
        end_all_sessions(user)


def change_email(user: User, new_email: str) -> bool:
    """Apply a confirmed address change; False when someone else took the address meanwhile."""
    from sqlalchemy.exc import IntegrityError

    new_email = normalise_email(new_email)
    if find_user_by_email(new_email) is not None:
        return False
    user.email = new_email
    user.email_confirmed_at = utcnow()  # following the link proved the new mailbox
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    end_other_sessions(user)
    return True

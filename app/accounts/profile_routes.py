"""Profiles. The page lists only what ``policy.visible`` returns for the viewer; the owner sees
everything, each value labelled with its audience, so nobody is surprised by what others see.
The edit form maps fields explicitly: posted extras (site_role, email, verified_at...) are
never read, so they cannot be mass-assigned."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import policy
from app.accounts import bp, services
from app.accounts.forms import FIELD_LABELS, TRAINEE_FIELDS, ProfileForm
from app.accounts.models import PROFILE_FIELDS, TRAINING_SPECIALTIES, VISIBILITY, ProfileField, User
from app.core.countries import COUNTRIES
from app.extensions import db

FIELD_ORDER = list(PROFILE_FIELDS)


def display_value(field: ProfileField) -> str:
    """Codes stored for selects are shown by name; free text is shown exactly as typed."""
    if field.key == "country":
        return str(COUNTRIES.get(field.value, field.value))
    if field.key == "training_specialty":
        return _(TRAINING_SPECIALTIES.get(field.value, field.value))
    return field.value


@bp.get("/people/<int:user_id>")
def profile(user_id: int):
    person = policy.get_visible_or_404(User, user_id)
    query = select(ProfileField).where(ProfileField.user_id == person.id)
    fields = db.session.scalars(policy.visible(query, current_user, ProfileField)).all()
    fields = sorted((f for f in fields if f.value), key=lambda f: FIELD_ORDER.index(f.key))
    by_key = {f.key: f for f in fields}
    is_owner = current_user.is_authenticated and current_user.id == person.id
    return render_template(
        "accounts/profile.html", person=person, fields=fields, by_key=by_key, is_owner=is_owner,
        show_audience=is_owner or policy.is_staff(current_user), labels=FIELD_LABELS,
        audience={key: _(label) for key, label in VISIBILITY.items()}, display_value=display_value,
        can_edit=policy.can_edit_profile(current_user, person))


@bp.route("/settings/profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    user = current_user._get_current_object()  # only ever one's own profile: no id in the URL
    form = ProfileForm(data=_current_values(user))
    if form.validate_on_submit():
        user.display_name = form.display_name.data
        values = form.profile_values()
        user.country = values["country"][0] or None  # kept in step for features that filter by country
        services.save_profile(user, values)
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("accounts.profile", user_id=user.id))
    return render_template("accounts/edit_profile.html", form=form, user=user, trainee_fields=TRAINEE_FIELDS,
                           other_fields=[key for key in PROFILE_FIELDS if key not in TRAINEE_FIELDS])


def _current_values(user: User) -> dict:
    data = {"display_name": user.display_name}
    for key, (_label, default) in PROFILE_FIELDS.items():
        data[key] = ""
        data[f"{key}_visibility"] = default
    for field in user.profile_fields:
        data[field.key] = field.value
        data[f"{field.key}_visibility"] = field.visibility
    return data

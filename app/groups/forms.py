"""Forms for groups. Limits and tag rules come from services, so the form and the API agree."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from app.core.countries import COUNTRIES
from app.groups.membership import MESSAGE_MAX
from app.groups.models import NETWORKS
from app.groups.services import DESCRIPTION_MAX, NAME_MAX, TAG_MAX, TAGS_MAX, GroupError, normalise_tags

KIND_LABELS = {
    "open": _l("Open: anyone can join and read"),
    "closed": _l("Closed: anyone can find it and ask to join; only members read inside"),
    "secret": _l("Secret: invisible to non-members; joined by invitation only"),
}
NETWORK_LABELS = {
    "": _l("None"),
    "interact_europe": _l("INTERACT-EUROPE training programme (100 centres)"),
    "eunetccc": _l("Network of Comprehensive Cancer Centres"),
    "eunetccc_thematic": _l("CCC network thematic area"),
    "mission_hub": _l("National Cancer Mission Hub"),
    "patient_org": _l("Patient organisation network"),
}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _no_nul(form, field):
    if field.data and "\x00" in field.data:
        raise ValidationError(_l("This text contains a character that cannot be stored."))


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), filters=[_strip], validators=[DataRequired(), Length(max=NAME_MAX), _no_nul])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX), _no_nul])
    tags = StringField(_l("Topic tags"), validators=[Optional(), Length(max=TAGS_MAX * (TAG_MAX + 2))])
    country = SelectField(_l("Country"), filters=[_upper], choices=[SelectChoice("", _l("Europe-wide (no country)"))]
                          + [SelectChoice(code, name) for code, name in COUNTRIES.items()])
    network = SelectField(_l("Network"), choices=[SelectChoice(key, NETWORK_LABELS.get(key, label))
                                                  for key, label in NETWORKS.items()])
    kind = RadioField(_l("Who can see and join it"), default="open", validators=[InputRequired()])

    def __init__(self, *args, kinds=("open", "closed"), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(k, KIND_LABELS[k]) for k in kinds]

    def validate_tags(self, field):
        try:
            normalise_tags(field.data or "")
        except GroupError as exc:
            raise ValidationError(exc.message)


class RequestForm(FlaskForm):
    message = TextAreaField(_l("Message to the moderators"), validators=[Optional(), Length(max=MESSAGE_MAX), _no_nul])


class ReasonForm(FlaskForm):
    """Approve, deny, remove, ban: the reason is kept in the group's log."""
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=MESSAGE_MAX), _no_nul])


class InviteForm(FlaskForm):
    who = StringField(_l("E-mail address or display name"), filters=[_strip],
                      validators=[DataRequired(), Length(max=254), _no_nul])


class TransferForm(FlaskForm):
    new_owner = IntegerField(_l("New owner"), validators=[InputRequired()])


class DeleteForm(FlaskForm):
    confirm_name = StringField(_l("Type the group's name to confirm"), validators=[DataRequired()])


class ButtonForm(FlaskForm):
    """A POST with only a CSRF token: join, leave, archive, promote..."""

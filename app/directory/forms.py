"""Forms for centre corrections, and the filters and link validator the public databases share.

Bad input is answered next to the field and what was typed is kept (WTForms re-renders raw
data). Text is stored as typed and always shown autoescaped; single-line fields lose surrounding
whitespace, and every field loses the characters no store can keep (NUL breaks PostgreSQL, other
C0 controls and lone surrogates break feeds and encoders) - the same rule as the forum's.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import FloatField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.text import UNSTORABLE
from app.directory.models import CENTRE_KINDS, NETWORKS


def storable(value):
    return UNSTORABLE.sub("", value) if isinstance(value, str) else value


def line(value):
    """Filter for single-line fields: storable, without surrounding whitespace."""
    return storable(value).strip() if isinstance(value, str) else value


def trimmed(value):
    """Filter for links: only surrounding whitespace goes; a control character inside is refused
    by WebLink rather than silently dropped (that would change where the link points)."""
    return value.strip() if isinstance(value, str) else value


class WebLink:
    """An absolute http(s) link to a named host; every other scheme (javascript:, data:, file:)
    and anything a browser might read differently (spaces, backslashes) is refused."""

    message = "Enter a full web address starting with http:// or https://."

    def __call__(self, form, field):
        value = field.data or ""
        if not value:
            return
        if any(ch.isspace() or ch == "\\" or unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
            raise ValidationError(self.message)
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            raise ValidationError(self.message) from None
        if parts.scheme.lower() not in ("http", "https") or not host or parts.username or parts.password:
            raise ValidationError(self.message)
        if "." not in host and host != "localhost":
            raise ValidationError(self.message)


def choices_of(mapping: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in mapping.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CentreCorrectionForm(FlaskForm):
    name = StringField("Name", filters=[line], validators=[DataRequired(), Length(max=300)])
    kind = SelectField("Kind of organisation", choices=choices_of(CENTRE_KINDS))
    address = StringField("Street address", filters=[line], validators=[Optional(), Length(max=500)])
    state = StringField("Region or state", filters=[line], validators=[Optional(), Length(max=200)])
    zip = StringField("Postcode", filters=[line], validators=[Optional(), Length(max=40)])
    website = StringField("Website", filters=[trimmed], validators=[Optional(), Length(max=500), WebLink()])
    specialties = StringField("Specialties", filters=[line],
                              validators=[Optional(), Length(max=1000)])
    languages = StringField("Languages spoken", filters=[line], validators=[Optional(), Length(max=200)])
    contact = TextAreaField("Public contact of the organisation", filters=[line],
                            validators=[Optional(), Length(max=1000)])
    networks = MultiCheckboxField("Networks", choices=choices_of(NETWORKS))
    lat = FloatField("Latitude", validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField("Longitude", validators=[Optional(), NumberRange(-180, 180)])
    message = TextAreaField("Note for the moderators", filters=[storable], validators=[Optional(), Length(max=2000)])

    FIELDS = ("name", "kind", "address", "state", "zip", "website", "specialties", "languages", "contact",
              "networks", "lat", "lon")

    def validate_lon(self, field):
        if (self.lat.data is None) != (field.data is None) and not self.lat.errors:
            raise ValidationError("Give both latitude and longitude, or neither.")

    def fill_from(self, centre) -> None:
        for name in self.FIELDS:
            getattr(self, name).data = centre.network_codes if name == "networks" else getattr(centre, name)

    def proposed(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


class DecisionForm(FlaskForm):
    reason = TextAreaField("Reason (shown to the proposer)", filters=[line],
                           validators=[Optional(), Length(max=1000)])

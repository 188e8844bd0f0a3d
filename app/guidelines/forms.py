"""The form members use to add a guideline from another publisher (metadata and link only)."""
from datetime import date

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.directory.forms import WebLink, choices_of, line, trimmed
from app.guidelines.models import LANGUAGES


class GuidelineForm(FlaskForm):
    publisher = StringField("Publisher", filters=[line], validators=[DataRequired(), Length(max=120)])
    title = StringField("Title", filters=[line], validators=[DataRequired(), Length(max=500)])
    tumour_type = StringField("Tumour type or topic", filters=[line],
                              validators=[DataRequired(), Length(max=300)])
    version = StringField("Version", filters=[line], validators=[Optional(), Length(max=40)])
    year = IntegerField("Year", validators=[Optional(), NumberRange(1980, date.today().year + 1)])
    language = SelectField("Language", choices=choices_of(LANGUAGES), default="en")
    url = StringField("Link to the publisher's page", filters=[trimmed],
                      validators=[DataRequired(), Length(max=1000), WebLink()])

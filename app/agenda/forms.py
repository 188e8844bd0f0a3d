"""The event form. Its validators only mirror the limits for early feedback; the service is the
judge (times, URL, centre, visibility), and its errors are shown next to the same fields."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import DateField, TimeField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.agenda.services import (CITY_MAX, DESCRIPTION_MAX, KIND_LABELS, LOCATION_MAX, TITLE_MAX, URL_MAX, EventInput,
                                 zone_names)
from app.core.countries import COUNTRIES
from app.media.forms import picture_choices

TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
DEFAULT_ZONE = "Europe/Brussels"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class EventForm(FlaskForm):
    title = StringField(_l("Title"), filters=[_strip], validators=[DataRequired(message=_l("Please enter a title.")),
                                                                    Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX})
    kind = SelectField(_l("Kind of event"), default="conference",
                       choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)],
                                render_kw={"rows": 10})
    all_day = BooleanField(_l("All-day event (no start or end time)"))
    start_date = DateField(_l("Start date"), validators=[InputRequired(message=_l("Please give the date the event starts."))])
    start_time = TimeField(_l("Start time"), format=TIME_FORMATS, validators=[Optional()])
    end_date = DateField(_l("End date"), validators=[Optional()])
    end_time = TimeField(_l("End time"), format=TIME_FORMATS, validators=[Optional()])
    timezone = SelectField(_l("Time zone of these times"), default=DEFAULT_ZONE)
    location = StringField(_l("Venue and address"), filters=[_strip], validators=[Optional(), Length(max=LOCATION_MAX)],
                           render_kw={"maxlength": LOCATION_MAX})
    city = StringField(_l("City"), filters=[_strip], validators=[Optional(), Length(max=CITY_MAX)],
                       render_kw={"maxlength": CITY_MAX})
    country = SelectField(_l("Country"), filters=[_upper],
                          choices=[SelectChoice("", _l("Not given (online, or Europe-wide)"))]
                          + [SelectChoice(code, name) for code, name in COUNTRIES.items()])
    online_url = URLField(_l("Link to join online"), filters=[_strip], validators=[Optional(), Length(max=URL_MAX)])
    centre = StringField(_l("Hosting cancer centre"), filters=[_strip], validators=[Optional(), Length(max=600)])
    # The organiser's own files (app/media); choices are filled in by the route.
    cover = SelectField(_l("Cover image"), choices=[], validate_choice=False, default="")
    programme = SelectField(_l("Programme (PDF)"), choices=[], validate_choice=False, default="")
    visibility = RadioField(_l("Who can see it"), default="public", choices=[
        SelectChoice("public", _l("Everyone, including visitors who are not signed in")),
        SelectChoice("members", _l("Signed-in members of Oncollab only")),
    ])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [SelectChoice(z, z.replace("_", " ")) for z in zone_names()]

    def to_input(self, centre_id=None) -> EventInput:
        return EventInput(
            title=self.title.data or "", description=self.description.data or "", kind=self.kind.data,
            all_day=bool(self.all_day.data), start_date=self.start_date.data, start_time=self.start_time.data,
            end_date=self.end_date.data, end_time=self.end_time.data, timezone=self.timezone.data or "UTC",
            location=self.location.data or "", city=self.city.data or "", country=self.country.data or None,
            online_url=self.online_url.data or "", centre_id=centre_id, visibility=self.visibility.data,
            cover_id=_id(self.cover.data), programme_id=_id(self.programme.data))

    def offer_files(self, owner_id: int) -> None:
        """The organiser's described images and PDFs, for the cover and programme selects."""
        self.cover.choices = picture_choices(owner_id, "image")
        self.programme.choices = picture_choices(owner_id, "document")


def _id(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


class DeleteForm(FlaskForm):
    """A POST with only a CSRF token, behind a confirmation page."""


class RsvpForm(FlaskForm):
    state = RadioField(_l("Your answer"), choices=[
        SelectChoice("going", _l("Going")), SelectChoice("interested", _l("Interested")),
        SelectChoice("none", _l("Not going"))], validators=[InputRequired()])

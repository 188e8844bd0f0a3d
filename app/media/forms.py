"""Forms of the media pages (the no-JavaScript path; the composer uses the JSON API)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.media.models import LICENCES
from app.media.services import ALT_MAX, DESCRIPTION_MAX, TITLE_MAX, pictures_of

LICENCE_CHOICES = [SelectChoice(key, label) for key, label in LICENCES.items()]


def picture_choices(owner_id: int, kind: str = "image") -> list[SelectChoice]:
    """A cover, programme or picture select: the owner's showable files ("" is none)."""
    return [SelectChoice("", _("None"))] + [SelectChoice(str(m.id), m.label) for m in pictures_of(owner_id, kind)]


class UploadForm(FlaskForm):
    files = MultipleFileField(_l("Files"))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=TITLE_MAX)])
    alt = StringField(_l("Alt text (describes an image to people who cannot see it)"),
                      validators=[Optional(), Length(max=ALT_MAX)])
    licence = SelectField(_l("Licence"), choices=LICENCE_CHOICES, default="all-rights-reserved")
    album = SelectField(_l("Album"), choices=[], validate_choice=False)
    group = SelectField(_l("Share with a group"), choices=[], validate_choice=False)


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Length(max=TITLE_MAX)])
    alt = StringField(_l("Alt text"), validators=[Optional(), Length(max=ALT_MAX)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    licence = SelectField(_l("Licence"), choices=LICENCE_CHOICES)
    album = SelectField(_l("Album"), choices=[], validate_choice=False)
    group = SelectField(_l("Shared with"), choices=[], validate_choice=False)


class AlbumForm(FlaskForm):
    title = StringField(_l("Album title"), validators=[Length(max=TITLE_MAX)])


class ConfirmForm(FlaskForm):
    pass

"""Forms give people labels, hints and field errors; the services stay the judge of what is valid
(the API has no forms), so these validators only mirror the limits for early feedback."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.core.text import BODY_MAX, TITLE_MAX
from app.forum.services import DESCRIPTION_MAX, NAME_MAX

BODY_HINT = _l("Markdown works: **bold**, *italic*, > quote, - lists. Mention someone with @[Their Name]. "
               "Please do not share anyone's contact details.")


class TopicForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)], render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=BODY_MAX)], render_kw={"rows": 10})


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), validators=[DataRequired(), Length(max=BODY_MAX)], render_kw={"rows": 8})
    quote_of = HiddenField()


class EditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[Optional(), Length(max=TITLE_MAX)], render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=BODY_MAX)], render_kw={"rows": 12})


class CategoryForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)], render_kw={"maxlength": NAME_MAX})
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)], render_kw={"rows": 3})
    position = IntegerField(_l("Position"), default=0, validators=[Optional(), NumberRange(min=0, max=10_000)])


class MoveForm(FlaskForm):
    destination = SelectField(_l("Move to"), validators=[DataRequired()])
    confirm = BooleanField(_l("I understand that people who could not read this topic before will be able to read it"))


class WatchForm(FlaskForm):
    level = RadioField(_l("Notifications"), choices=[
        SelectChoice("watching", _l("Watching: tell me about every new reply")),
        SelectChoice("normal", _l("Normal: tell me only when someone mentions or quotes me")),
        SelectChoice("muted", _l("Muted: never notify me, and hide it from latest lists")),
    ], default="normal", validators=[DataRequired()])

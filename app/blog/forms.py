"""Forms give labels, hints and field errors; the services stay the judge of what is valid."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.core.text import BODY_MAX, TITLE_MAX

VISIBILITY_LABELS = {
    "public": _l("Everyone, including visitors who are not signed in"),
    "members": _l("Signed-in members only"),
    "private": _l("Only me: keep it as a draft"),
}


class BlogPostForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=TITLE_MAX)],
                        render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(_l("Your post"), validators=[DataRequired(), Length(max=BODY_MAX)], render_kw={"rows": 16})
    visibility = RadioField(_l("Who can read it"), validators=[DataRequired()], default="private")
    # Choices are the author's own described images (app/media), filled in by the route.
    cover = SelectField(_l("Cover image"), choices=[], validate_choice=False, default="")

    def __init__(self, *args, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        if group is None:
            self.visibility.choices = [(key, label) for key, label in VISIBILITY_LABELS.items()]
        else:
            everyone = group.kind == "open"
            self.visibility.choices = [
                ("group", _l("Everyone: this group is open") if everyone
                 else _l("Members of %(name)s only", name=group.name)),
                ("private", VISIBILITY_LABELS["private"]),
            ]


class ConfirmForm(FlaskForm):
    """A delete button: the CSRF token is the whole form."""

"""Rendering what a member wrote: the one call every writing place uses to turn Markdown into
stored HTML. Embeds resolve only the *author's own* media (a reference to someone else's file
shows "[file removed]", so nobody can widen the audience of a photo they do not own); ``@[Name]``
mentions become links to the profile when the name is unambiguous."""
from flask_babel import gettext as _
from markupsafe import Markup

from app.accounts.mentions import resolve_mentions
from app.core.errors import ServiceError
from app.media.embeds import lookup, missing_alt
from app.sanitize import render_markdown


def render_for(author_id: int | None, source: str, *, strict: bool = True) -> Markup:
    """Markdown -> sanitised HTML for a body written by ``author_id``. ``strict`` (writing, not
    re-rendering) refuses images that nobody described yet."""
    embeds = lookup(source, author_id)
    if strict:
        undescribed = missing_alt(source, embeds)
        if undescribed:
            raise ServiceError(_("Describe the image %(name)s before publishing it: write the description between "
                                 "the brackets, ![like this](…), or add alt text in My media.",
                                 name="“" + undescribed[0] + "”"), "body")
    mentions = {user.display_name.casefold(): f"/people/{user.id}" for user in resolve_mentions(source)}
    return render_markdown(source, embeds=embeds, mentions=mentions)

"""Jinja helpers and the locale choice: one place for what every template may call."""
from datetime import datetime

from flask import Flask, current_app, g, request
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import policy
from app.core.text import initials


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.language in languages:
        return current_user.language
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _format_date(value: datetime | None, fmt: str = "%d %b %Y") -> str:
    return value.strftime(fmt) if value else ""


def _format_datetime(value: datetime | None) -> str:
    return value.strftime("%d %b %Y, %H:%M UTC") if value else ""


def _translations():
    found = g.get("oncollab_translations")
    if found is None:
        found = g.oncollab_translations = get_translations()
    return found


def register(app: Flask) -> None:
    app.jinja_env.filters["date"] = _format_date
    app.jinja_env.filters["datetime"] = _format_datetime
    app.jinja_env.filters["initials"] = initials  # avatars without a picture
    app.jinja_env.trim_blocks = True
    # Templates ask the policy about the object they show; they never compute rights themselves.
    app.add_template_global(lambda obj: policy.can_edit(current_user, obj), "can_edit")
    app.add_template_global(lambda obj: policy.can_remove(current_user, obj), "can_remove")
    app.jinja_env.lstrip_blocks = True
    # Flask-Babel's callables look the request's locale and catalogue up again on every call, and
    # a topic page makes over a hundred calls: a fifth of its time. The catalogue is looked up
    # once per request here (one request has one locale; code that renders in another locale
    # with flask_babel.force_locale must drop g.oncollab_translations first: nothing does yet).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)

    @app.context_processor
    def _globals():
        return {"site_name": app.config["SITE_NAME"], "nav_sections": NAV}


NAV = (("groups.directory", _l("Groups")), ("forum.index", _l("Forum")), ("blog.index", _l("Blogs")),
       ("directory.index", _l("Centres")), ("trials.index", _l("Trials")), ("guidelines.index", _l("Guidelines")),
       ("agenda.index", _l("Events")), ("search.search", _l("Search")))

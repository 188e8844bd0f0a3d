"""Jinja helpers and the locale choice: one place for what every template may call."""
from datetime import datetime

from flask import Flask, g, request
from flask_login import current_user


def select_locale() -> str:
    from flask import current_app
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
        from flask_babel import get_translations
        found = g.oncollab_translations = get_translations()
    return found


def register(app: Flask) -> None:
    app.jinja_env.filters["date"] = _format_date
    app.jinja_env.filters["datetime"] = _format_datetime
    app.jinja_env.trim_blocks = True
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
        return {"site_name": app.config["SITE_NAME"], "nav_sections": _nav(app)}


def _nav(app: Flask) -> list[tuple[str, str]]:
    from flask_babel import gettext as _
    items = []
    for endpoint, label in (
        ("groups.directory", "Groups"),
        ("forum.index", "Forum"),
        ("blog.index", "Blogs"),
        ("directory.index", "Centres"),
        ("trials.index", "Trials"),
        ("guidelines.index", "Guidelines"),
        ("agenda.index", "Events"),
        ("search.search", "Search"),
    ):
        if endpoint in app.view_functions:
            items.append((endpoint, _(label)))
    return items

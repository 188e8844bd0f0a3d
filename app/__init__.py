"""Oncollab: a community hub for Europe's cancer community."""
import os

from flask import Flask

from config import BASE_DIR, load_config


def create_app(config=None, **overrides) -> Flask:
    """Build an app; tests pass TestConfig and per-test paths, servers use the environment."""
    settings = load_config(config, overrides)
    app = Flask(__name__, instance_path=settings["INSTANCE_DIR"])
    app.config.from_mapping(settings)
    _prepare_dirs(app)

    # The package imports its own modules here, not at the top: importing any app module runs
    # this file first, and nothing may load at import time (DESIGN 2).
    from app import (accounts, agenda, blog, chat, cli, composer, db_setup, directory, errors, forum, groups,
                     guidelines, mail, main, media, notifications, realtime, search, security, templating, trials)
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

    db_setup.register(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=templating.select_locale)
    login_manager.init_app(app)
    security.register(app)
    errors.register(app)
    templating.register(app)
    mail.register(app)
    cli.register(app)
    for feature in (main, accounts, groups, media, composer, forum, blog, agenda, notifications, chat, directory, trials,
                    guidelines, search):
        feature.init_app(app)
    # After the features: Flask-SocketIO gives a new server only the handlers imported before it.
    realtime.init_app(app)  # Socket.IO: same-origin only, message queue from config
    return app


def _migrations_dir():
    return BASE_DIR / "migrations"


def _prepare_dirs(app: Flask) -> None:
    for key in ("UPLOAD_DIR", "OUTBOX_DIR", "SEARCH_INDEX_DIR"):
        os.makedirs(app.config[key], exist_ok=True)

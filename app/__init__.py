"""Oncollab: a community hub for Europe's cancer community."""
from flask import Flask

from config import load_config


def create_app(config=None, **overrides) -> Flask:
    """Build an app; tests pass TestConfig and per-test paths, servers use the environment."""
    settings = load_config(config, overrides)
    app = Flask(__name__, instance_path=settings["INSTANCE_DIR"])
    app.config.from_mapping(settings)
    _prepare_dirs(app)

    from app import cli, db_setup, errors, mail, security, templating
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
    _register_blueprints(app)
    from app import realtime
    realtime.init_app(app)  # Socket.IO: same-origin only, message queue from config
    return app


def _register_blueprints(app: Flask) -> None:
    from app.accounts import bp as accounts_bp
    from app.agenda import bp as agenda_bp
    from app.blog import bp as blog_bp
    from app.chat import bp as chat_bp
    from app.directory import bp as directory_bp
    from app.forum import bp as forum_bp
    from app.groups import bp as groups_bp
    from app.guidelines import bp as guidelines_bp
    from app.main import bp as main_bp
    from app.notifications import bp as notifications_bp
    from app.trials import bp as trials_bp
    from app import search

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(groups_bp)
    app.register_blueprint(forum_bp)
    app.register_blueprint(blog_bp)
    app.register_blueprint(agenda_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(chat_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(trials_bp)
    app.register_blueprint(guidelines_bp)
    app.register_blueprint(search.bp)
    search.init_app(app)  # the session hooks that keep the index in step with commits


def _migrations_dir():
    from config import BASE_DIR
    return BASE_DIR / "migrations"


def _prepare_dirs(app: Flask) -> None:
    import os
    for key in ("UPLOAD_DIR", "OUTBOX_DIR", "SEARCH_INDEX_DIR"):
        os.makedirs(app.config[key], exist_ok=True)

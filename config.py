"""Settings for the three ways Oncollab runs: embedded (default), tests, and scale-out.

Every setting can be overridden by an environment variable named ``ONCOLLAB_<SETTING>``
(e.g. ``ONCOLLAB_DATABASE_URL``), so operators never edit this file.
"""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _secret_key(instance_dir: Path) -> str:
    """A key generated once per installation, so sessions survive restarts without a default secret."""
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    SITE_NAME = "Oncollab"
    INSTANCE_DIR = str(BASE_DIR / "instance")
    # None below means "inside INSTANCE_DIR", resolved in load_config.
    SECRET_KEY = None  # generated once into the instance directory when not given
    DATABASE_URL = None  # SQLite file instance/oncollab.db
    SEARCH_INDEX_DIR = str(BASE_DIR / "search_index")
    SEARCH_ENABLED = True  # False: commits do not touch the index (rebuild later)
    # Who drains the search outbox (app/search/writer.py): "auto" = an RQ worker when
    # JOBS_REDIS_URL is set, else a background thread of each serving process; "thread";
    # "rq"; "sync" (the committing thread drains before commit() returns: tests); "manual"
    # (nobody here: `flask search drain` or another process does).
    SEARCH_WRITER = "auto"
    SEARCH_WRITER_POLL = 1.0  # seconds between outbox polls (rows written by other processes)
    SEARCH_QUEUE = "oncollab-search"  # the RQ queue of drain jobs: serve it with one worker
    UPLOAD_DIR = None  # instance/uploads
    OUTBOX_DIR = None  # instance/outbox
    SOCKETIO_MESSAGE_QUEUE = None  # e.g. redis://127.0.0.1:6379/0: processes share rooms through it
    SOCKETIO_CHANNEL = "oncollab-socketio"  # pub/sub channel (and key prefix) on that queue
    SOCKETIO_ASYNC_MODE = "auto"  # gevent when the server monkey-patched (gunicorn -k gevent), else threading
    SOCKETIO_TRANSPORTS = ["websocket"]  # no long-polling: no sticky sessions behind a balancer
    SOCKETIO_MAX_BUFFER = 256 * 1024  # bytes in one socket message (a 50,000-character post fits)
    SOCKETIO_RATELIMIT = "10 per 10 seconds"  # replies and chat messages sent over a socket, per account
    SOCKETIO_JOIN_RATELIMIT = "30 per 10 seconds"  # room joins per connection
    CHAT_MESSAGE_MAX = 5000
    # Links in e-mails are built from this, never from the request's Host header.
    PUBLIC_URL = "http://127.0.0.1:5000"

    MAIL_SERVER = None  # SMTP host; when unset, mail is written as .eml files to OUTBOX_DIR
    MAIL_PORT = 587
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = True
    MAIL_SENDER = "Oncollab <no-reply@oncollab.local>"

    # Jobs (app/jobs.py: mail delivery, search drains): RQ on this Redis when set, otherwise
    # in-process, on a small thread pool or, with JOBS_INLINE, in the calling thread.
    JOBS_REDIS_URL = None
    JOBS_QUEUE = "oncollab"
    JOBS_INLINE = False

    MAX_CONTENT_LENGTH = 10 * 1024 * 1024  # every request but uploads
    # The media library (app/media): one file at most MEDIA_MAX_BYTES; images at most
    # MEDIA_MAX_PIXELS (checked from the header, before decoding: a 50-megapixel bomb is refused);
    # animations keep their frames up to MEDIA_MAX_ANIMATION_PIXELS in all, else become a still.
    MEDIA_MAX_BYTES = 50 * 1024 * 1024
    MEDIA_MAX_PIXELS = 40_000_000
    MEDIA_MAX_ANIMATION_PIXELS = 100_000_000
    MEDIA_QUOTA_BYTES = 1024 * 1024 * 1024  # per member
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = 30 * 24 * 3600
    PERMANENT_SESSION_LIFETIME = 14 * 24 * 3600
    SESSION_IDLE_TIMEOUT = 14 * 24 * 3600
    TOKEN_MAX_AGE = 24 * 3600  # e-mail confirmation and change links
    RESET_TOKEN_MAX_AGE = 3600  # password reset links
    WTF_CSRF_TIME_LIMIT = None  # a token lives as long as the session
    TERMS_VERSION = "2026-11"

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_LOGIN = "10 per minute"
    RATELIMIT_LOGIN_ACCOUNT = "5 per minute"
    RATELIMIT_REGISTER = "5 per hour"
    RATELIMIT_RESET = "5 per hour"
    RATELIMIT_POSTING = "20 per minute"  # forum topics and replies, per account
    RATELIMIT_COMPOSER = "120 per minute"  # draft autosaves and previews, per account and route
    RATELIMIT_ASSISTANT = "60 per minute"  # posting-assistant checks (a script checks after a pause in typing)

    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ["en"]
    DEBUG = False
    TESTING = False


class TestConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True  # tests send real tokens; a test can turn it off explicitly
    RATELIMIT_ENABLED = False
    PUBLIC_URL = "http://localhost"
    SEARCH_WRITER = "sync"  # a test searches right after it posts (tests/test_search_outbox.py runs the others)
    JOBS_INLINE = True  # mail is in the .eml outbox when the request returns


class ScaleOutConfig(Config):
    DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1/oncollab"
    SOCKETIO_MESSAGE_QUEUE = "redis://127.0.0.1:6379/0"
    RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/1"
    JOBS_REDIS_URL = "redis://127.0.0.1:6379/2"  # run `flask --app wsgi jobs worker` (one for search)


CONFIGS = {"default": Config, "test": TestConfig, "scaleout": ScaleOutConfig}


def _coerce(current, raw: str):
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def load_config(base=None, overrides: dict | None = None) -> dict:
    """Merge a config class, ONCOLLAB_* environment variables and explicit overrides (tests)."""
    if base is None:
        base = CONFIGS[os.environ.get("ONCOLLAB_CONFIG", "default")]
    values = {key: getattr(base, key) for key in dir(base) if key.isupper()}
    for key, raw in os.environ.items():
        if key.startswith("ONCOLLAB_") and key != "ONCOLLAB_CONFIG":
            name = key[len("ONCOLLAB_"):]
            values[name] = _coerce(values.get(name), raw)
    values.update(overrides or {})
    instance = Path(values["INSTANCE_DIR"])
    values["DATABASE_URL"] = values["DATABASE_URL"] or f"sqlite:///{instance / 'oncollab.db'}"
    values["UPLOAD_DIR"] = values["UPLOAD_DIR"] or str(instance / "uploads")
    values["OUTBOX_DIR"] = values["OUTBOX_DIR"] or str(instance / "outbox")
    values["SECRET_KEY"] = values["SECRET_KEY"] or _secret_key(instance)
    values["SQLALCHEMY_DATABASE_URI"] = values["DATABASE_URL"]
    return values

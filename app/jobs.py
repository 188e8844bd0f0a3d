"""Background jobs: slow or retryable work (mail delivery, search index drains) off the request.

``enqueue(func, *args, **kwargs)`` runs ``func`` with an app context of its own:

* on RQ, when ``JOBS_REDIS_URL`` is set (scale-out): ``flask --app wsgi jobs worker`` runs the
  jobs (a failed job stays in RQ's failed registry for a week);
* otherwise in-process (embedded): on a small pool of background threads, so a slow SMTP
  server never holds a request; or, with ``JOBS_INLINE`` (the tests' setting), right away in
  the calling thread, so a test reads the mail its request sent. In-process jobs die with
  their process: what must survive a crash is kept elsewhere (the search outbox).

``func`` must be importable by name (a module-level function) and its arguments picklable.
"""
from __future__ import annotations

import importlib
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import click
import redis
from flask import current_app, has_app_context
from flask.cli import AppGroup
from rq import Queue, SimpleWorker

log = logging.getLogger(__name__)
POOL_THREADS = 2
_pool: ThreadPoolExecutor | None = None
_pool_guard = threading.Lock()
_standalone = None

jobs_cli = AppGroup("jobs", help="Background jobs: the RQ worker of the scale-out set-up.")


def enqueue(func, *args, **kwargs) -> None:
    """Run ``func(*args, **kwargs)`` as a job on the default queue (``JOBS_QUEUE``)."""
    enqueue_to(None, func, args, kwargs)


def enqueue_to(queue: str | None, func, args=(), kwargs=None, *, timeout: int | None = None) -> None:
    """As ``enqueue``, on a named RQ queue; ``timeout`` in seconds (-1: none) for the RQ job."""
    app = current_app._get_current_object()
    kwargs = dict(kwargs or {})
    path = f"{func.__module__}:{func.__qualname__}"
    if app.config.get("JOBS_REDIS_URL"):
        Queue(queue or app.config["JOBS_QUEUE"], connection=redis_for(app)).enqueue_call(
            run, args=(path, list(args), kwargs), timeout=timeout, result_ttl=0,
            failure_ttl=7 * 24 * 3600, description=path)
    elif app.config.get("JOBS_INLINE"):
        func(*args, **kwargs)
    else:
        _executor().submit(_in_context, app, path, args, kwargs)


def redis_for(app):
    """One Redis client (and its connection pool) per app."""
    client = app.extensions.get("jobs_redis")
    if client is None:
        client = app.extensions.setdefault("jobs_redis", redis.Redis.from_url(app.config["JOBS_REDIS_URL"]))
    return client


def on_worker_start(app, hook) -> None:
    """Run ``hook(app, queue_names)`` when `flask jobs worker` starts (search: its outbox poll)."""
    hooks = app.extensions.setdefault("jobs_worker_hooks", [])
    if hook not in hooks:
        hooks.append(hook)


def _resolve(path: str):
    module, _, name = path.partition(":")
    target = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


def run(path: str, args, kwargs):
    """What RQ executes: the job in an app context of its own (a fresh database session)."""
    global _standalone
    if has_app_context():
        app = current_app._get_current_object()
    else:
        if _standalone is None:
            # A plain `rq worker` (not `flask jobs worker`) has no app: the servers' entry point builds it.
            _standalone = importlib.import_module("wsgi").app
        app = _standalone
    with app.app_context():
        return _resolve(path)(*args, **kwargs)


def _in_context(app, path: str, args, kwargs) -> None:
    try:
        with app.app_context():
            _resolve(path)(*args, **kwargs)
    except Exception:
        log.exception("job %s failed", path)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_guard:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="jobs")
        return _pool


@jobs_cli.command("worker")
@click.option("--queue", "queues", multiple=True,
              help="Queue to serve (repeatable); default: SEARCH_QUEUE then JOBS_QUEUE.")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
def worker_cmd(queues, burst: bool) -> None:
    """Run jobs from Redis. Serve SEARCH_QUEUE with exactly one worker: it is the index writer
    (and it also polls the search outbox every SEARCH_WRITER_POLL seconds)."""
    app = current_app._get_current_object()
    if not app.config.get("JOBS_REDIS_URL"):
        raise click.ClickException("JOBS_REDIS_URL is not set: jobs run inside the server processes")
    conn = redis_for(app)
    names = list(queues) or [app.config["SEARCH_QUEUE"], app.config["JOBS_QUEUE"]]
    for hook in app.extensions.get("jobs_worker_hooks", ()):
        hook(app, names)
    click.echo(f"jobs worker on {', '.join(names)}", err=True)
    # SimpleWorker runs each job in this process (no fork per job): the app, its engine and the
    # index's caches are built once.
    SimpleWorker([Queue(name, connection=conn) for name in names], connection=conn).work(
        burst=burst, logging_level="WARNING")

"""Whole search pages per second (HTML: 20 hits with snippets and the six trial facets) at
10,000 trials, served by gunicorn (2 sync workers) on 127.0.0.1 and loaded with wrk.

    .venv/bin/python -m bench.search_pages --trials 10000 --seconds 5

Seeds a throw-away SQLite installation with synthetic trials from bench/search_bench.py's
generator (the real records as templates), rebuilds the index with the app's own command, and
prints req/s for a few queries next to a bare Flask "hello" served the same way.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.pages import PY, ROOT, free_port, serve, wait_for, wrk

PATHS = ["/search/trials?q=lung", "/search/trials?q=osimertinib", "/search/trials?q=cancer&status=RECRUITING",
         "/search?q=nsclc", "/api/search?q=lung+cancer&type=trial"]


def seed(n: int, sites_per_trial: int | None = 3) -> float:
    """Runs in a subprocess with the instance's environment (``sites_per_trial=None``: every
    site). Returns the rebuild's seconds."""
    from sqlalchemy import insert
    from app import create_app
    from app.extensions import db
    from app.search.indexer import rebuild
    from app.trials.models import Trial, TrialSite
    from bench.search_bench import corpus
    app = create_app()
    with app.app_context():
        db.create_all()
        trials, sites = [], []
        for f in corpus(n):
            trials.append(dict(id=f["id"], nct_id=f["nct_id"], brief_title=f["brief_title"], status=f["status"],
                               phases=f["phases"], conditions=f["conditions"], conditions_text="; ".join(f["conditions"]),
                               keywords=f["keywords"], interventions=f["interventions"], brief_summary=f["brief_summary"],
                               std_ages=f["std_ages"], sponsor=f["sponsor"], raw={}))
            sites += [dict(trial_id=f["id"], position=k, city=s["city"], country=s["country"],
                           country_code=s["country_code"]) for k, s in enumerate(f["sites"][:sites_per_trial])]
        db.session.execute(insert(Trial), trials)
        db.session.execute(insert(TrialSite), sites)
        db.session.commit()
        start = time.perf_counter()
        print("indexed", rebuild(app.config["SEARCH_INDEX_DIR"]))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.trials)
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it with apt)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ONCOLLAB_INSTANCE_DIR": tmp, "ONCOLLAB_SEARCH_INDEX_DIR": str(Path(tmp) / "index"),
               "ONCOLLAB_RATELIMIT_ENABLED": "false"}
        subprocess.run([PY, "-m", "bench.search_pages", "--seed-only", "--trials", str(args.trials)],
                       cwd=ROOT, env=env, check=True)
        hello_port, app_port = free_port(), free_port()
        servers = [serve("bench.hello_app:app", hello_port, env), serve("wsgi:app", app_port, env)]
        try:
            wait_for(hello_port), wait_for(app_port)
            base = f"http://127.0.0.1:{app_port}"
            for path in PATHS:  # warm every worker's searcher and caches
                subprocess.run(["wrk", "-t1", "-c2", "-d1s", base + path], capture_output=True)
            hello = wrk(f"http://127.0.0.1:{hello_port}/hello", args.seconds)
            print(f"{'page (' + str(args.trials) + ' trials)':48} {'req/s':>9} {'ratio':>7}")
            print(f"{'/hello (bare Flask)':48} {hello:9.1f} {1:7.3f}")
            for path in PATHS:
                rps = wrk(base + path, args.seconds)
                print(f"{path:48} {rps:9.1f} {rps / hello:7.3f}")
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=10)


if __name__ == "__main__":
    main()

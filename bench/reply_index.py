"""Posting replies under load: request latency, and the lag from commit to searchable.

    .venv/bin/python -m bench.reply_index                      # 20 posters, 20 s, gunicorn -k gevent x2
    .venv/bin/python -m bench.reply_index --workers 1 --seconds 10
    .venv/bin/python -m bench.reply_index --scaleout           # + `flask jobs worker` on Redis (RQ)

Builds a throw-away SQLite installation (migrated; 20 confirmed members, a forum topic, 300
replies, the index rebuilt), serves it with gunicorn on 127.0.0.1 (gevent workers, as `make run`
does), and runs 20 posting threads, each with its own signed-in session, posting replies back to
back through the reply form for a bounded time. Each reply carries a unique word; a watcher in
this process reopens the live index every 10 ms and notes when each word becomes searchable.

Columns: `latency` = POST round trip (the reply is committed before the answer); `lag` = from
the answer until the reply is in the index (0 when the request itself wrote the index; the
watcher's 10 ms period is the resolution); `lost` = replies not searchable 15 s after the run.
    .venv/bin/python -m bench.reply_index --baseline /tmp/before   # the same load on another checkout

With ``--baseline DIR`` (e.g. ``git worktree add /tmp/before <commit>``) both checkouts are measured
in the same run, alternately (baseline, this one, baseline, this one: ``--rounds``), and the
figures are reported as ratios of this checkout over the baseline, since this machine's speed
drifts between runs. The baseline needs only the HTTP interface and ``app.search.schema``.
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.pages import free_port, wait_for

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REDIS = os.environ.get("ONCOLLAB_BENCH_REDIS", "redis://127.0.0.1:6379/2")


def seed(posters: int, replies: int) -> None:
    """Run in a subprocess (``--seed``): users, a topic, replies; prints TOPIC= and COOKIE= lines."""
    from app.accounts.models import UserSession
    from app.accounts.services import create_user
    from app.extensions import db
    from app.forum.services import create_category, create_reply, create_topic
    from wsgi import app
    with app.app_context():
        users = [create_user(email=f"poster{n}@example.org", display_name=f"Poster {n}", password="x" * 16,
                             role="patient", confirmed=True) for n in range(posters)]
        category = create_category(name="Bench")
        topic = create_topic(users[0], title="Bench: replies under load", body="Opening post.", category=category)
        for n in range(replies):
            create_reply(topic, users[n % posters], body=f"Seed reply {n} about lung cancer screening.")
        serializer = app.session_interface.get_signing_serializer(app)
        print(f"TOPIC={topic.id}")
        for user in users:
            row = UserSession(user_id=user.id, user_agent="bench")
            db.session.add(row)
            db.session.commit()
            print(f"COOKIE={serializer.dumps({'_user_id': row.token, '_fresh': True})}")


def prepare(root: Path, instance: Path, posters: int, replies: int) -> tuple[dict, int, list[str]]:
    env = {**os.environ, "ONCOLLAB_INSTANCE_DIR": str(instance), "ONCOLLAB_SEARCH_INDEX_DIR": str(instance / "index"),
           "ONCOLLAB_RATELIMIT_ENABLED": "false", "ONCOLLAB_SECRET_KEY": "bench-secret"}
    flask = [PY, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=root, env=env, check=True, capture_output=True)
    # The seeding code is this file's, run against ``root``'s app (its directory comes first on sys.path).
    seeder = (f"import runpy, sys; sys.argv = ['reply_index', '--seed', '{posters}', '--seed-replies', '{replies}']; "
              f"runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')")
    out = subprocess.run([PY, "-c", seeder], cwd=root, env={**env, "ONCOLLAB_SEARCH_ENABLED": "false"}, check=True,
                         capture_output=True, text=True).stdout
    subprocess.run(flask + ["search", "rebuild"], cwd=root, env=env, check=True, capture_output=True)
    topic = int(re.search(r"TOPIC=(\d+)", out).group(1))
    return env, topic, re.findall(r"COOKIE=(\S+)", out)


def indexed_word(word: str) -> str:
    from app.search.schema import ANALYZER
    return [t.text for t in ANALYZER(word, mode="index")][0]


class Watcher(threading.Thread):
    """Notes when each posted word is first in the live index (reopened every 10 ms)."""

    def __init__(self, base: str):
        super().__init__(daemon=True)
        self.base, self.waiting, self.seen = base, {}, {}
        self.guard, self.stopping = threading.Lock(), threading.Event()

    def expect(self, word: str) -> None:
        with self.guard:
            self.waiting[indexed_word(word)] = word

    def run(self) -> None:
        from app.search.schema import open_index
        searcher = None
        while not self.stopping.is_set():
            try:
                if searcher is None:
                    ix = open_index(self.base)
                    searcher = ix.searcher() if ix is not None else None
                elif not searcher.up_to_date():
                    searcher = searcher.refresh()
            except Exception:  # swapped or being written: try again next tick
                searcher = None
            if searcher is not None:
                with self.guard:
                    words = list(self.waiting.items())
                now = time.perf_counter()
                try:
                    reader = searcher.reader()
                    found = [(term, word) for term, word in words if reader.doc_frequency("body", term)]
                except Exception:  # a segment merged away under this reader: reopen next tick
                    searcher, found = None, []
                with self.guard:
                    for term, word in found:
                        self.seen[word] = now
                        self.waiting.pop(term, None)
            time.sleep(0.01)


def post_loop(base: str, topic: int, cookie: str, n: int, until: float, watcher: Watcher, results: list, errors: list):
    import requests
    session = requests.Session()
    session.cookies.set("session", cookie, domain="127.0.0.1", path="/")
    token = CSRF.search(session.get(f"{base}/t/{topic}").text).group(1)
    i = 0
    while time.perf_counter() < until:
        word = f"zq{n:02d}x{i:05d}"
        watcher.expect(word)
        start = time.perf_counter()
        response = session.post(f"{base}/t/{topic}/reply", data={"body": f"Bench reply {word}", "csrf_token": token},
                                allow_redirects=False)
        done = time.perf_counter()
        if response.status_code != 302:
            errors.append(response.status_code)
            continue
        results.append((word, done - start, done))
        i += 1


def pct(values, q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def run(args, root: Path = ROOT) -> dict:
    """One measurement of the checkout at ``root``; prints it and returns its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        env, topic, cookies = prepare(root, Path(tmp), args.posters, args.seed_replies)
        extra = []
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        if args.scaleout:
            env.update(ONCOLLAB_JOBS_REDIS_URL=REDIS, ONCOLLAB_SEARCH_QUEUE=f"{prefix}-search",
                       ONCOLLAB_JOBS_QUEUE=f"{prefix}-jobs", RQ_KEY_PREFIX=prefix)
            extra.append(subprocess.Popen([PY, "-m", "flask", "--app", "wsgi", "jobs", "worker"], cwd=root, env=env,
                                          stderr=subprocess.DEVNULL, start_new_session=True))
        port = free_port()
        server = subprocess.Popen([str(Path(PY).parent / "gunicorn"), "-k", "gevent", "--worker-connections", "1000",
                                   "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}", "--log-level",
                                   "warning", "wsgi:app"], cwd=root, env=env, start_new_session=True)
        try:
            wait_for(port)
            base = f"http://127.0.0.1:{port}"
            watcher = Watcher(str(Path(tmp) / "index"))
            watcher.start()
            results, errors = [], []
            until = time.perf_counter() + args.seconds
            threads = [threading.Thread(target=post_loop, args=(base, topic, cookies[n % len(cookies)], n, until,
                                                                 watcher, results, errors))
                       for n in range(args.posters)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            deadline = time.perf_counter() + 15
            while time.perf_counter() < deadline and len(watcher.seen) < len(results):
                time.sleep(0.05)
            watcher.stopping.set()
            # The truth about "lost": the database and the index compared by the operators' command.
            check = subprocess.run([PY, "-m", "flask", "--app", "wsgi", "search", "check"], cwd=root, env=env,
                                   capture_output=True, text=True)
            missing = [w for w, _, _ in results if w not in watcher.seen]
            latency = [r[1] * 1000 for r in results]
            lag = [max(watcher.seen[w] - done, 0) * 1000 for w, _, done in results if w in watcher.seen]
            lost = len(results) - len(lag)
            mode = "scale-out (RQ worker)" if args.scaleout else "embedded"
            print(f"{root}: {mode}, gunicorn -k gevent x{args.workers}, {args.posters} posters, {args.seconds} s")
            print(f"replies {len(results)} ({len(results) / args.seconds:.1f}/s), errors {len(errors)}, lost {lost}"
                  f"{' ' + ', '.join(missing[:5]) if missing else ''}")
            print(f"search check: exit {check.returncode}; {check.stdout.strip().splitlines()[-1:] or check.stderr[-300:]}")
            if not results:
                raise SystemExit(f"no reply was accepted; answers: {sorted(set(errors))}")
            print(f"latency ms  p50 {pct(latency, 50):7.1f}  p95 {pct(latency, 95):7.1f}  p99 {pct(latency, 99):7.1f}"
                  f"  max {max(latency):7.1f}")
            if lag:
                print(f"lag ms      p50 {pct(lag, 50):7.1f}  p95 {pct(lag, 95):7.1f}  p99 {pct(lag, 99):7.1f}"
                      f"  max {max(lag):7.1f}  mean {statistics.mean(lag):.1f}")
            return {"rate": len(results) / args.seconds, "p50": pct(latency, 50), "p95": pct(latency, 95),
                    "lag95": pct(lag, 95), "lost": lost}
        finally:
            for process in [server, *extra]:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            if args.scaleout:
                import redis
                conn = redis.Redis.from_url(REDIS)
                for key in conn.scan_iter(f"{prefix}*"):
                    conn.delete(key)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--posters", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scaleout", action="store_true", help="drains on an RQ worker (Redis on 127.0.0.1)")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed-replies", type=int, default=300)
    parser.add_argument("--baseline", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--rounds", type=int, default=2, help="with --baseline: alternations of the two")
    args = parser.parse_args()
    if args.seed:
        seed(args.seed, args.seed_replies)
    elif args.baseline is None:
        run(args)
    else:
        compare(args)


def compare(args) -> None:
    """Baseline and this checkout alternately, then this one's figures over the baseline's."""
    runs = {"baseline": [], "this": []}
    for _round in range(args.rounds):
        runs["baseline"].append(run(args, args.baseline.resolve()))
        runs["this"].append(run(args, ROOT))
    med = {side: {k: statistics.median(r[k] for r in rows) for k in rows[0]} for side, rows in runs.items()}
    print(f"\nmedians of {args.rounds} rounds each; ratio = this checkout / baseline")
    for key, label in (("rate", "replies/s"), ("p50", "latency p50 ms"), ("p95", "latency p95 ms"),
                       ("lag95", "lag p95 ms")):
        b, t = med["baseline"][key], med["this"][key]
        ratio = f"{t / b:.2f}" if b else "n/a"
        print(f"{label:15} baseline {b:8.1f}   this {t:8.1f}   ratio {ratio}")
    print(f"lost            baseline {sum(r['lost'] for r in runs['baseline'])}   this {sum(r['lost'] for r in runs['this'])}")


if __name__ == "__main__":
    main()

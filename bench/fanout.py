"""Live fan-out: N readers in one group's live chat; how long from a post until every reader has
it, how many deliveries per second, and whether any was lost or duplicated.

    make bench            # pages, then this with the defaults
    .venv/bin/python -m bench.fanout --clients 100,500 --modes threading,gevent [--scaleout]

For each async mode it serves, with gunicorn on 127.0.0.1, (1) a bare Flask-SocketIO app that
only broadcasts (the baseline, same run) and (2) Oncollab itself on a seeded throw-away SQLite
installation: the full path, where every message is checked against the policy, sanitised,
stored and committed, then broadcast. One poster sends over the socket; readers are driven by
bench/socketio_clients.py (one thread, websocket only). Phases: a few warm-up messages, then
``--messages`` posted one at a time (latency: post -> all N readers have it, p50/p99, and each
single delivery), then a burst of ``--burst`` messages sent back to back (deliveries/s).
threading runs gunicorn's gthread worker with a thread per connection; gevent runs -k gevent.
``--scaleout`` adds gevent with 2 workers sharing a Redis queue (clients spread by the kernel).
"""
from __future__ import annotations

import argparse
import itertools
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.pages import free_port, wait_for
from bench.socketio_clients import Loop, connect_all

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
NO_ROWS = 2**31 - 1  # "after" for a join that wants no history


def seed(instance: Path, readers: int) -> tuple[int, str, list[str], dict]:
    """A closed group with one poster and ``readers`` members, each with a signed-in session.
    Rows are bulk-inserted (hashing 500 passwords would take longer than the benchmark)."""
    env = {"ONCOLLAB_INSTANCE_DIR": str(instance), "ONCOLLAB_SEARCH_INDEX_DIR": str(instance / "index"),
           "ONCOLLAB_RATELIMIT_ENABLED": "false"}
    os.environ.update(env)
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.accounts.models import User, UserSession
    from app.extensions import db
    from app.groups.models import Membership
    from app.groups.services import create_group
    from app.models_base import utcnow
    app = create_app()
    with app.app_context():
        db.create_all()
        password = generate_password_hash("bench passphrase, never used")
        people = [User(email=f"bench{n}@bench.invalid", display_name=f"Reader {n}", password_hash=password,
                       role="patient", terms_version=app.config["TERMS_VERSION"], email_confirmed_at=utcnow())
                  for n in range(readers + 1)]
        db.session.add_all(people)
        db.session.commit()
        poster = people[0]
        group = create_group(poster, name="Fan-out benchmark", kind="closed", description="bench")
        db.session.add_all(Membership(group_id=group.id, user_id=p.id, state="member", role="member") for p in people[1:])
        rows = [UserSession(user_id=p.id, user_agent="bench") for p in people]
        db.session.add_all(rows)
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        cookies = [f"session={serializer.dumps({'_user_id': row.token, '_fresh': True})}" for row in rows]
        return group.id, cookies[0], cookies[1:], env


def serve(target: str, mode: str, clients: int, env: dict, workers: int = 1) -> tuple[subprocess.Popen, int]:
    port = free_port()
    worker = ["-k", "gevent", "--worker-connections", "4000"] if mode == "gevent" else \
        ["-k", "gthread", "--threads", str(clients + 64)]
    cmd = [GUNICORN, *worker, "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
           "--graceful-timeout", "2", "--timeout", "120", target]
    server_env = {**os.environ, **env, "BENCH_ASYNC_MODE": mode, "ONCOLLAB_SOCKETIO_ASYNC_MODE": mode}
    process = subprocess.Popen(cmd, cwd=ROOT, env=server_env, start_new_session=True)
    wait_for(port)
    return process, port


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)] * 1000 if ordered else float("nan")


def measure(port: int, group_id: int, poster_cookie: str, cookies: list[str], messages: int, burst: int) -> dict:
    loop = Loop()
    join = ("join_chat", {"group": group_id, "after": NO_ROWS})
    readers = connect_all(loop, "127.0.0.1", port, cookies, join)
    poster = connect_all(loop, "127.0.0.1", port, [poster_cookie], join)[0]
    loop.run(lambda: False, 1.5)  # let presence announcements pass
    ids = itertools.count(1)
    sent: list[int] = []

    def post(text: str) -> int:
        ack = next(ids)
        poster.emit("chat", {"group": group_id, "body": text}, ack)
        return ack

    def acked(ack: int) -> int:
        if not loop.run(lambda: ack in poster.acks, 30) or not poster.acks[ack].get("ok"):
            raise RuntimeError(f"post not accepted: {poster.acks.get(ack)}")
        return poster.acks[ack]["seq"]

    for n in range(3):  # warm-up
        seq = acked(post(f"warm-up {n}"))
        sent.append(seq)
        loop.run(lambda: all(seq in r.arrival for r in readers), 10)
    everyone, single = [], []
    for n in range(messages):
        started = time.perf_counter()
        seq = acked(post(f"Message **{n}** from the poster, with a [link](https://example.org/{n})."))
        sent.append(seq)
        loop.run(lambda: all(seq in r.arrival for r in readers), 10)
        arrived = [r.arrival[seq] - started for r in readers if seq in r.arrival]
        if len(arrived) == len(readers):
            everyone.append(max(arrived))
        single.extend(arrived)
        loop.run(lambda: False, 0.02)
    started = time.perf_counter()
    acks = [post(f"Burst message {n}: *quick* succession.") for n in range(burst)]
    burst_seqs = [acked(a) for a in acks]
    sent.extend(burst_seqs)
    loop.run(lambda: all(all(s in r.arrival for s in burst_seqs) for r in readers), 60)
    last = max((r.arrival[s] for r in readers for s in burst_seqs if s in r.arrival), default=started)
    loop.run(lambda: False, 1.0)  # anything late or doubled shows up now
    lost = sum(1 for r in readers for s in sent if s not in r.seen)
    duplicated = sum(count - 1 for r in readers for s, count in r.seen.items() if s in sent)
    for conn in [*readers, poster]:
        conn.close()
    return {"p50": pct(everyone, .5), "p99": pct(everyone, .99), "single_p50": pct(single, .5),
            "single_p99": pct(single, .99), "rate": len(burst_seqs) * len(readers) / max(last - started, 1e-9),
            "lost": lost, "dup": duplicated, "expected": len(sent) * len(readers),
            "timeouts": messages - len(everyone)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="100,500")
    parser.add_argument("--modes", default="threading,gevent")
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--scaleout", action="store_true", help="also gevent, 2 workers, Redis queue")
    args = parser.parse_args()
    sizes = [int(n) for n in args.clients.split(",")]
    runs = [(mode, target) for mode in args.modes.split(",")
            for target in ([] if args.no_baseline else ["bench.bare_socketio_app:app"]) + ["wsgi:app"]]
    began = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        group_id, poster_cookie, cookies, env = seed(Path(tmp), max(sizes))
        print(f"{'server':10} {'mode':14} {'clients':>7} {'all p50':>8} {'all p99':>8} {'one p50':>8} "
              f"{'one p99':>8} {'deliv/s':>9} {'lost':>5} {'dup':>4}   (ms; 'all' = post -> every reader)")
        if args.scaleout:
            runs.append(("gevent+redis", "wsgi:app"))
        for (mode, target), size in itertools.product(runs, sizes):
            run_env, workers = dict(env), 1
            if mode == "gevent+redis":
                run_env.update(ONCOLLAB_SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:6379/0",
                               ONCOLLAB_SOCKETIO_CHANNEL=f"oncollab-bench-{uuid.uuid4().hex[:8]}")
                workers = 2
            process, port = serve(target, mode.split("+")[0], size, run_env, workers)
            try:
                r = measure(port, group_id, poster_cookie, cookies[:size], args.messages, args.burst)
            finally:
                stop(process)
            name = "bare" if target.startswith("bench") else "oncollab"
            label = mode + (f" x{workers}" if workers > 1 else "")
            print(f"{name:10} {label:14} {size:7d} {r['p50']:8.1f} {r['p99']:8.1f} {r['single_p50']:8.1f} "
                  f"{r['single_p99']:8.1f} {r['rate']:9.0f} {r['lost']:5d} {r['dup']:4d}"
                  + (f"  ({r['timeouts']} posts not fully delivered within 10 s)" if r["timeouts"] else ""), flush=True)
    print(f"total {time.time() - began:.0f} s; {args.messages} posts one at a time, then a burst of {args.burst}")


if __name__ == "__main__":
    main()

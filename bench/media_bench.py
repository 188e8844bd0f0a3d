"""Media: upload throughput, thumbnail time, the memory of re-encoding, and what pictures cost a page.

    .venv/bin/python -m bench.media_bench --seconds 5

Builds a throw-away SQLite installation (migrated, no demo data), serves it and a bare Flask
"hello" with gunicorn (2 sync workers each) on 127.0.0.1 only, and measures, each for a bounded
time and next to a baseline of the same run:

1. uploads/s of a 12-megapixel JPEG through ``POST /api/media`` (2 concurrent clients, signed in,
   CSRF header; thumbnails are made by the app's job pool as in production), next to the
   in-process ``inspect()`` (decode + re-encode) rate of the same file: the HTTP share;
2. the two thumbnails of that photo (``app.media.inspect.thumbnail``, small and large), ms each;
3. the peak memory of inspecting a 50-megapixel PNG (refused from its header) vs a 12-megapixel
   one (decoded and re-encoded): peak RSS growth and tracemalloc peak, each in a fresh process;
4. req/s of a blog post whose body embeds 5 images vs the same post without them, and of a topic
   whose 20 replies are by 20 people with avatars vs 20 people without (visitor), as ratios to
   each other and to hello. With wrk when installed, else a small keep-alive Python client (the
   ratios compare pages measured the same way).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.pages import PY, ROOT, free_port, serve, wait_for

SIDE_12MP = (4000, 3000)
SIDE_50MP = (7100, 7100)


def photo_12mp() -> bytes:
    """A 4000 x 3000 JPEG that compresses like a photo (gradients and grain), about 3-6 MB."""
    from PIL import Image
    width, height = SIDE_12MP
    red = Image.linear_gradient("L").resize((width, height))
    green = Image.effect_noise((width, height), 24)
    blue = Image.radial_gradient("L").resize((width, height))
    out = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(out, "JPEG", quality=90)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Seeding (run in a child process with the instance's environment)
# ---------------------------------------------------------------------------------------------

def seed() -> None:
    from PIL import Image

    from app.accounts.models import UserSession
    from app.blog.services import create_post
    from app.extensions import db
    from app.forum.services import create_category, create_reply, create_topic
    from app.media.services import set_avatar, upload
    from tests.factories import make_user
    from wsgi import app

    def picture(n: int, size=(1200, 800)) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", size, (40 * n % 255, 90, 160)).save(out, "JPEG", quality=85)
        return out.getvalue()

    with app.test_request_context():
        author = make_user(display_name="Bench author")
        images = [upload(author, f"figure-{n}.jpg", picture(n), alt=f"Figure {n}") for n in range(5)]
        text = "A report from the congress.\n\n" + "\n\n".join(f"Figure {n} shows the results." for n in range(5))
        with_images = create_post(author, title="Report with figures", visibility="public",
                                  body=text + "\n\n" + "\n\n".join(f"![Figure {m.id}](/media/{m.id})" for m in images))
        without = create_post(author, title="Report without figures", visibility="public", body=text)
        category = create_category(name="Bench media")
        topics = {}
        for label, avatars in (("with", True), ("without", False)):
            topic = create_topic(author, title=f"Twenty voices {label} avatars", body="Introduce yourselves.",
                                 category=category)
            for n in range(20):
                person = make_user(display_name=f"Voice {label} {n}")
                if avatars:
                    set_avatar(person, upload(person, f"face-{n}.jpg", picture(n, (400, 400)), alt=f"Voice {n}"))
                create_reply(topic, person, body=f"Hello, I am voice {n}.")
            topics[label] = topic.id
        session_row = UserSession(user=author, user_agent="bench")
        db.session.add(session_row)
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": session_row.token, "_fresh": True})
        print(json.dumps({
            "pages": {"post with 5 images": f"/blog/{with_images.id}-{with_images.slug}",
                      "post without images": f"/blog/{without.id}-{without.slug}",
                      "topic, 20 avatars": f"/t/{topics['with']}", "topic, no avatars": f"/t/{topics['without']}"},
            "cookie": f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={cookie}"}))


def memory_probe(kind: str) -> None:
    """Child process: the peak RSS growth and tracemalloc peak of inspect() on one image."""
    import tracemalloc

    from app.media.inspect import Limits, Refused, inspect
    from tests.test_media_gauntlet import png_header_flood
    width, height = SIDE_50MP if kind == "50mp" else SIDE_12MP
    data = png_header_flood(width, height, rows=height)
    limits = Limits(50 * 1024 * 1024, 40_000_000, 100_000_000)

    def status(field):
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith(field)).split()[1])
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak RSS
    base = status("VmRSS:")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        inspect("probe.png", data, limits)
        outcome = "accepted"
    except Refused as refusal:
        outcome = f"refused ({refusal.status}: {refusal.message[:60]}…)"
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    print(json.dumps({"rss_mb": (status("VmHWM:") - base) / 1024, "py_mb": peak / 1e6, "ms": elapsed * 1000,
                      "outcome": outcome, "wire_kb": len(data) / 1024}))


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------

def python_load(url: str, seconds: float, cookie: str | None = None, connections: int = 8) -> float:
    """Requests/s with keep-alive connections on threads (the fallback when wrk is missing)."""
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    done, errors, stop = [0] * connections, [], time.monotonic() + seconds

    def worker(i):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        while time.monotonic() < stop:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(response.status)
                return
            done[i] += 1
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{url}: HTTP {errors[0]}")
    return sum(done) / (time.monotonic() - started)


def load(url: str, seconds: int, cookie: str | None = None) -> float:
    if shutil.which("wrk"):
        from bench.pages import wrk
        return wrk(url, seconds, cookie)
    return python_load(url, seconds, cookie)


def upload_rate(base: str, cookie: str, photo: bytes, seconds: int, clients: int = 2) -> tuple[float, int]:
    import requests
    name, value = cookie.split("=", 1)
    done, failures, sessions = [0] * clients, [], []
    for _ in range(clients):  # signed in, CSRF token taken, workers warm: then the clock starts
        session = requests.Session()
        session.cookies.set(name, value, domain="127.0.0.1")
        page = session.get(base + "/media", timeout=60).text
        sessions.append((session, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)))
    stop = time.monotonic() + seconds

    def worker(i):
        session, token = sessions[i]
        while time.monotonic() < stop:
            response = session.post(base + "/api/media", files={"file": ("photo.jpg", photo, "image/jpeg")},
                                    data={"alt": "A bench photo"}, headers={"X-CSRFToken": token}, timeout=120)
            if response.status_code != 201:
                failures.append((response.status_code, response.text[:200]))
                return
            done[i] += 1
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"upload failed: {failures[0]}")
    return sum(done) / (time.monotonic() - started), sum(done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-probe", choices=["50mp", "12mp"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        return seed()
    if args.memory_probe:
        return memory_probe(args.memory_probe)

    from app.media.inspect import Limits, inspect, thumbnail
    photo = photo_12mp()
    limits = Limits(50 * 1024 * 1024, 40_000_000, 100_000_000)
    print(f"media bench: --seconds {args.seconds}; 12 MP JPEG of {len(photo) / 1e6:.1f} MB; "
          f"load with {'wrk' if shutil.which('wrk') else 'the Python keep-alive client (wrk not installed)'}\n")

    # 2. Thumbnails and the in-process re-encode rate (the baseline of the upload rate).
    stored = inspect("photo.jpg", photo, limits).data
    timings = {"small": [], "large": []}
    reencode_times, stop = [], time.monotonic() + args.seconds
    while time.monotonic() < stop or not reencode_times:
        started = time.perf_counter()
        inspect("photo.jpg", photo, limits)
        reencode_times.append(time.perf_counter() - started)
        for size, box in (("small", 320), ("large", 960)):
            t = time.perf_counter()
            thumbnail(stored, box)
            timings[size].append((time.perf_counter() - t) * 1000)
    inprocess = len(reencode_times) / sum(reencode_times)

    # 3. Memory, each in a fresh process.
    memory = {}
    for kind in ("12mp", "50mp"):
        out = subprocess.run([PY, "-m", "bench.media_bench", "--memory-probe", kind], cwd=ROOT, check=True,
                             capture_output=True, text=True, timeout=300).stdout
        memory[kind] = json.loads(out.strip().splitlines()[-1])

    # 1 and 4 need the served app.
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        env = {**os.environ, "ONCOLLAB_INSTANCE_DIR": str(instance), "ONCOLLAB_SEARCH_INDEX_DIR": str(instance / "index"),
               "ONCOLLAB_RATELIMIT_ENABLED": "false", "PYTHONPATH": str(ROOT)}
        subprocess.run([PY, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        seeded = subprocess.run([PY, "-m", "bench.media_bench", "--seed"], cwd=ROOT, env=env, check=True,
                                capture_output=True, text=True, timeout=600).stdout
        world = json.loads(seeded.strip().splitlines()[-1])
        hello_port, app_port = free_port(), free_port()
        servers = [serve("bench.hello_app:app", hello_port, env), serve("wsgi:app", app_port, env)]
        try:
            wait_for(hello_port), wait_for(app_port)
            base = f"http://127.0.0.1:{app_port}"
            uploads, count = upload_rate(base, world["cookie"], photo, args.seconds)
            hello = load(f"http://127.0.0.1:{hello_port}/hello", args.seconds)
            for path in world["pages"].values():  # warm both workers on every page first
                python_load(base + path, 1)
            # Interleaved, twice each (A B A B): a drift of the machine hits both sides alike.
            runs = {label: [] for label in world["pages"]}
            for _round in range(2):
                for label, path in world["pages"].items():
                    runs[label].append(load(base + path, max(1, args.seconds // 2)))
            pages = {label: sum(values) / len(values) for label, values in runs.items()}
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=10)

    def median(values):
        return sorted(values)[len(values) // 2]
    print("1. Upload throughput (12 MP JPEG, POST /api/media, 2 clients, 2 sync workers)")
    print(f"   {uploads:6.2f} uploads/s ({count} uploads); in-process inspect(): {inprocess:6.2f}/s on one core; "
          f"ratio HTTP/in-process {uploads / inprocess:5.2f}")
    print("2. Thumbnails of that photo (app.media.inspect.thumbnail, median)")
    print(f"   small (320 px) {median(timings['small']):7.1f} ms   large (960 px) {median(timings['large']):7.1f} ms")
    print("3. Peak memory of inspect() (fresh process each; peak RSS growth, tracemalloc peak)")
    for kind, label in (("12mp", "12 MP (4000 x 3000 PNG)"), ("50mp", "50 MP (7100 x 7100 PNG)")):
        m = memory[kind]
        print(f"   {label:24} {m['rss_mb']:7.1f} MB RSS  {m['py_mb']:6.1f} MB Python  {m['ms']:7.1f} ms  "
              f"{m['wire_kb']:6.0f} kB sent  {m['outcome']}")
    print(f"   ratio 50 MP / 12 MP peak RSS: {memory['50mp']['rss_mb'] / max(memory['12mp']['rss_mb'], 0.1):.3f} "
          f"(bounded: the bomb is refused from its header)")
    print("4. Pages with pictures (visitor, req/s and ratio to hello)")
    print(f"   {'/hello (bare Flask)':28} {hello:8.1f} {1:7.3f}")
    for label, rps in pages.items():
        print(f"   {label:28} {rps:8.1f} {rps / hello:7.3f}")
    print(f"   post: with 5 images / without  {pages['post with 5 images'] / pages['post without images']:.3f}")
    print(f"   topic: 20 avatars / none       {pages['topic, 20 avatars'] / pages['topic, no avatars']:.3f}")
    print("\nReproduce: .venv/bin/python -m bench.media_bench --seconds", args.seconds)


if __name__ == "__main__":
    sys.exit(main())

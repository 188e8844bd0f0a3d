"""Page throughput as a ratio of a bare Flask "hello", both under gunicorn, measured with wrk.

    make bench            # or: .venv/bin/python -m bench.pages --seconds 5

Builds a throw-away SQLite installation (demo data plus a topic with 5,000 replies), serves it
and the baseline with gunicorn (2 sync workers each) on 127.0.0.1, and loads each URL for a
bounded time. Prints req/s and the ratio to hello, for a visitor and signed in.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def serve(module: str, port: int, env: dict) -> subprocess.Popen:
    gunicorn = str(Path(PY).parent / "gunicorn")
    return subprocess.Popen([gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "warning", module],
                            cwd=ROOT, env=env, start_new_session=True)


def wrk(url: str, seconds: int, cookie: str | None = None) -> float:
    cmd = ["wrk", "-t2", "-c8", f"-d{seconds}s", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses")
    return float(match.group(1))


def prepare(instance: Path) -> tuple[dict, dict]:
    """Migrate, load demo data, add a 5,000-reply topic; return env and the URLs to measure."""
    env = {**os.environ, "ONCOLLAB_INSTANCE_DIR": str(instance), "ONCOLLAB_SEARCH_INDEX_DIR": str(instance / "index"),
           "ONCOLLAB_RATELIMIT_ENABLED": "false"}
    flask = [PY, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run(flask + ["demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run([PY, "-m", "bench.seed_topic", "5000"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    values = dict(line.split("=", 1) for line in out.strip().splitlines() if "=" in line)
    return env, values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it with apt)")
    with tempfile.TemporaryDirectory() as tmp:
        env, seed = prepare(Path(tmp))
        hello_port, app_port = free_port(), free_port()
        servers = [serve("bench.hello_app:app", hello_port, env), serve("wsgi:app", app_port, env)]
        try:
            wait_for(hello_port), wait_for(app_port)
            base = f"http://127.0.0.1:{app_port}"
            hello = wrk(f"http://127.0.0.1:{hello_port}/hello", args.seconds)
            print(f"{'page':44} {'who':8} {'req/s':>9} {'ratio':>7}")
            print(f"{'/hello (bare Flask)':44} {'-':8} {hello:9.1f} {1:7.3f}")
            for path in seed["PATHS"].split(","):
                for who, cookie in (("visitor", None), ("member", seed["COOKIE"])):
                    rps = wrk(base + path, args.seconds, cookie)
                    print(f"{path:44} {who:8} {rps:9.1f} {rps / hello:7.3f}")
        finally:
            for server in servers:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=10)


if __name__ == "__main__":
    main()

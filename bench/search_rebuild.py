"""The real ``flask search rebuild`` at scale: N synthetic trials (bench/search_bench.py's
generator, every site kept) in a throw-away SQLite installation, then the app's own
``rebuild()`` timed from the database to the swapped-in index.

    .venv/bin/python -m bench.search_rebuild --trials 100000     # about 3 minutes, most of it seeding

search_bench times the writer on records already in memory, next to the naive baseline; this
adds what the command also does: read 100,000 trials and their sites from the database.
"""
import argparse
import os
import subprocess
import tempfile
from pathlib import Path

from bench.pages import PY, ROOT


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=100000)
    parser.add_argument("--in-instance", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_instance:
        from bench.search_pages import seed
        seconds = seed(args.trials, sites_per_trial=None)
        print(f"flask search rebuild, {args.trials} trials from SQLite: {seconds:.1f} s "
              f"({args.trials / seconds:.0f} docs/s, {os.cpu_count()} cores)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ONCOLLAB_INSTANCE_DIR": tmp, "ONCOLLAB_SEARCH_INDEX_DIR": str(Path(tmp) / "index")}
        subprocess.run([PY, "-m", "bench.search_rebuild", "--in-instance", "--trials", str(args.trials)],
                       cwd=ROOT, env=env, check=True)


if __name__ == "__main__":
    main()

"""One Oncollab server process for the scale-out test: ``python -m tests.realtime_server --port N``.

Configured like any deployment, through ONCOLLAB_* variables (database, message queue, channel,
secret key), with the test settings underneath; served by Werkzeug's threaded server, like the
browser tests' live server, in Socket.IO's threading mode. Prints READY once it listens."""
import argparse
import sys

from werkzeug.serving import make_server

from app import create_app
from config import TestConfig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = create_app(TestConfig)
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    print("READY", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # pragma: no cover
        sys.exit(0)


if __name__ == "__main__":
    main()

"""Browser tests: a live server on 127.0.0.1 and Playwright driving Debian's /usr/bin/chromium."""
import json
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import build_app

CHROMIUM = "/usr/bin/chromium"
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


class LiveServer:
    """The app served by a real threaded HTTP server, as a browser sees it."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def live_server(tmp_path):
    app = build_app(tmp_path, None, PUBLIC_URL="http://127.0.0.1")
    server = LiveServer(app).start()
    app.config["PUBLIC_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh contexts (separate cookies: two people at two browsers)."""
    contexts = []

    def factory(width=1280, height=900, javascript=True):
        context = browser.new_context(viewport={"width": width, "height": height}, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        page.dialogs = []
        page.console_errors = []

        def _dialog(dialog):
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", _dialog)
        page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
        return page

    yield factory
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def run_axe(page) -> list[dict]:
    """Serious or critical WCAG 2.0/2.1 A and AA violations on the current page."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Injected through the debugging protocol, so the app's CSP (no inline scripts) stays on.
        page.evaluate("(source) => { (0, eval)(source); }", AXE_JS.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}})"
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.fixture
def axe():
    def check(page):
        violations = run_axe(page)
        assert not violations, f"axe violations on {page.url}:\n" + json.dumps(
            [{"id": v["id"], "impact": v["impact"], "help": v["help"],
              "nodes": [n["target"] for n in v["nodes"]][:5]} for v in violations], indent=1)
    return check

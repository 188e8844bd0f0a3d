"""A real browser renders sanitizer output of thousands of XSS payloads and
nothing runs. The page is loaded with set_content and has NO Content Security
Policy, so this proves the sanitizer alone stops scripts (the app's CSP is a
second, separate layer). Not an accessibility check: axe is not run here.

Fixtures (tests/e2e/conftest.py): ``page`` is a Playwright Page on headless
Chromium whose JS dialogs are recorded in ``page.dialogs`` and dismissed."""

import json
from pathlib import Path

import pytest

from app.sanitize import clean_html, render_markdown

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parent.parent / "data"

# Runs before any payload: a payload that gets to call alert(), confirm(),
# prompt() or print() marks the page (window.__xss) instead of opening a dialog.
TRAP = """
(() => {
  window.__xss = undefined;
  window.__xssCalls = [];
  for (const name of ["alert", "confirm", "prompt", "print"]) {
    const trap = (...args) => {
      window.__xss = true;
      window.__xssCalls.push(name + "(" + args.map(String).join(",").slice(0, 80) + ")");
    };
    try { Object.defineProperty(window, name, {value: trap, writable: false, configurable: false}); }
    catch (e) { window[name] = trap; }
  }
  window.__trapInstalled = true;
})();
"""

# What the browser itself built from the markup: anything executable or any
# handler attribute, any javascript:/vbscript:/data: link, any frame.
INSPECT = """
() => {
  const main = document.querySelector("main");
  const bad = [];
  for (const el of main.querySelectorAll("*")) {
    const tag = el.localName;
    if (["script", "style", "iframe", "frame", "object", "embed", "svg", "math", "img",
         "form", "base", "meta", "link", "noscript", "textarea", "template", "video",
         "audio", "source", "input", "button", "select"].includes(tag)) {
      bad.push("element " + tag);
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || ["style", "src", "srcdoc", "action", "formaction"].includes(name)) {
        bad.push(tag + "[" + name + "]");
      }
    }
    if (tag === "a" && el.hasAttribute("href")
        && ["javascript:", "vbscript:", "data:"].includes(el.protocol)) {
      bad.push("a href " + el.protocol);
    }
  }
  return bad;
}
"""


def _lines(name):
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if line]


def _payloads():
    payloadbox = _lines("xss_payloadbox.txt")
    picked = [
        line for i, line in enumerate(payloadbox)
        if i % 4 == 0 or "javascript:" in line.lower() or "onerror" in line.lower()
    ]
    blns = json.loads((DATA / "blns.json").read_text(encoding="utf-8"))
    step = len(blns) / 200
    blns_sample = [blns[int(i * step)] for i in range(200)]
    return _lines("xss_polyglots_patt.txt") + picked + blns_sample


def test_sanitizer_output_runs_no_script_in_browser(page):
    payloads = _payloads()
    assert len(payloads) >= 16 + 1500 + 200

    blocks = []
    for i, payload in enumerate(payloads):
        blocks.append(f'<div id="md-{i}">{render_markdown(payload)}</div>')
        blocks.append(f'<div id="html-{i}">{clean_html(payload)}</div>')
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Sanitizer check</title></head><body><main><h1>Sanitizer check</h1>"
        + "".join(blocks)
        + "</main></body></html>"
    )

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(TRAP)
    page.goto("about:blank")  # a fresh document, so the init script is in place
    page.set_content(document, wait_until="load")
    page.wait_for_timeout(500)  # timers, autofocus and transition handlers get their chance

    assert page.evaluate("window.__trapInstalled") is True, "trap did not run before the payloads"
    assert page.evaluate("window.__xss") is None, page.evaluate("window.__xssCalls")
    assert page.dialogs == []
    # Every payload's output stayed inside its own <div>: none broke the page.
    assert page.evaluate("document.querySelectorAll('main > div').length") == 2 * len(payloads)
    assert page.evaluate(INSPECT) == []
    assert len(page.frames) == 1
    assert [url for url in requests if not url.startswith("about:")] == []

"""The query is untrusted: naughty strings and XSS payloads as ``q`` never cause a 500 and come
back escaped, in HTML and JSON; hostile text inside the index is escaped in snippets too."""
from pathlib import Path

import pytest

from app.extensions import db
from tests.factories import BLNS

DATA = Path(__file__).parent / "data"
PAYLOADS = [line for line in (DATA / "xss_payloadbox.txt").read_text(encoding="utf-8", errors="replace").splitlines()
            if line.strip()][::40]
PAYLOADS += [line for line in (DATA / "xss_polyglots_patt.txt").read_text(encoding="utf-8", errors="replace").splitlines()
             if line.strip()]
HOSTILE = '<img src=x onerror=alert(1)> lung "quoted" & <script>alert(2)</script>'


@pytest.fixture
def indexed(app):
    from app.guidelines.models import Guideline
    with app.app_context():
        db.session.add(Guideline(publisher="ESMO", title=HOSTILE, tumour_type="Lung <b>bold</b>",
                                 url="https://example.org/g"))
        db.session.add(Guideline(publisher="ESMO", title="Lung cancer screening", url="https://example.org/h"))
        db.session.commit()
    return app


def test_naughty_strings_never_fail(indexed):
    client = indexed.test_client()
    for q in BLNS:
        for url in ("/search", "/api/search", "/search/suggest", "/search/guidelines"):
            response = client.get(url, query_string={"q": q})
            assert response.status_code == 200, (url, q)
    assert client.get("/api/search", query_string={"q": "*"}).status_code == 200
    assert client.get("/api/search", query_string={"q": "a" * 5000}).status_code == 200
    assert client.get("/api/search", query_string={"q": "lung", "page": "-1", "lat": "x", "sort": "evil"}).status_code == 200


def test_xss_payloads_come_back_escaped(indexed):
    client = indexed.test_client()
    for q in PAYLOADS:
        html = client.get("/search", query_string={"q": q}).get_data(as_text=True)
        assert "<script>alert" not in html and "onerror=prompt" not in html.replace("onerror=prompt(8)&gt;", "")
        if "<" in q:
            assert q.strip()[:200] not in html
        response = client.get("/api/search", query_string={"q": q})
        assert response.status_code == 200 and response.is_json
        body = response.get_json()
        assert all("<" not in r["snippet"].replace("<mark>", "").replace("</mark>", "") for r in body["results"])


def test_hostile_index_text_is_escaped_in_hits_and_snippets(indexed):
    client = indexed.test_client()
    html = client.get("/search", query_string={"q": "lung"}).get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert(2)" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<mark>" in html
    body = client.get("/api/search", query_string={"q": "lung", "type": "guideline"}).get_json()
    assert body["total"] == 2
    for result in body["results"]:
        assert "<img" not in result["snippet"] and "<script" not in result["snippet"]

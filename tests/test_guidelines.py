"""Guidelines: the NCCN index as imported, browse filters and JSON, members with the clinician role
(and site staff) adding other publishers' guidelines with a safe link, the discussion button."""

from markupsafe import escape
from sqlalchemy import func, select

from app.extensions import db
from app.guidelines.models import Guideline
from tests.factories import BLNS, browser, csrf_from, person, post, text
from tests.test_import_support import GUIDELINES_FILE

ESMO = {"publisher": "ESMO", "title": "Oncogene-addicted metastatic non-small-cell lung cancer",
        "tumour_type": "Non-small-cell lung cancer", "version": "2023", "year": "2023", "language": "en",
        "url": "https://www.esmo.org/guidelines/guidelines-by-topic/lung-and-chest-tumours"}


def _import(app):
    from app.guidelines.importer import import_guidelines
    with app.app_context():
        return import_guidelines(GUIDELINES_FILE)


def test_nccn_index_is_browsable_with_filters(app):
    _import(app)
    client = app.test_client()
    data = client.get("/api/guidelines?per_page=100").get_json()
    assert data["total"] == 68
    lung = [g for g in data["results"] if g["title"] == "Non-Small Cell Lung Cancer"][0]
    assert lung["publisher"] == "NCCN" and lung["link"].startswith("https://www.nccn.org/guidelines/guidelines-detail")
    years = {g["year"] for g in data["results"]}
    assert years <= {2023, 2024, 2025, 2026}
    by_year = client.get("/api/guidelines?year=2025&per_page=100").get_json()
    assert 0 < by_year["total"] < 68 and {g["year"] for g in by_year["results"]} == {2025}
    assert client.get("/api/guidelines?tumour=lung").get_json()["total"] >= 2
    assert client.get("/api/guidelines?publisher=nccn").get_json()["total"] == 68
    assert client.get("/api/guidelines?publisher=ESMO").get_json()["total"] == 0
    page = text(client.get("/guidelines?tumour=breast"))
    assert "Breast Cancer" in page and "Anal Carcinoma" not in page
    show = text(client.get(f"/guidelines/{lung['id']}"))
    assert "<h1>Non-Small Cell Lung Cancer</h1>" in show and f'href="{escape(lung["link"])}"' in show
    assert "does not copy guideline text" in show
    for url, code in (("/guidelines?year=abc", 400), ("/guidelines?year=99999", 400), ("/guidelines?page=-1", 400),
                      ("/api/guidelines?per_page=1000", 400), ("/guidelines?publisher=%00", 200),
                      ("/guidelines/999999", 404), ("/guidelines/abc", 404)):
        assert client.get(url).status_code == code, url


def test_clinicians_and_staff_add_guidelines_others_cannot(app):
    clinician = person(app, role="clinician", display_name="Dr Klein")
    client = browser(app, clinician)
    assert "Add a guideline" in text(client.get("/guidelines"))
    response = post(client, "/guidelines/new", ESMO, page="/guidelines/new")
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "<h1>Oncogene-addicted metastatic non-small-cell lung cancer</h1>" in page and "Dr Klein" in page
    assert 'rel="noopener nofollow ugc"' in page  # a member's link is not endorsed
    with app.app_context():
        guideline = db.session.scalar(select(Guideline))
        assert (guideline.publisher, guideline.year, guideline.added_by_id, guideline.external_id) == \
            ("ESMO", 2023, clinician.id, None)
    moderator = browser(app, person(app, role="nurse", site_role="moderator"))
    assert post(moderator, "/guidelines/new", ESMO, page="/guidelines/new").status_code == 302
    for role in ("patient", "nurse", "researcher", "centre_staff"):
        other = browser(app, person(app, role=role))
        assert other.get("/guidelines/new").status_code == 403
        assert "Add a guideline" not in text(other.get("/guidelines"))
    anonymous = app.test_client()
    assert anonymous.get("/guidelines/new").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Guideline.id))) == 2


def test_links_must_be_http_and_bad_input_is_kept(app):
    client = browser(app, person(app, role="clinician"))
    token = csrf_from(text(client.get("/guidelines/new")))
    for url in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>",
                "ftp://example.org/x", "http://", "//evil.example", "https://exa mple.org", "http:\\\\evil.example",
                "https://user:pass@evil.example", "vbscript:msgbox", "example.org", "https://localhost\x00.evil"):
        response = client.post("/guidelines/new", data={**ESMO, "url": url, "csrf_token": token})
        page = text(response)
        assert response.status_code == 400, url
        assert 'id="url-error"' in page and "Enter a full web address" in page, url
        assert f'value="{escape(ESMO["title"])}"' in page  # the rest of what was typed is kept
    response = client.post("/guidelines/new", data={**ESMO, "year": "twenty", "title": "", "csrf_token": token})
    page = text(response)
    assert response.status_code == 400 and 'id="year-error"' in page and 'id="title-error"' in page
    assert 'value="twenty"' in page
    assert client.post("/guidelines/new", data={**ESMO, "year": "1850", "csrf_token": token}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Guideline.id))) == 0


def test_naughty_strings_stored_and_shown_escaped(app):
    from app.directory.forms import line
    client = browser(app, person(app, role="clinician"))
    token = csrf_from(text(client.get("/guidelines/new")))
    expected = []
    for s in BLNS:
        response = client.post("/guidelines/new", data={**ESMO, "title": s, "tumour_type": s, "version": s[:40],
                                                        "csrf_token": token})
        if not line(s):
            assert response.status_code == 400 and 'id="title-error"' in text(response)
            continue
        assert response.status_code == 302, (s, response.status_code)
        expected.append(line(s))
    with app.app_context():
        stored = db.session.scalars(select(Guideline.title).order_by(Guideline.id)).all()
    assert stored == expected and len(expected) > 500
    listing = "".join(text(client.get(f"/guidelines?page={n}")) for n in range(1, len(expected) // 50 + 2))
    for title in expected:
        assert str(escape(title)) in listing, title
    with app.app_context():
        ids = db.session.scalars(select(Guideline.id).order_by(Guideline.id).limit(40)).all()
    for guideline_id, title in zip(ids, expected):
        assert f"<h1>{escape(title)}</h1>" in text(client.get(f"/guidelines/{guideline_id}"))
    for s in BLNS[:80]:
        assert client.get("/guidelines", query_string={"tumour": s, "publisher": s}).status_code == 200


def test_guideline_discussion_thread(app):
    _import(app)
    with app.app_context():
        guideline_id = db.session.scalar(select(func.min(Guideline.id)))
    url = f"/guidelines/{guideline_id}"
    client = browser(app, person(app, role="patient"))
    response = post(client, url + "/discuss", page=url)
    assert response.status_code == 302 and "/t/" in response.headers["Location"]
    again = post(browser(app, person(app)), url + "/discuss", page=url)
    assert again.headers["Location"] == response.headers["Location"]
    with app.app_context():
        from app.forum.models import Topic
        topic = db.session.get(Topic, db.session.get(Guideline, guideline_id).topic_id)
        assert topic.category.slug == "guidelines" and topic.title.startswith("NCCN: ")
    assert "Read and join the discussion" in text(app.test_client().get(url))

"""Search over the real data/ files through HTTP: synonyms, stemming, phrases, typos, facets,
filters, sorting, pagination, suggestions, snippets and the JSON API's shape."""
import pytest
from sqlalchemy import select

from app.extensions import db
from tests.factories import search_api


@pytest.fixture
def data_app(app):
    with app.app_context():
        from app.demo import load_public_data
        from app.search.indexer import rebuild
        load_public_data()
        rebuild(app.config["SEARCH_INDEX_DIR"])
    return app


def test_api_shape_and_trial_ids(data_app):
    body = search_api(data_app.test_client(), q="osimertinib", type="trial")
    assert set(body) >= {"total", "results", "facets", "suggestion"}
    assert body["total"] >= 1 and body["results"]
    hit = body["results"][0]
    assert set(hit) >= {"type", "id", "title", "url", "snippet"}
    assert hit["type"] == "trial" and hit["id"].startswith("NCT") and hit["url"] == f"/trials/{hit['id']}"
    assert set(body["facets"]) == {"status", "phase", "country", "condition", "itype", "age"}


def test_synonyms_stemming_phrases_and_typos(data_app):
    client = data_app.test_client()
    abbreviation = search_api(client, q="NSCLC", type="trial")["total"]
    spelled = search_api(client, q='"non-small cell lung cancer"', type="trial")["total"]
    only_abbr = search_api(client, q="nsclc NOT lung", type="trial")["total"]
    assert abbreviation >= spelled > 0
    assert search_api(client, q="non-small cell lung cancer", type="trial")["total"] >= spelled
    # Stemming: plural and verb forms find the same trials.
    assert search_api(client, q="inhibitors", type="trial")["total"] == search_api(client, q="inhibitor", type="trial")["total"] > 0
    # RT = radiotherapy / radiation therapy.
    assert search_api(client, q="RT", type="trial")["total"] >= search_api(client, q="radiotherapy", type="trial")["total"] > 0
    # A phrase is stricter than its words.
    assert search_api(client, q='"cell lung"', type="trial")["total"] <= search_api(client, q="cell lung", type="trial")["total"]
    typo = search_api(client, q="osimertinbi")
    assert typo["total"] == 0 and typo["suggestion"] == "osimertinib"
    assert only_abbr >= 0


def test_facets_filters_sort_and_pages(data_app):
    client = data_app.test_client()
    everything = search_api(client, type="trial")
    assert everything["total"] == 100
    statuses = {f["value"]: f["count"] for f in everything["facets"]["status"]}
    recruiting = search_api(client, type="trial", status="RECRUITING")
    assert recruiting["total"] == statuses["RECRUITING"]
    narrowed = search_api(client, type="trial", status="RECRUITING", phase="PHASE2", country="FR")
    assert narrowed["total"] >= 1  # the data has no recruiting phase 3 trial with a French site
    assert all(r["type"] == "trial" for r in narrowed["results"])
    page1, page2 = search_api(client, type="trial", page=1), search_api(client, type="trial", page=2)
    assert not {r["id"] for r in page1["results"]} & {r["id"] for r in page2["results"]}
    assert len(page1["results"]) == 20
    by_date = search_api(client, type="trial", sort="date")["results"]
    assert by_date and by_date[0]["id"] != "" and len(by_date) == 20
    html = client.get("/search/trials?q=lung&status=RECRUITING").get_data(as_text=True)
    assert "Recruiting" in html and "results" in html and "<mark>" in html.lower()


def test_links_on_the_search_page_lead_where_they_say(data_app):
    """Hit links, facet links (add and remove a filter), and the next page, followed as a
    visitor would, keeping the query and the sort order."""
    import re
    from html import unescape
    client = data_app.test_client()

    def links(html, pattern):
        return [unescape(h) for h in re.findall(pattern, html)]

    html = client.get("/search/trials?q=lung&sort=date").get_data(as_text=True)
    hits = links(html, r'class="search-hit-title" href="([^"]+)"')
    assert len(hits) == 20 and all(client.get(h).status_code == 200 for h in hits)
    add = [h for h in links(html, r'href="([^"]+)"') if "status=RECRUITING" in h]
    assert add and "q=lung" in add[0] and "sort=date" in add[0]
    filtered = client.get(add[0]).get_data(as_text=True)
    want = search_api(client, q="lung", type="trial", status="RECRUITING")["total"]
    assert f"{want} results" in filtered
    remove = links(filtered, r'href="([^"]+)" aria-current="true"')
    assert remove and "status=" not in remove[0] and "q=lung" in remove[0] and "sort=date" in remove[0]
    assert f"{search_api(client, q='lung', type='trial')['total']} results" in client.get(remove[0]).get_data(as_text=True)
    following = links(html, r'href="([^"]+)" rel="next"')
    assert following and "page=2" in following[0] and "q=lung" in following[0]
    second = client.get(following[0]).get_data(as_text=True)
    assert not set(links(second, r'class="search-hit-title" href="([^"]+)"')) & set(hits)


def test_centres_near_a_point_and_the_patient_query(data_app):
    client = data_app.test_client()
    near = search_api(client, type="centre", sort="distance", lat="48.79", lon="2.37")["results"]
    assert near and near[0]["id"] == "gustave-roussy-villejuif"
    body = search_api(client, q="nsclc Villejuif")
    ids = [r["id"] for r in body["results"]]
    assert "gustave-roussy-villejuif" in ids and any(i.startswith("NCT") for i in ids)


def test_suggestions_as_you_type(data_app):
    client = data_app.test_client()
    got = client.get("/search/suggest?q=non small cell lung").get_json()["suggestions"]
    assert "non small cell lung cancer" in got
    assert client.get("/search/suggest?q=x").get_json()["suggestions"] == []
    assert "nsclc villejuif" in client.get("/search/suggest?q=nsclc vill").get_json()["suggestions"]


def test_the_rebuild_reads_trials_as_the_hooks_build_them(data_app):
    """``flask search rebuild`` reads trials with plain queries in chunks; the documents must be
    the ones the session hooks build from the ORM objects, linked sites' names included."""
    from app.search import documents
    from app.trials.models import Trial, TrialSite
    with data_app.app_context():
        bulk = list(documents.trials_in_bulk(chunk=7))
        one_by_one = [documents.trial(t) for t in db.session.scalars(select(Trial).order_by(Trial.id))]
        assert len(bulk) == 100 and bulk == one_by_one
        linked = db.session.scalars(select(TrialSite).where(TrialSite.centre_id.is_not(None))).first()
        assert linked is not None and linked.facility in next(d["body"] for d in bulk if d["dbid"] == str(linked.trial_id))


def test_investigators_are_never_indexed(data_app):
    """No contact's e-mail, phone or full personal name reaches any trial document."""
    from app.search import documents
    from app.trials.models import Trial
    with data_app.app_context():
        checked = 0
        for trial in db.session.scalars(select(Trial)):
            doc = documents.trial(trial)
            text_of_doc = " ".join(str(v) for v in doc.values()).lower()
            people = list(trial.overall_officials or []) + list(trial.central_contacts or [])
            people += [c for site in trial.sites for c in (site.contacts or [])]
            for person in people:
                for key in ("email", "phone"):
                    value = (person.get(key) or "").strip().lower()
                    if value:
                        checked += 1
                        assert value not in text_of_doc, (trial.nct_id, key)
                name = (person.get("name") or "").strip()
                if len(name.split()) >= 2 and name.lower() not in (trial.sponsor or "").lower():
                    checked += 1
                    assert name.lower() not in text_of_doc, (trial.nct_id, name)
        assert checked > 50


def test_new_edited_and_deleted_content_follows_the_commit(app):
    from tests.factories import a_category, browser, person, post, staff
    category = a_category(app, name="Living with cancer")
    author = person(app)
    client = browser(app, author)
    response = post(client, f"/forum/c/{category.slug}/new", {"title": "Quokka walking club", "body": "We walk on Sundays."})
    assert response.status_code in (302, 303)
    visitor = app.test_client()
    assert search_api(visitor, q="quokka")["total"] == 1
    assert search_api(visitor, q="sundays", type="community")["results"][0]["type"] == "community"
    topic_id = int(response.headers["Location"].split("/t/")[1].split("/")[0].split("?")[0])
    moderator = browser(app, staff(app))
    assert post(moderator, f"/t/{topic_id}/delete", {}).status_code in (302, 303)
    assert search_api(visitor, q="quokka")["total"] == 0


def test_a_rolled_back_change_never_reaches_the_index(ctx):
    from app.guidelines.models import Guideline
    db.session.add(Guideline(publisher="ESMO", title="Wombat guideline", url="https://example.org"))
    db.session.flush()
    db.session.rollback()
    db.session.add(Guideline(publisher="ESMO", title="Numbat guideline", url="https://example.org"))
    db.session.commit()
    client = ctx.test_client()
    assert search_api(client, q="wombat")["total"] == 0
    assert search_api(client, q="numbat")["total"] == 1


def test_synthetic_phase3_france_record_links_its_centre_and_is_found(data_app):
    """tests/data/ctgov_synthetic_phase3_france.json, the record the browser journey needs because the
    real data has no recruiting phase 3 trial in France: imported by the real importer, its French
    sites link to directory centres and the search filters find it (the import's commit indexes it)."""
    from pathlib import Path
    from app.trials.importer import import_trials
    from app.trials.models import Trial
    nct = "NCT99000001"
    filters = dict(type="trial", status="RECRUITING", phase="PHASE3", country="FR")
    client = data_app.test_client()
    assert search_api(client, **filters)["total"] == 0  # why the synthetic record exists
    with data_app.app_context():
        report = import_trials(Path(__file__).parent / "data" / "ctgov_synthetic_phase3_france.json")
        assert report.added == [nct] and not report.rejected, report.lines()
        trial = db.session.scalars(select(Trial).where(Trial.nct_id == nct)).one()
        linked = {site.facility: site.centre and site.centre.slug for site in trial.sites}
    assert linked == {"Gustave Roussy": "gustave-roussy-villejuif", "Centre Leon Bérard": "centre-leon-berard-lyon"}
    body = search_api(client, **filters)
    assert [r["id"] for r in body["results"]] == [nct] and body["total"] == 1
    html = client.get("/search/trials?status=RECRUITING&phase=PHASE3&country=FR").get_data(as_text=True)
    assert f'href="/trials/{nct}"' in html and "Synthetic test record:" in html
    centre = client.get("/centres/gustave-roussy-villejuif").get_data(as_text=True)
    assert f'href="/trials/{nct}"' in centre

"""Search tells the truth when the index lags the database: the total, the facet counts and the
hits shown on every page count the same documents, the ones the database lets the reader see
now; and sort=distance is bounded (centres only, a cap on candidates, a clear 400 for a bad point).

The index is made stale on purpose with bulk SQL, which bypasses the indexing hooks: topics
removed, a guideline deleted, an open group turned closed without re-stamping its documents.
Everything is then checked through HTTP, as a visitor, a signed-in outsider and a member."""
import math
import re

import pytest
from sqlalchemy import text as sql

from app.extensions import db
from tests.factories import a_category, a_group, a_topic, browser, member, person, search_api, text

SEEK = "heliotrope"
PER_PAGE = 20


def every_page(client, **args) -> tuple[dict, list[list[str]]]:
    """Page 1 and each following page (as the Next link would), until the total is covered."""
    first = search_api(client, page=1, **args)
    pages = [[r["url"] for r in first["results"]]]
    last = max(1, math.ceil(first["total"] / PER_PAGE))
    for number in range(2, last + 1):
        body = search_api(client, page=number, **args)
        assert body["total"] == first["total"], "the total moved from one page to the next"
        pages.append([r["url"] for r in body["results"]])
    return first, pages


def assert_agrees(client, want: set[str], **args) -> dict:
    """Total, pages and facets count exactly ``want`` (urls of what the reader may see)."""
    first, pages = every_page(client, **args)
    shown = [url for page in pages for url in page]
    assert first["total"] == len(want), (first["total"], len(want))
    assert len(shown) == len(set(shown)), "a page repeats a hit of an earlier page"
    assert set(shown) == want
    for number, page in enumerate(pages, start=1):
        full = min(PER_PAGE, first["total"] - (number - 1) * PER_PAGE)
        assert len(page) == full, f"page {number} shows {len(page)} hits, not {full}"
    facets = first["facets"]
    name = "type" if not args.get("type") else {"community": "kind", "guideline": "publisher"}[args["type"]]
    assert sum(f["count"] for f in facets[name]) == first["total"], facets[name]
    return first


@pytest.fixture
def stale(app):
    """47 public topics, an open group with 5 topics, a closed group with 3, 2 guidelines, all
    holding SEEK; then, behind the index's back: 3 public topics removed, 1 guideline deleted,
    and the open group closed (its 5 topics still stamped public in the index)."""
    from app.guidelines.models import Guideline
    owner, outsider, insider = person(app), person(app), person(app)
    category = a_category(app, name="Gardens")
    public = [a_topic(app, owner, category=category, title=f"{SEEK.title()} meadow {i}", body=f"About {SEEK}.")
              for i in range(47)]
    sunny = a_group(app, owner, kind="open", name="Sunflower circle", description=f"A {SEEK} circle.")
    quiet = a_group(app, owner, kind="closed", name="Quiet room", description=f"A {SEEK} room.")
    member(app, sunny, insider)
    member(app, quiet, insider)
    sunny_topics = [a_topic(app, owner, group=sunny, title=f"Sunny {SEEK} {i}", body="x") for i in range(5)]
    quiet_topics = [a_topic(app, owner, group=quiet, title=f"Quiet {SEEK} {i}", body="x") for i in range(3)]
    with app.app_context():
        guides = [Guideline(publisher="ESMO", title=f"{SEEK.title()} guideline {i}", url="https://example.org/g")
                  for i in range(2)]
        db.session.add_all(guides)
        db.session.commit()
        guide_ids = [g.id for g in guides]
        removed = [t.id for t in public[:3]]
        # Bulk SQL: no session hooks run, the index keeps the old documents.
        db.session.execute(sql("UPDATE topics SET deleted_at = CURRENT_TIMESTAMP WHERE id IN (:a, :b, :c)"),
                           dict(zip("abc", removed)))
        db.session.execute(sql("DELETE FROM guidelines WHERE id = :id"), {"id": guide_ids[0]})
        db.session.execute(sql("UPDATE groups SET kind = 'closed' WHERE id = :id"), {"id": sunny.id})
        db.session.commit()
    everyone = ({f"/t/{t.id}" for t in public[3:]} | {f"/groups/{sunny.slug}", f"/groups/{quiet.slug}"}
                | {f"/guidelines/{guide_ids[1]}"})
    inside = {f"/t/{t.id}" for t in sunny_topics + quiet_topics}
    return {"app": app, "outsider": outsider, "insider": insider, "sunny": sunny, "quiet": quiet,
            "everyone": everyone, "inside": inside, "removed": {f"/t/{i}" for i in removed},
            "gone_guideline": f"/guidelines/{guide_ids[0]}"}


def readers(stale):
    app = stale["app"]
    return [("visitor", browser(app), stale["everyone"]),
            ("outsider", browser(app, stale["outsider"]), stale["everyone"]),
            ("member", browser(app, stale["insider"]), stale["everyone"] | stale["inside"])]


def test_the_index_really_is_stale(stale):
    """The premise: the index alone still counts what the database no longer shows."""
    from app.search import query
    app = stale["app"]
    alone = query.search(app.config["SEARCH_INDEX_DIR"], SEEK, scopes=frozenset({"public"}))
    assert alone["total"] == len(stale["everyone"]) + 3 + 1 + 5


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_totals_facets_and_pages_agree_with_the_database(stale, sort):
    for who, client, want in readers(stale):
        body = assert_agrees(client, want, q=SEEK, sort=sort)
        assert not {r["url"] for r in body["results"]} & stale["removed"], who
        community = {u for u in want if not u.startswith("/guidelines/")}
        body = assert_agrees(client, community, q=SEEK, type="community", sort=sort)
        groups = {f["value"]: f["count"] for f in body["facets"]["group_id"]}
        # The closed group's landing page is public; its topics only count for members.
        assert groups.get(str(stale["sunny"].id)) == (6 if who == "member" else 1), (who, groups)
        assert groups.get(str(stale["quiet"].id)) == (4 if who == "member" else 1), (who, groups)
        assert_agrees(client, {u for u in want if u.startswith("/guidelines/")}, q=SEEK, type="guideline", sort=sort)
        assert search_api(client, q=SEEK, sort=sort)["total_exact"] is True


def test_the_page_shows_as_many_hits_as_it_counts(stale):
    for who, client, want in readers(stale):
        total = len(want)
        last = math.ceil(total / PER_PAGE)
        for number in (1, last):
            html = text(client.get(f"/search?q={SEEK}&page={number}"))
            assert f"{total} results" in html, who
            hits = re.findall(r'class="search-hit-title" href="([^"]+)"', html)
            assert len(hits) == min(PER_PAGE, total - (number - 1) * PER_PAGE), (who, number, len(hits))
            assert not set(hits) & stale["removed"] and stale["gone_guideline"] not in hits
            counts = [int(c) for c in re.findall(r'class="facet-count">\((\d+)\)', html)]
            assert sum(counts) == total, (who, counts)  # the "Database" facet: one count per type
        next_page = re.findall(r'href="([^"]+)" rel="next"', text(client.get(f"/search?q={SEEK}&page={last}")))
        assert not next_page, who


def test_a_query_too_broad_to_check_whole_still_pages_truthfully(stale, monkeypatch):
    """Above query.RECHECK_ALL candidates, only the ranking down to the page asked for is checked:
    pages stay full, never repeat and never show a stale hit; the total is marked inexact."""
    from app.search import query
    monkeypatch.setattr(query, "RECHECK_ALL", 5)
    client = browser(stale["app"])
    want = stale["everyone"]
    shown = []
    first = search_api(client, q=SEEK, type="community", sort="date")
    assert first["total_exact"] is False
    for number in range(1, 4):
        body = search_api(client, q=SEEK, type="community", sort="date", page=number)
        page = [r["url"] for r in body["results"]]
        assert not set(page) & (stale["removed"] | stale["inside"])
        if number < 3:
            assert len(page) == PER_PAGE
        shown += page
    assert len(shown) == len(set(shown))
    assert len(shown) == len({u for u in want if not u.startswith("/guidelines/")})
    html = text(client.get(f"/search/community?q={SEEK}&sort=date"))
    assert "About " in html and len(re.findall(r'class="search-hit-title"', html)) == PER_PAGE


# --- sort=distance ---------------------------------------------------------------------------

@pytest.fixture
def centres(app):
    from app.directory.models import Centre
    places = [("lyon-centre", "Lyon cancer centre", "Lyon", 45.76, 4.84),
              ("paris-centre", "Paris cancer centre", "Paris", 48.86, 2.35),
              ("berlin-centre", "Berlin cancer centre", "Berlin", 52.52, 13.40),
              ("nowhere-centre", "Unmapped cancer centre", "", None, None)]
    with app.app_context():
        db.session.add_all([Centre(slug=slug, name=name, name_key=slug, city=city, country="FR", lat=lat, lon=lon)
                            for slug, name, city, lat, lon in places])
        db.session.commit()
    return app


def test_distance_sorts_centres_nearest_first(centres):
    client = centres.test_client()
    body = search_api(client, type="centre", sort="distance", lat="45.7", lon="4.8")
    assert body["sort"] == "distance" and body["note"] is None
    assert [r["id"] for r in body["results"]] == ["lyon-centre", "paris-centre", "berlin-centre", "nowhere-centre"]
    assert body["results"][0]["distance_km"] < 10 and "distance_km" not in body["results"][-1]
    assert body["total"] == 4 and len(body["results"]) == 4


def test_distance_needs_a_valid_point_in_the_api(centres):
    client = centres.test_client()
    for args in ({"lat": "x", "lon": "4"}, {"lat": "45"}, {"lat": "91", "lon": "4"}, {"lat": "45", "lon": "nan"},
                 {"lat": "45", "lon": "-181"}, {}):
        response = client.get("/api/search", query_string={"type": "centre", "sort": "distance", **args})
        assert response.status_code == 400, args
        assert "lat" in response.get_json()["error"]["message"]
    # Without sort=distance a stray lat is ignored, as before.
    assert client.get("/api/search", query_string={"q": "lung", "lat": "x", "sort": "evil"}).status_code == 200
    page = client.get("/search/centres?sort=distance&lat=x&lon=4")
    assert page.status_code == 200 and "needs a latitude" in text(page)


def test_distance_applies_to_centres_only(centres):
    client = centres.test_client()
    for args in ({}, {"type": "trial"}, {"type": "community"}, {"q": "cancer"}):
        body = search_api(client, sort="distance", lat="45.7", lon="4.8", **args)
        assert body["sort"] == "relevance" and "Only centres" in body["note"], args
    body = search_api(client, sort="distance", lat="45.7", lon="4.8", q="cancer")
    assert body["total"] == len(body["results"]) == 4
    html = text(centres.test_client().get("/search?q=cancer&sort=distance&lat=45.7&lon=4.8"))
    assert "Only centres can be sorted by distance" in html


def test_distance_over_too_many_candidates_is_refused_not_scanned(centres, monkeypatch):
    """A query with no words matching more centres than the cap falls back to relevance, with a
    note, without reading one location."""
    from app.search import query
    monkeypatch.setattr(query, "DISTANCE_MAX", 3)

    def no_scan(*args, **kwargs):
        raise AssertionError("sort=distance read locations over the cap")

    monkeypatch.setattr(query, "_by_distance", no_scan)
    client = centres.test_client()
    body = search_api(client, type="centre", sort="distance", lat="45.7", lon="4.8")
    assert body["sort"] == "relevance" and "Too many matches" in body["note"]
    assert body["total"] == len(body["results"]) == 4
    html = text(client.get("/search/centres?sort=distance&lat=45.7&lon=4.8"))
    assert "Too many matches to sort by distance" in html and "4 results" in html

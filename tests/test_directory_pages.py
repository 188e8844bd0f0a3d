"""Centre pages on the real data: the offline map, trials recruiting there, members who chose to
show their centre, browse filters and facets, near me, JSON, junk parameters, flat query counts."""
import re

from sqlalchemy import select

from app.directory import mapsvg, matching
from app.directory.models import Centre, CentreNetwork
from app.extensions import db
from tests.factories import browser, person, statements, text
from tests.test_import_support import load_all


def test_centre_page_lists_its_trials_open_ones_first_and_draws_a_map(app):
    load_all(app, guidelines=False)
    page = text(app.test_client().get("/centres/centre-francois-baclesse-caen"))
    assert "<h1>Centre François Baclesse</h1>" in page
    assert "Centre Francois Baclesse" in page  # the merged spelling, under "Also listed as"
    trials = re.findall(r'<a href="/trials/(NCT\d{8})">', page)
    assert trials == ["NCT06620835", "NCT02856893", "NCT03955198"]  # recruiting, active, completed
    assert page.index("Recruiting") < page.index("Active, not recruiting") < page.index("Completed")
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert 'role="img"' in svg and "<title id=\"map-title\">Map: where Centre François Baclesse is</title>" in svg
    assert "<desc id=\"map-desc\">Caen, France, at 49.1" in svg and "outline map of Europe" in svg
    assert svg.count("<circle") == 1 and svg.count("<path") >= 10
    assert "Coordinates: 49.1" in page  # the text alternative, visible to everyone
    assert "Outline of Europe drawn by hand for Oncollab" in page
    assert "script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_map_outside_europe_and_without_coordinates(app):
    load_all(app, guidelines=False)
    client = app.test_client()
    page = text(client.get("/centres/arena-oncology-associates-new-york"))
    assert 'class="map map-world"' in page and "world grid" in page and "<circle" in page
    with app.app_context():
        slug = db.session.scalar(select(Centre.slug).where(Centre.lat.is_(None)))
    page = text(client.get(f"/centres/{slug}"))
    assert "<svg" not in page and "No coordinates known yet." in page


def test_map_geometry_is_an_equirectangular_projection():
    view = mapsvg.map_for(48.7939, 2.35992)
    assert view.kind == "europe" and view.width == 600 and 500 < view.height < 560
    x, y = view.point
    assert 0 < x < view.width and 0 < y < view.height
    west = mapsvg.map_for(48.7939, -20.0).point
    north = mapsvg.map_for(70.0, 2.35992).point
    assert west[0] < x and west[1] == y and north[1] < y and north[0] == x
    world = mapsvg.map_for(-33.9, 151.2)
    assert world.kind == "world" and world.point == (662.4, 247.8) and world.frame
    assert mapsvg.map_for(None, 2.0) is None


def test_members_who_show_their_centre_respect_their_visibility(app):
    load_all(app, guidelines=False)
    public = person(app, display_name="Dr Everyone", role="clinician", centre=("Gustave Roussy", "everyone"))
    members = person(app, display_name="Nurse Members", role="nurse", centre=("gustave roussy, villejuif", "members"))
    private = person(app, display_name="Private Person", role="patient", centre=("Gustave Roussy", "me"))
    gone = person(app, display_name="Gone Away", role="nurse", centre=("Gustave Roussy", "everyone"), active=False)
    elsewhere = person(app, display_name="Elsewhere", centre=("Hôpital Tenon", "everyone"))
    url = "/centres/gustave-roussy-villejuif"

    def section(client):
        page = text(client.get(url))
        return page[page.index('id="members-heading"'):page.index("</section>", page.index('id="members-heading"'))]
    anonymous = section(app.test_client())
    assert "Dr Everyone" in anonymous and "Nurse Members" not in anonymous and "Private Person" not in anonymous
    signed_in = section(browser(app, elsewhere))
    assert "Dr Everyone" in signed_in and "Nurse Members" in signed_in and "Private Person" not in signed_in
    own = section(browser(app, private))
    assert "Private Person" in own
    for page in (anonymous, signed_in, own):
        assert "Gone Away" not in page and "Elsewhere" not in page
        assert f'href="/people/{public.id}"' in page
    assert members and gone


def test_members_section_is_one_query(app):
    from app.directory.services import members_showing
    load_all(app, guidelines=False)
    for n in range(3):
        person(app, centre=("Gustave Roussy", "everyone"))
    with app.app_context():
        centre = db.session.scalar(select(Centre).where(Centre.slug == "gustave-roussy-villejuif"))
        from flask_login import AnonymousUserMixin
        with statements(app) as seen:
            people = members_showing(centre, AnonymousUserMixin())
            names = [p.display_name for p in people]
        assert len(names) == 3 and len(seen) == 1


def test_near_me_sorts_by_distance(app):
    load_all(app, guidelines=False)
    client = app.test_client()
    near = client.get("/api/centres?lat=48.7939&lon=2.35992&per_page=5").get_json()
    first = near["results"]
    assert first[0]["name"] == "Gustave Roussy" and first[0]["distance_km"] == 0.0
    ile_de_france = {"Villejuif", "Paris", "Créteil"}
    assert {c["city"] for c in first[:4]} <= ile_de_france
    distances = [c["distance_km"] for c in first]
    assert distances == sorted(distances) and distances[3] < 10 < distances[4]
    by_city = client.get("/api/centres", query_string={"near": "Villejuif (FR)", "per_page": 3}).get_json()
    assert [c["name"] for c in by_city["results"]] == [c["name"] for c in first[:3]]
    page = text(client.get("/centres", query_string={"near": "Villejuif (FR)"}))
    assert "nearest first" in page and "0.0 km away" in page and "6.7 km away" in page
    assert '<option value="Villejuif (FR)">' in page  # the cities offered to pick from
    filtered = client.get("/api/centres?lat=48.79&lon=2.36&country=IT&per_page=1").get_json()
    assert filtered["results"][0]["country"] == "IT"
    unknown = text(client.get("/centres?near=Atlantis"))
    assert "We do not know the city" in unknown and "nearest first" not in unknown


def test_browse_filters_facets_and_pagination(app):
    load_all(app, guidelines=False)
    with app.app_context():
        roussy = db.session.scalar(select(Centre).where(Centre.slug == "gustave-roussy-villejuif"))
        roussy.networks.append(CentreNetwork(network="eunetccc"))
        db.session.commit()
    client = app.test_client()
    assert client.get("/api/centres").get_json()["total"] == 448
    france = client.get("/api/centres?country=FR&per_page=100").get_json()
    assert france["total"] == 39 and {c["country"] for c in france["results"]} == {"FR"}
    assert client.get("/api/centres?country=fr&city=creteil").get_json()["total"] == 2
    assert client.get("/api/centres?q=roussy").get_json()["results"][0]["slug"] == "gustave-roussy-villejuif"
    assert client.get("/api/centres?q=%25").get_json()["total"] == 0  # LIKE wildcards are literal
    network = client.get("/api/centres?network=eunetccc").get_json()
    assert [c["slug"] for c in network["results"]] == ["gustave-roussy-villejuif"]
    assert client.get("/api/centres?kind=research_institute").get_json()["total"] > 0
    page = text(client.get("/centres?country=FR"))
    assert "39 centres" in page
    facet = page[page.index('id="countries-heading"'):]
    assert re.search(r">France</a> <span class=\"db-count\">39</span>", facet)
    assert re.search(r">Italy</a> <span class=\"db-count\">\d+</span>", facet)  # other countries stay offered
    page2 = text(client.get("/centres?page=2"))
    assert "Page 2 of 18" in page2 and 'start="26"' in page2
    assert "EUnetCCC" in text(client.get("/centres?network=eunetccc"))


def test_centre_json(app):
    load_all(app, guidelines=False)
    client = app.test_client()
    data = client.get("/api/centres/centre-francois-baclesse-caen").get_json()
    assert data["name"] == "Centre François Baclesse" and data["country"] == "FR"
    assert data["aliases"] == ["Centre Francois Baclesse"]
    assert [t["nct_id"] for t in data["trials"]] == ["NCT06620835", "NCT02856893", "NCT03955198"]
    assert client.get("/api/centres/nope").status_code == 404
    assert client.get("/centres/nope").status_code == 404


def test_junk_query_parameters_never_500(app):
    load_all(app, guidelines=False)
    client = app.test_client()
    for url, code in [("/centres?page=-1", 400), ("/centres?page=0", 400), ("/centres?page=x", 400),
                      ("/centres?lat=abc&lon=2", 400), ("/centres?lat=95&lon=2", 400), ("/centres?lat=nan&lon=1", 400),
                      ("/centres?lat=inf&lon=1", 400), ("/api/centres?lon=1e999&lat=1", 400), ("/centres?lat=48.7", 200),
                      ("/centres?country=ZZ", 200), ("/centres?kind=bogus&network=%00", 200),
                      ("/centres?q=%00%27%22<script>", 200), ("/centres?city=" + "é" * 3000, 200),
                      ("/centres?near=%00", 200), ("/centres?page=10000", 200), ("/centres?page=10001", 400),
                      ("/api/centres?per_page=101", 400), ("/centres?lat=48,79&lon=2,36", 200)]:
        response = client.get(url)
        assert response.status_code == code, (url, response.status_code)
    assert "&#39;lat&#39; must be a number" in text(client.get("/centres?lat=abc&lon=2"))
    assert client.get("/api/centres?lat=abc&lon=1").get_json()["error"]["code"] == 400


def test_centre_list_runs_a_constant_number_of_statements(app):
    def grow(n):
        with app.app_context():
            for i in range(db.session.query(Centre).count(), n):
                name = f"Test Hospital {i:03d}"
                db.session.add(Centre(slug=f"test-{i}", name=name, name_key=matching.key(name), city="Lyon",
                                      city_key="lyon", country="FR", lat=45.7 + i / 1000, lon=4.8,
                                      networks=[CentreNetwork(network="eunetccc")]))
            db.session.commit()
    client = app.test_client()
    counts = {}
    for n in (10, 100):
        grow(n)
        for url in ("/centres?per_page=100", "/centres?per_page=100&lat=45&lon=4"):
            with statements(app) as seen:
                assert client.get(url).status_code == 200
            counts[(n, url)] = len(seen)
    for url in ("/centres?per_page=100", "/centres?per_page=100&lat=45&lon=4"):
        assert counts[(10, url)] == counts[(100, url)] <= 7, counts

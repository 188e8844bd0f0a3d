"""The directory and the JSON API: filters, search, paging, and counts that never include a
secret group for people outside it (nor a closed group's size)."""
import html
import re

from tests.factories import a_group, browser, member, person, staff, text


def _names(page: str) -> set[str]:
    return {html.unescape(n) for n in re.findall(r'<a href="/groups/[^"]+">([^<]+)</a></h3>', page)}


def _total(page: str) -> int:
    return int(re.search(r'<h2 id="results"[^>]*>(\d+) groups?</h2>', page).group(1))


def _world(app):
    owner, insider = person(app), person(app)
    groups = [
        a_group(app, owner, name="Living with lung cancer", kind="open", tags=["lung-cancer", "support"], country="ES",
                description="Patients and carers talk about daily life."),
        a_group(app, owner, name="Radiation oncology trainees", kind="closed", tags=["training"],
                network="interact_europe", description="Cohort 1 of the 100-centre programme."),
        a_group(app, owner, name="CCC thematic area: survivorship", kind="closed", tags=["survivorship", "support"],
                network="eunetccc_thematic"),
        a_group(app, owner, name="Carers' circle", kind="open", tags=["carers", "support"], country="PT"),
        a_group(app, owner, name="Tumour board coordinators", kind="secret", tags=["support", "tumour-boards"],
                country="ES", description="lung tumour boards"),
    ]
    member(app, groups[4], insider)
    return owner, insider, {g.name: g for g in groups}


def test_directory_filters_and_counts_leave_secret_groups_out_for_outsiders(app):
    owner, insider, groups = _world(app)
    secret = "Tumour board coordinators"
    for client in (app.test_client(), browser(app, person(app))):
        page = text(client.get("/groups"))
        assert _total(page) == 4 and secret not in page
        assert "support (3)" in page  # tag facet counts exclude the secret group too
        assert _total(text(client.get("/groups?kind=secret"))) == 0
        assert _total(text(client.get("/groups?tag=tumour-boards"))) == 0
        assert _total(text(client.get("/groups?country=ES"))) == 1
        assert _names(text(client.get("/groups?q=lung"))) == {"Living with lung cancer"}
        body = client.get("/api/groups").get_json()
        assert body["total"] == 4 and secret not in {g["name"] for g in body["groups"]}
        assert client.get("/api/groups?tag=tumour-boards").get_json()["total"] == 0

    for client in (browser(app, insider), browser(app, staff(app)), browser(app, staff(app, site_role="admin"))):
        page = text(client.get("/groups"))
        assert _total(page) == 5 and secret in _names(page) and "support (4)" in page
        assert _names(text(client.get("/groups?kind=secret"))) == {secret}
        assert client.get("/api/groups?country=ES").get_json()["total"] == 2


def test_directory_filters(app):
    _owner, _insider, _groups = _world(app)
    client = app.test_client()
    assert _names(text(client.get("/groups?tag=Support"))) == {"Living with lung cancer", "CCC thematic area: survivorship", "Carers' circle"}
    assert _names(text(client.get("/groups?network=interact_europe"))) == {"Radiation oncology trainees"}
    assert _names(text(client.get("/groups?kind=closed"))) == {"Radiation oncology trainees", "CCC thematic area: survivorship"}
    assert _names(text(client.get("/groups?q=cohort"))) == {"Radiation oncology trainees"}  # description too
    assert _names(text(client.get("/groups?q=CARERS&country=pt"))) == {"Carers' circle"}
    assert _total(text(client.get("/groups?q=%25"))) == 0  # LIKE wildcards are literal
    assert _total(text(client.get("/groups?q=_"))) == 0
    response = client.get("/groups?kind=bogus&country=XX")
    assert response.status_code == 200 and 'id="kind-error"' in text(response) and _total(text(response)) == 4
    assert client.get("/api/groups?kind=bogus").status_code == 400
    assert client.get("/api/groups?kind=bogus").get_json()["error"]["code"] == 400


def test_member_counts_show_for_open_groups_only_to_outsiders(app):
    owner, insider, groups = _world(app)
    for _ in range(2):
        member(app, groups["Radiation oncology trainees"], person(app))
    body = app.test_client().get("/api/groups").get_json()
    by_name = {g["name"]: g for g in body["groups"]}
    assert by_name["Living with lung cancer"]["member_count"] == 1
    assert "member_count" not in by_name["Radiation oncology trainees"]
    staff_body = browser(app, staff(app)).get("/api/groups").get_json()
    assert {g["name"]: g for g in staff_body["groups"]}["Radiation oncology trainees"]["member_count"] == 3
    page = text(app.test_client().get("/groups"))
    assert page.count("1 member<") == 2  # the two open groups; closed groups show no size


def test_directory_pages(app):
    owner = person(app)
    for i in range(25):
        a_group(app, owner, name=f"Group {i:02d}")
    client = app.test_client()
    first, second = text(client.get("/groups")), text(client.get("/groups?page=2"))
    assert len(_names(first)) == 20 and len(_names(second)) == 5 and not _names(first) & _names(second)
    assert 'rel="next"' in first and 'rel="prev"' in second
    assert client.get("/groups?page=abc").status_code == 200
    assert client.get("/api/groups?page=2").get_json()["groups"][0]["name"] == "Group 20"


def test_api_landing_info_follows_the_policy(app):
    owner = person(app)
    closed = a_group(app, owner, kind="closed", name="Closed one", description="**hi**", tags=["x"])
    secret = a_group(app, owner, kind="secret")
    anon = app.test_client()
    body = anon.get(f"/api/groups/{closed.slug}").get_json()
    assert body == {"slug": closed.slug, "name": "Closed one", "kind": "closed", "tags": ["x"], "country": None,
                    "network": None, "archived": False, "url": f"/groups/{closed.slug}",
                    "description_html": "<p><strong>hi</strong></p>"}
    assert anon.get(f"/api/groups/{secret.slug}").status_code == 404
    assert anon.get(f"/api/groups/{secret.slug}").get_json()["error"]["code"] == 404
    owner_client = browser(app, owner)
    assert owner_client.get(f"/api/groups/{secret.slug}").get_json()["member_count"] == 1
    members = owner_client.get(f"/api/groups/{closed.slug}/members").get_json()
    assert members == {"total": 1, "members": [{"id": owner.id, "display_name": owner.display_name, "role": "owner"}]}

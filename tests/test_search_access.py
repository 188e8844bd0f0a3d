"""The search channel of the access matrix: a marker string in a closed group's topic never
appears in any search response (hits, counts, facets, snippets, suggestions) to people who may
not read the group, appears for members, and follows membership and kind changes at once."""

import pytest

from app.extensions import db
from tests.factories import a_group, a_reply, a_topic, browser, group_form, member, person, staff, submit, text

MARKER = "zorblaxquux"
SEEK = "flibbertigibbet"  # searched for, so that the query echoed on the page is not the marker


def responses(client) -> dict:
    """Every search channel that could carry the marker out, as text."""
    out = {}
    for url in (f"/search?q={SEEK}", f"/search/community?q={SEEK}", f"/api/search?q={SEEK}",
                f"/api/search?q={SEEK}&type=community", f"/search/suggest?q={MARKER[:4]}",
                f"/search/suggest?q={SEEK[:5]}", f"/search?q={MARKER[:-2]}zz",
                "/search/community", "/api/search?type=community", "/search/community?sort=date"):
        response = client.get(url)
        assert response.status_code == 200, url
        out[url] = text(response)
    return out


def sees_marker(client) -> bool:
    found = {url: MARKER in body for url, body in responses(client).items()}
    return any(found.values())


def api_total(client, q=SEEK) -> int:
    return client.get(f"/api/search?q={q}&type=community").get_json()["total"]


@pytest.fixture
def world(app):
    owner = person(app)
    group = a_group(app, owner, kind="closed", name="Closed circle")
    topic = a_topic(app, owner, group=group, title=f"Private {MARKER} title {SEEK}",
                    body=f"Body with {MARKER} inside.")
    a_reply(app, topic, owner, body=f"A reply about {MARKER} too, {SEEK}.")
    people = {"visitor": None, "outsider": person(app), "pending": person(app), "banned": person(app),
              "member": person(app), "staff": staff(app)}
    member(app, group, people["pending"], state="pending")
    member(app, group, people["banned"], state="banned")
    member(app, group, people["member"])
    return {"group": group, "topic": topic, "owner": owner, **people}


@pytest.mark.parametrize("who", ["visitor", "outsider", "pending", "banned"])
def test_closed_group_content_never_reaches_non_members(app, world, who):
    client = browser(app, world[who])
    assert not sees_marker(client)
    assert api_total(client) == 0
    facets = client.get("/api/search?type=community").get_json()["facets"]
    # The closed group's public landing (name, description) counts; its topic and reply do not.
    counts = {f["value"]: f["count"] for f in facets.get("group_id", [])}
    assert counts.get(str(world["group"].id)) == 1


@pytest.mark.parametrize("who", ["member", "owner", "staff"])
def test_members_and_staff_find_it(app, world, who):
    client = browser(app, world[who])
    assert api_total(client) == 2  # the topic and its reply
    page = text(client.get(f"/search/community?q={MARKER}"))
    assert f"<mark>{MARKER}</mark>" in page
    assert sees_marker(client)


def test_removed_member_loses_it_in_the_same_request_cycle(app, world):
    client = browser(app, world["member"])
    assert api_total(client) == 2
    with app.test_request_context(f"/api/search?q={SEEK}&type=community"):
        from flask_login import login_user
        from app.accounts.models import User
        from app.groups import membership
        from app.groups.models import Group
        from app.search.routes import params, run
        owner = db.session.get(User, world["owner"].id)
        target = db.session.get(User, world["member"].id)
        group = db.session.get(Group, world["group"].id)
        login_user(target)
        assert run(params())["total"] == 2
        membership.remove(group, target, owner)  # one request: removal, then a search
        assert run(params())["total"] == 0
    assert not sees_marker(client)


def test_open_to_closed_hides_at_once_and_back(app):
    owner, outsider = person(app), person(app)
    group = a_group(app, owner, kind="open", name="Was open")
    a_topic(app, owner, group=group, title=f"Now {MARKER} {SEEK}", body="x")
    visitor = browser(app)
    assert api_total(visitor) == 1
    owner_client = browser(app, owner)
    response = submit(owner_client, f"/groups/{group.slug}/edit", group_form(name="Was open", kind="closed"))
    assert response.status_code in (302, 303)
    assert api_total(visitor) == 0 and api_total(browser(app, outsider)) == 0
    assert not sees_marker(visitor)
    assert api_total(owner_client) == 1
    submit(owner_client, f"/groups/{group.slug}/edit", group_form(name="Was open", kind="open"))
    assert api_total(visitor) == 1


def test_secret_group_is_not_even_a_search_hit(app):
    owner = person(app)
    a_group(app, owner, kind="secret", name=f"Secret {MARKER}", description=f"{SEEK} people")
    assert not sees_marker(browser(app))
    assert not sees_marker(browser(app, person(app)))
    assert api_total(browser(app, owner)) == 1


def test_stale_index_is_rechecked_against_the_database(app, world):
    """Even a document with a wrong scope in the index is dropped by the visible() re-check."""
    from app.search import documents, indexer
    with app.app_context():
        from app.forum.models import Topic
        doc = documents.topic(db.session.get(Topic, world["topic"].id))
        doc["scope"] = "public"  # as if the index lagged behind a kind change
        indexer.write(app.config["SEARCH_INDEX_DIR"], {doc["key"]: doc})
    body = text(browser(app).get(f"/api/search?q={SEEK}&type=community"))
    assert MARKER not in body

"""Groups through HTTP: creating, editing (kind changes take effect at once), the directory and
its filters, archive, transfer, delete, and bad input that must never lose what was typed."""
from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.groups.models import Group, GroupTag, Membership
from tests.factories import (a_group, browser, count, group_form, member, person, post, staff, state_of, submit, text,
                             without_tokens)


def _group(app, slug):
    with app.app_context():
        group = db.session.scalar(select(Group).where(Group.slug == slug))
        if group is not None:
            db.session.refresh(group)
            group.tag_list  # load tags while attached
        return group


# ---------------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------------

def test_confirmed_member_creates_open_and_closed_groups(app):
    owner = person(app)
    client = browser(app, owner)
    response = submit(client, "/groups/new", group_form(country="es", network="patient_org"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/groups/living-with-lung-cancer")
    group = _group(app, "living-with-lung-cancer")
    assert group.kind == "open" and group.owner_id == owner.id and group.country == "ES"
    assert group.tag_list == ["lung-cancer", "support"]
    assert "<strong>patients</strong>" in group.description_html  # rendered once, at write time
    assert state_of(app, group.id, owner.id) == ("member", "owner")

    response = submit(client, "/groups/new", group_form(name="Living with lung cancer", kind="closed"))
    assert response.headers["Location"].endswith("/groups/living-with-lung-cancer-2")  # unique slug
    assert _group(app, "living-with-lung-cancer-2").kind == "closed"


def test_only_site_moderators_and_admins_create_secret_groups(app):
    client = browser(app, person(app))
    form = client.get("/groups/new").get_data(as_text=True)
    assert 'value="secret"' not in form
    response = submit(client, "/groups/new", group_form(name="Hidden", kind="secret"))
    assert response.status_code == 403
    assert "secret" in text(response).lower()
    assert count(app, Group) == 0

    for role in ("moderator", "admin"):
        client = browser(app, staff(app, site_role=role))
        assert 'value="secret"' in client.get("/groups/new").get_data(as_text=True)
        response = submit(client, "/groups/new", group_form(name=f"Tumour board {role}", kind="secret"))
        assert response.status_code == 303
    assert count(app, Group, Group.kind == "secret") == 2


def test_unconfirmed_and_anonymous_people_cannot_create(app):
    client = browser(app, person(app, confirmed=False))
    response = client.get("/groups/new")
    assert response.status_code == 403 and "Confirm your e-mail" in text(response)
    anonymous = app.test_client()
    assert anonymous.get("/groups/new").status_code in (302, 401)
    assert anonymous.post("/groups/new", data=group_form()).status_code in (302, 400, 401)
    assert count(app, Group) == 0


def test_bad_input_is_refused_next_to_the_field_and_kept(app):
    client = browser(app, person(app))
    cases = [
        (dict(name=""), "name"),
        (dict(name="   "), "name"),
        (dict(name="x" * 121), "name"),
        (dict(description="y" * 10_001), "description"),
        (dict(tags=",".join(f"t{i}" for i in range(11))), "tags"),
        (dict(tags="a" * 41), "tags"),
        (dict(kind="public"), "kind"),
        (dict(network="nasa"), "network"),
        (dict(country="US"), "country"),
    ]
    for overrides, field in cases:
        data = group_form(**{"name": "Kept name", "description": "Kept description", **overrides})
        response = submit(client, "/groups/new", data)
        body = text(response)
        assert response.status_code == 400, (overrides, response.status_code)
        assert f'id="{field}-error"' in body, overrides  # the message sits next to its field
        kept = overrides.get("description", "Kept description")
        if len(kept) < 200:
            assert str(escape(kept)) in body  # nothing typed is lost
    assert count(app, Group) == 0


def test_a_group_named_new_does_not_hide_the_creation_form(app):
    client = browser(app, person(app))
    response = submit(client, "/groups/new", group_form(name="New"))
    assert response.headers["Location"].endswith("/groups/new-group")
    assert client.get("/groups/new").status_code == 200


# ---------------------------------------------------------------------------------------------
# Edit, and the kind change taking effect at once
# ---------------------------------------------------------------------------------------------

def test_owner_edits_and_open_to_closed_makes_inside_private_at_once(app):
    owner, outsider, insider = person(app), person(app), person(app)
    group = a_group(app, owner, name="Carers circle", tags=["carers"])
    member(app, group, insider)
    anon, stranger = app.test_client(), browser(app, outsider)
    assert stranger.get(f"/groups/{group.slug}/members").status_code == 200
    assert anon.get(f"/api/groups/{group.slug}/members").status_code == 200

    client = browser(app, owner)
    response = submit(client, f"/groups/{group.slug}/edit",
                      group_form(name="Carers' circle", description="Renamed.", tags="Carers, Respite",
                                 kind="closed", country="PT", network=""))
    assert response.status_code == 303
    edited = _group(app, group.slug)  # the slug stays: links in e-mails keep working
    assert (edited.name, edited.kind, edited.country, edited.tag_list) == ("Carers' circle", "closed", "PT", ["carers", "respite"])

    for path in (f"/groups/{group.slug}/members", f"/api/groups/{group.slug}/members", f"/groups/{group.slug}/forum"):
        assert stranger.get(path).status_code == 404, path
        assert anon.get(path).status_code == 404, path
    assert browser(app, insider).get(f"/groups/{group.slug}/members").status_code == 200
    landing = stranger.get(f"/groups/{group.slug}")
    assert landing.status_code == 200 and "Ask to join" in text(landing)


def test_group_moderator_edits_but_cannot_change_the_kind(app):
    owner, moderator = person(app), person(app)
    group = a_group(app, owner, kind="open")
    member(app, group, moderator, role="moderator")
    client = browser(app, moderator)
    response = submit(client, f"/groups/{group.slug}/edit", group_form(name="Better name", kind="open"))
    assert response.status_code == 303
    response = submit(client, f"/groups/{group.slug}/edit", group_form(name="Better name", kind="closed"))
    assert response.status_code == 403
    assert _group(app, group.slug).kind == "open"
    response = submit(browser(app, owner), f"/groups/{group.slug}/edit", group_form(name="Better name", kind="public"))
    assert response.status_code == 400 and 'id="kind-error"' in text(response)


def test_owner_cannot_make_a_group_secret_but_staff_can(app):
    owner = person(app)
    group = a_group(app, owner, kind="closed")
    response = submit(browser(app, owner), f"/groups/{group.slug}/edit", group_form(kind="secret"))
    assert response.status_code == 403 and _group(app, group.slug).kind == "closed"
    response = submit(browser(app, staff(app)), f"/groups/{group.slug}/edit", group_form(kind="secret"))
    assert response.status_code == 303 and _group(app, group.slug).kind == "secret"
    assert browser(app, person(app)).get(f"/groups/{group.slug}").status_code == 404


# ---------------------------------------------------------------------------------------------
# Archive, transfer, delete
# ---------------------------------------------------------------------------------------------

def test_archive_makes_the_group_read_only_and_toggles_back(app):
    from app import policy
    owner, newcomer, insider = person(app), person(app), person(app)
    group = a_group(app, owner)
    member(app, group, insider)
    owner_client = browser(app, owner)
    assert post(owner_client, f"/groups/{group.slug}/archive").status_code == 303
    assert _group(app, group.slug).is_archived

    response = post(browser(app, newcomer), f"/groups/{group.slug}/join")
    assert response.status_code == 403 and "archived" in text(response)
    assert state_of(app, group.id, newcomer.id) is None
    with app.test_request_context():
        assert not policy.can_post(insider, _group(app, group.slug))  # the forum asks the same rule
    assert submit(owner_client, f"/groups/{group.slug}/edit", group_form()).status_code == 403
    page = text(browser(app, newcomer).get(f"/groups/{group.slug}"))
    assert "archived" in page and "Join this group" not in page

    post(owner_client, f"/groups/{group.slug}/archive")
    assert not _group(app, group.slug).is_archived
    assert post(browser(app, newcomer), f"/groups/{group.slug}/join").status_code == 303


def test_transfer_ownership_then_the_old_owner_may_leave(app):
    owner, heir = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    member(app, group, heir)
    client = browser(app, owner)
    response = post(client, f"/groups/{group.slug}/leave")
    assert response.status_code == 403 and "transfer ownership" in text(response)

    outsider = person(app)
    assert post(client, f"/groups/{group.slug}/transfer", {"new_owner": outsider.id}).status_code == 400
    assert post(client, f"/groups/{group.slug}/transfer", {"new_owner": heir.id}).status_code == 303
    assert _group(app, group.slug).owner_id == heir.id
    assert state_of(app, group.id, heir.id) == ("member", "owner")
    assert state_of(app, group.id, owner.id) == ("member", "moderator")
    # the old owner no longer decides about the group itself
    assert post(client, f"/groups/{group.slug}/archive").status_code == 403
    assert post(client, f"/groups/{group.slug}/leave").status_code == 303
    assert state_of(app, group.id, owner.id) is None


def test_delete_needs_the_exact_name_and_takes_the_content_with_it(app):
    from app.forum.models import Post, Topic
    owner = person(app)
    group = a_group(app, owner, name="Doomed group", kind="closed")
    with app.app_context():
        topic = Topic(group_id=group.id, title="Inside talk", author_id=owner.id, post_count=1)
        db.session.add(topic)
        db.session.flush()
        db.session.add(Post(topic_id=topic.id, number=1, author_id=owner.id, body="hello", body_html="<p>hello</p>"))
        db.session.commit()
    client = browser(app, owner)
    assert client.get(f"/groups/{group.slug}/delete").status_code == 200
    response = submit(client, f"/groups/{group.slug}/delete", {"confirm_name": "doomed group"})
    assert response.status_code == 400 and "does not match" in text(response)
    assert _group(app, group.slug) is not None

    response = submit(client, f"/groups/{group.slug}/delete", {"confirm_name": "Doomed group"})
    assert response.status_code == 303
    assert _group(app, group.slug) is None
    assert count(app, Topic) == 0 and count(app, Post) == 0
    assert count(app, Membership) == 0 and count(app, GroupTag) == 0
    assert client.get(f"/groups/{group.slug}").status_code == 404


def test_only_the_owner_and_staff_archive_transfer_or_delete(app):
    owner, moderator = person(app), person(app)
    group = a_group(app, owner)
    member(app, group, moderator, role="moderator")
    client = browser(app, moderator)
    assert post(client, f"/groups/{group.slug}/archive").status_code == 403
    assert post(client, f"/groups/{group.slug}/transfer", {"new_owner": moderator.id}).status_code == 403
    assert client.get(f"/groups/{group.slug}/delete").status_code == 403
    assert post(client, f"/groups/{group.slug}/delete", {"confirm_name": group.name}).status_code == 403
    assert _group(app, group.slug).owner_id == owner.id

    admin = browser(app, staff(app, site_role="admin"))
    assert submit(admin, f"/groups/{group.slug}/delete", {"confirm_name": group.name}).status_code == 303
    assert _group(app, group.slug) is None


# ---------------------------------------------------------------------------------------------
# Landing page per kind
# ---------------------------------------------------------------------------------------------

def test_closed_landing_page_shows_name_description_and_request_button_but_no_members(app):
    owner = person(app, display_name="Owner Olga")
    group = a_group(app, owner, kind="closed", name="Oesophageal cancer survivors",
                    description="A *closed* circle.", tags=["survivorship"])
    for _ in range(3):
        member(app, group, person(app))
    page = text(browser(app, person(app)).get(f"/groups/{group.slug}"))
    assert "Oesophageal cancer survivors" in page and "<em>closed</em>" in page and "survivorship" in page
    assert "Ask to join" in page and "Closed group" in page
    assert "Owner Olga" not in page and "4 members" not in page  # who and how many stay inside
    assert "/members" not in page
    anon = text(app.test_client().get(f"/groups/{group.slug}"))
    assert "Log in to ask to join" in anon and "Owner Olga" not in anon
    inside = text(browser(app, owner).get(f"/groups/{group.slug}"))
    assert "4 members" in inside and "Owner Olga" in inside


def test_secret_group_is_a_404_like_a_missing_one_on_every_route(app):
    owner = person(app)
    group = a_group(app, owner, kind="secret", name="Tumour board coordinators")
    outsider = browser(app, person(app))
    anon = app.test_client()
    get_paths = ["", "/members", "/edit", "/request", "/requests", "/invite", "/delete", "/forum"]
    post_paths = ["/join", "/leave", "/request", "/archive", "/transfer", "/delete", "/invite",
                  f"/members/{owner.id}/ban", f"/requests/{owner.id}/approve"]
    for client in (outsider, anon):
        for suffix in get_paths:
            secret = client.get(f"/groups/{group.slug}{suffix}")
            missing = client.get(f"/groups/no-such-group{suffix}")
            assert secret.status_code == missing.status_code == 404, suffix
            assert without_tokens(text(secret)) == without_tokens(text(missing))
        for api in ("", "/members"):
            assert client.get(f"/api/groups/{group.slug}{api}").get_json() == client.get(f"/api/groups/nope{api}").get_json()
    for suffix in post_paths:
        secret = post(outsider, f"/groups/{group.slug}{suffix}", {"new_owner": owner.id})
        missing = post(outsider, f"/groups/no-such-group{suffix}", {"new_owner": owner.id})
        assert secret.status_code == missing.status_code == 404, suffix
    assert "Tumour board" not in text(outsider.get("/groups?q=Tumour"))
    assert browser(app, owner).get(f"/groups/{group.slug}").status_code == 200


def test_landing_page_lists_the_newest_group_topics_to_those_inside(app):
    from app.forum.models import Topic
    owner = person(app)
    group = a_group(app, owner, kind="closed")
    with app.app_context():
        db.session.add(Topic(group_id=group.id, title="Journal club: hypofractionation", author_id=owner.id, post_count=1))
        db.session.commit()
    assert "Journal club: hypofractionation" in text(browser(app, owner).get(f"/groups/{group.slug}"))
    assert "Journal club" not in text(browser(app, person(app)).get(f"/groups/{group.slug}"))

"""The Big List of Naughty Strings as a group's name, description, tags and a join request's
message: stored exactly, shown back escaped, never a 500."""

from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.groups.models import Group, Membership
from app.groups.services import GroupError, normalise_tags
from tests.factories import BLNS, a_group, browser, group_form, person, post, text


def _shown(value: str, page: str) -> bool:
    return str(escape(value)) in page


def test_naughty_strings_as_name_description_and_tags(app):
    owner = person(app)
    client = browser(app, owner)
    refused = 0
    for n, s in enumerate(BLNS):
        name = s.strip()
        try:
            normalise_tags(s)
            tags_ok = True
        except GroupError:  # more than 10 comma-separated pieces, or one over 40 characters
            tags_ok = False
        data = group_form(name=s, description=s, tags=s if tags_ok else "")
        response = post(client, "/groups/new", data)
        assert response.status_code in (303, 400), (n, s, response.status_code)
        if not name or len(name) > 120:
            assert response.status_code == 400, (n, s)
            assert 'id="name-error"' in text(response)
            refused += 1
            continue
        assert response.status_code == 303, (n, s, text(response)[:500])
        slug = response.headers["Location"].rsplit("/", 1)[1]
        with app.app_context():
            group = db.session.scalar(select(Group).where(Group.slug == slug))
            assert (group.name, group.description) == (name, s), n  # stored exactly
            stored_tags = group.tag_list
        page = text(client.get(f"/groups/{slug}"))
        assert _shown(name, page), (n, s)
        for tag in stored_tags:
            assert _shown(tag, page), (n, tag)
        edit = text(client.get(f"/groups/{slug}/edit"))
        assert _shown(s, edit), (n, s)  # the description comes back exactly in its textarea
    assert len(BLNS) - refused > 480  # only empty, blank and over-long names are refused
    assert client.get("/groups").status_code == 200
    assert client.get("/api/groups?page=3").status_code == 200
    for s in BLNS[:100]:
        assert client.get("/groups", query_string={"q": s, "tag": s}).status_code == 200
        assert client.get("/api/groups", query_string={"q": s}).status_code in (200, 400)


def test_naughty_strings_as_request_messages(app):
    owner, asker = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    client, moderator = browser(app, asker), browser(app, owner)
    for n, s in enumerate(BLNS):
        response = post(client, f"/groups/{group.slug}/request", {"message": s})
        assert response.status_code == 303, (n, s, response.status_code)
        with app.app_context():
            stored = db.session.scalar(select(Membership.request_message).where(Membership.user_id == asker.id))
        assert stored == (s or None), n
        if s.strip():
            assert _shown(s, text(moderator.get(f"/groups/{group.slug}/requests"))), (n, s)
        assert post(client, f"/groups/{group.slug}/leave").status_code == 303  # withdraw, ask again


def test_naughty_strings_as_invitation_targets_and_reasons(app):
    owner, target = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    client = browser(app, owner)
    for s in BLNS:
        response = post(client, f"/groups/{group.slug}/invite", {"who": s})
        assert response.status_code in (303, 400), (s, response.status_code)
    from tests.factories import member
    for s in BLNS[:150]:
        member(app, group, target)
        response = post(client, f"/groups/{group.slug}/members/{target.id}/remove", {"reason": s})
        assert response.status_code == 303, (s, response.status_code)
    page = text(client.get(f"/groups/{group.slug}/requests"))
    assert page.count("removed") >= 1

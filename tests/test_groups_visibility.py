"""Who sees whom: member lists per kind and viewer, and a profile's groups (a closed or secret
membership can reveal a diagnosis, so it shows only to people inside that group)."""
from tests.factories import a_group, browser, member, person, staff, text


def test_member_list_visibility_per_kind(app):
    owner, insider, pending, banned = person(app), person(app), person(app), person(app)
    groups = {kind: a_group(app, owner, kind=kind) for kind in ("open", "closed", "secret")}
    for group in groups.values():
        member(app, group, insider)
        member(app, group, pending, state="pending")
        member(app, group, banned, state="banned")
    viewers = {"anon": app.test_client(), "outsider": browser(app, person(app)), "pending": browser(app, pending),
               "banned": browser(app, banned), "member": browser(app, insider), "staff": browser(app, staff(app))}
    expected = {"open": {v: 200 for v in viewers},
                "closed": {"anon": 404, "outsider": 404, "pending": 404, "banned": 404, "member": 200, "staff": 200},
                "secret": {"anon": 404, "outsider": 404, "pending": 404, "banned": 404, "member": 200, "staff": 200}}
    for kind, group in groups.items():
        for name, client in viewers.items():
            assert client.get(f"/groups/{group.slug}/members").status_code == expected[kind][name], (kind, name)
            assert client.get(f"/api/groups/{group.slug}/members").status_code == expected[kind][name], (kind, name)
    # banned people are listed to moderators only
    page = text(viewers["member"].get(f"/groups/{groups['open'].slug}/members"))
    assert banned.display_name not in page
    assert banned.display_name in text(browser(app, owner).get(f"/groups/{groups['open'].slug}/members"))


def test_profile_shows_closed_and_secret_memberships_only_to_insiders(app):
    from app.groups.services import visible_memberships
    subject, fellow = person(app), person(app)
    groups = {kind: a_group(app, name=f"The {kind} one", kind=kind) for kind in ("open", "closed", "secret")}
    for group in groups.values():
        member(app, group, subject)
    member(app, groups["closed"], fellow)
    expect = {"anon": {"open"}, "outsider": {"open"}, "fellow": {"open", "closed"},
              "self": {"open", "closed", "secret"}, "staff": {"open", "closed", "secret"}}
    viewers = {"anon": None, "outsider": person(app), "fellow": fellow, "self": subject, "staff": staff(app)}
    for name, viewer in viewers.items():
        with app.test_request_context():
            from flask_login import AnonymousUserMixin
            kinds = {g.kind for g in visible_memberships(viewer or AnonymousUserMixin(), subject)}
        assert kinds == expect[name], name
        page = text(browser(app, viewer).get(f"/people/{subject.id}"))
        for kind, group in groups.items():
            assert (group.name in page) == (kind in expect[name]), (name, kind)

"""The directory, the landing page and the member list run the same number of SQL statements
for 5 groups or members as for 50 (DESIGN section 11: no N+1, decide access once per page)."""
from app.extensions import db
from tests.factories import add_member, browser, make_group, make_user, person, staff, statements


def _grow_groups(app, owner, n, start):
    with app.app_context():
        extra = make_user()
        for i in range(start, n):
            group = make_group(owner, name=f"Group {i:03d}", kind=("open", "closed", "secret")[i % 3],
                               tags=[f"tag{i % 7}", "support"], country="ES" if i % 2 else None)
            add_member(group, extra)


def _cheap_user(n: int, **kwargs):
    """A bare account row: hashing 50 passwords would dominate the test, and login is not tested."""
    from app.accounts.models import User
    user = User(email=f"bulk{n}@example.org", display_name=f"Member {n:03d}", password_hash="!", role="nurse",
                terms_version="test", **kwargs)
    db.session.add(user)
    db.session.flush()
    return user


def _grow_members(app, group, n, start):
    with app.app_context():
        for i in range(start, n):
            add_member(group, _cheap_user(i), role="moderator" if i % 10 == 0 else "member")
        for i in range(3):
            add_member(group, _cheap_user(1000 + start + i), state="banned")


def _count(app, client, url):
    client.get(url)  # warm-up: first-request work (session row, templates) is not what we measure
    with statements(app) as seen:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(seen)


def test_directory_queries_stay_flat_from_5_to_50_groups(app):
    owner = person(app)
    viewers = {"anon": app.test_client(), "member": browser(app, owner), "staff": browser(app, staff(app))}
    _grow_groups(app, owner, 5, 0)
    small = {name: {url: _count(app, c, url) for url in ("/groups", "/groups?tag=support&country=ES", "/api/groups")}
             for name, c in viewers.items()}
    _grow_groups(app, owner, 50, 5)
    large = {name: {url: _count(app, c, url) for url in ("/groups", "/groups?tag=support&country=ES", "/api/groups")}
             for name, c in viewers.items()}
    assert small == large
    assert max(max(v.values()) for v in large.values()) <= 8, large


def test_members_page_and_landing_queries_stay_flat_from_5_to_50_members(app):
    owner = person(app)
    with app.app_context():
        group = make_group(owner, kind="closed", name="Big group")
        slug = group.slug
    clients = {"owner": browser(app, owner), "staff": browser(app, staff(app))}
    urls = (f"/groups/{slug}/members", f"/groups/{slug}", f"/api/groups/{slug}/members")
    _grow_members(app, group, 5, 1)
    small = {name: {url: _count(app, c, url) for url in urls} for name, c in clients.items()}
    _grow_members(app, group, 50, 5)
    large = {name: {url: _count(app, c, url) for url in urls} for name, c in clients.items()}
    assert small == large
    assert max(max(v.values()) for v in large.values()) <= 10, large

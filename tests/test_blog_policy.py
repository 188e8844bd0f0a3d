"""The three forms of the blog rule agree for every kind of viewer and every kind of post:
can_view == row in visible() == scope in scopes_for (staff aside) == hit in the search index
(for published posts; drafts and deleted posts are never indexed). Then the write rules."""
import pytest
from sqlalchemy import select

from app import policy
from app.blog import services
from app.blog.models import BlogPost
from app.extensions import db
from app.search.query import search
from tests.factories import add_member, make_blog_post, make_group, make_user, make_viewers

VIEWERS = ("anon", "outsider", "unconfirmed", "pending", "member", "group_moderator", "banned", "author",
           "site_moderator", "admin")
WORD = "quokkablog"


@pytest.fixture
def world(ctx):
    owner = make_user()
    groups = {kind: make_group(owner, kind=kind, name=f"{kind} group") for kind in ("open", "closed", "secret")}
    author = make_user()
    viewers = {**make_viewers(groups.values()), "author": author}
    for group in groups.values():
        add_member(group, author)
    posts = {}
    for visibility in ("public", "members", "private"):
        posts[visibility] = make_blog_post(author, visibility=visibility, title=f"{visibility} {WORD}")
    for kind, group in groups.items():
        posts[f"{kind}-group"] = make_blog_post(author, group=group, title=f"{kind} group {WORD}")
        posts[f"{kind}-group-draft"] = make_blog_post(author, group=group, visibility="private", title=f"{kind} draft {WORD}")
    for name in ("deleted", "deleted-closed"):
        post = make_blog_post(author, group=groups["closed"] if name == "deleted-closed" else None, title=f"{name} {WORD}")
        services.delete_post(post, author)
        posts[name] = post
    return viewers, groups, posts


def _search_ids(app, user) -> set[int]:
    scopes = None if policy.is_staff(user) else policy.scopes_for(user)
    out = search(app.config["SEARCH_INDEX_DIR"], WORD, types=("community",), scopes=scopes, per_page=100)
    return {int(h["dbid"]) for h in out["hits"] if h["kind"] == "blogpost"}


def test_the_three_forms_of_the_blog_rule_agree_with_the_search(world, app):
    viewers, _groups, posts = world
    for name in VIEWERS:
        user = viewers[name]
        policy.forget()
        listed = set(db.session.scalars(policy.visible(select(BlogPost), user, BlogPost)))
        found = _search_ids(app, user)
        for key, post in posts.items():
            by_scope = policy.is_staff(user) or policy.scope_of(post) in policy.scopes_for(user)
            assert policy.can_view(user, post) == (post in listed) == by_scope, (name, key)
            indexed = post.visibility != "private" and post.deleted_at is None
            assert (post.id in found) == (indexed and by_scope), (name, key)


def test_the_rule_itself(world):
    viewers, _groups, posts = world
    sees = {name: {k for k, p in posts.items() if policy.can_view(viewers[name], p)} for name in VIEWERS}
    visitor = {"public", "open-group"}
    signed_in = visitor | {"members"}
    insider = signed_in | {"closed-group", "secret-group"}
    assert sees["anon"] == visitor
    for name in ("outsider", "unconfirmed", "pending", "banned"):
        assert sees[name] == signed_in, name
    assert sees["member"] == sees["group_moderator"] == insider
    assert sees["author"] == insider | {"private", "open-group-draft", "closed-group-draft", "secret-group-draft"}
    assert sees["site_moderator"] == sees["admin"] == set(posts)  # staff see drafts and deleted posts


def test_unknown_visibility_never_allows(world):
    viewers, _groups, _posts = world
    post = BlogPost(author_id=viewers["author"].id, visibility="everyone-ish", title="x", slug="x", body="x", body_html="")
    with pytest.raises(LookupError):
        policy.scope_of(post)
    with pytest.raises(LookupError):
        policy.can_view(viewers["outsider"], post)


def test_write_rules(world, app):
    viewers, groups, posts = world
    assert policy.can_write_blog(viewers["outsider"])
    assert not policy.can_write_blog(viewers["unconfirmed"])
    assert not policy.can_write_blog(viewers["anon"])
    assert policy.can_write_blog(viewers["member"], groups["closed"])
    for name in ("outsider", "pending", "banned"):
        assert not policy.can_write_blog(viewers[name], groups["open"]), name
    # Author, site staff, and (in a group) the group's moderators edit and delete; nobody else.
    for key in ("public", "members", "closed-group"):
        post = posts[key]
        for name in VIEWERS:
            expected = name in ("author", "site_moderator", "admin") or (name == "group_moderator" and post.group_id)
            assert policy.can_edit_blog_post(viewers[name], post) == bool(expected), (key, name)
            assert policy.can_delete_blog_post(viewers[name], post) == bool(expected), (key, name)
    for name in VIEWERS:
        assert not policy.can_edit_blog_post(viewers[name], posts["deleted"]), name
        assert not policy.can_delete_blog_post(viewers[name], posts["deleted"]), name
    # A moderator may correct the words but never publish someone else's draft.
    draft = posts["closed-group-draft"]
    with app.test_request_context(), pytest.raises(services.Denied):  # messages are translated
        services.update_post(draft, viewers["site_moderator"], title="Published by staff", body="x", visibility="group")
    assert db.session.get(BlogPost, draft.id).visibility == "private"

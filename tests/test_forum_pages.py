"""Performance budget (DESIGN 11) as tests: a topic page runs the same number of SQL statements
for 10 or 1,000 replies, signed in or not; pages are cut by post number; a GET writes nothing."""
import re

import pytest
from sqlalchemy import insert, update

from app.accounts.models import User
from app.extensions import db
from app.forum.models import Post, Topic
from app.models_base import utcnow
from tests.factories import a_group, a_topic, browser, member, person, statements, text

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)", re.I)


def _bulk_replies(app, topic, authors, n):
    """Insert n replies directly (the services are tested elsewhere; this keeps the test fast)."""
    with app.app_context():
        now = utcnow()
        rows = [{"topic_id": topic.id, "number": i + 2, "author_id": authors[i % len(authors)].id,
                 "body": f"Reply {i + 2}", "body_html": f"<p>Reply {i + 2}</p>", "html_version": 1,
                 "created_at": now} for i in range(n)]
        db.session.execute(insert(Post), rows)
        db.session.execute(update(Topic).where(Topic.id == topic.id).values(post_count=n + 1, last_post_at=now))
        db.session.commit()


def _authors(app):
    people = [person(app, role=role, profession=("Medical oncologist", "everyone"), specialty=("Lung", "members"))
              for role in ("clinician", "nurse", "patient", "carer")]
    with app.app_context():
        for p in people[:2]:
            db.session.get(User, p.id).verified_at = utcnow()
        db.session.commit()
    return people


def _count(app, client, url):
    client.get(url)  # warm: first-request work (template compile, etc.) is not the budget
    with statements(app) as seen:
        response = client.get(url)
    assert response.status_code == 200
    return seen


@pytest.mark.parametrize("signed_in,home", [(False, "category"), (True, "category"), (False, "open group"),
                                             (True, "closed group")])
def test_topic_page_queries_do_not_grow_with_replies(app, signed_in, home):
    authors = _authors(app)
    group = a_group(app, authors[0], kind=home.split()[0]) if "group" in home else None
    small, large = a_topic(app, authors[0], group=group), a_topic(app, authors[0], group=group)
    _bulk_replies(app, small, authors, 10)
    _bulk_replies(app, large, authors, 1000)
    reader = person(app) if signed_in else None
    if group is not None and reader is not None:
        member(app, group, reader)
    client = browser(app, reader)
    counts = {}
    for label, topic, page in (("small", small, 1), ("large-first", large, 1), ("large-middle", large, 25),
                               ("large-last", large, 51)):
        seen = _count(app, client, f"/t/{topic.id}?page={page}")
        assert not [s for s in seen if WRITE.match(s)], "a plain GET must not write"
        counts[label] = len(seen)
    assert len(set(counts.values())) == 1, counts
    assert counts["small"] <= (12 if signed_in else 6), counts


def test_pages_are_cut_by_number(app):
    authors = _authors(app)
    topic = a_topic(app, authors[2])
    _bulk_replies(app, topic, authors, 1000)
    client = browser(app)
    page = text(client.get(f"/t/{topic.id}?page=51"))
    assert "Reply 1001<" in page and "Reply 1000<" not in page
    page = text(client.get(f"/t/{topic.id}?page=2"))
    assert "Reply 21" in page and "Reply 40" in page and "Reply 41" not in page and "Reply 20<" not in page
    assert "Medical oncologist" in page  # badges of verified authors on every page
    assert text(client.get(f"/t/{topic.id}?page=999")).count('<li id="p') == 1  # clamped to the last page


def test_topic_lists_and_api_do_not_grow_either(app):
    authors = _authors(app)
    viewer = browser(app, person(app))
    from tests.factories import a_category
    few, many = a_category(app), a_category(app)
    for _ in range(3):
        a_topic(app, authors[0], category=few)
    for _ in range(40):
        a_topic(app, authors[1], category=many)
    for url_few, url_many in ((f"/forum/c/{few.slug}", f"/forum/c/{many.slug}"),
                              (f"/api/categories/{few.slug}/topics", f"/api/categories/{many.slug}/topics")):
        assert len(_count(app, viewer, url_few)) == len(_count(app, viewer, url_many))
    small, large = a_topic(app, authors[0]), a_topic(app, authors[0])
    _bulk_replies(app, small, authors, 10)
    _bulk_replies(app, large, authors, 300)
    assert len(_count(app, viewer, f"/api/topics/{small.id}")) == len(_count(app, viewer, f"/api/topics/{large.id}?page=9"))

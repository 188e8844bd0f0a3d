"""Atom feeds for a category, an open group's forum and a topic. Feed readers usually fetch
without a cookie, so they get what a visitor may read; a member's browser with a session gets
what the member may read. Either way the policy is asked at fetch time, never at publish time.

XML is written by ElementTree (it escapes every text node); post HTML goes into
``<content type="html">`` as escaped text, and characters XML 1.0 forbids are dropped."""
import re
from xml.etree import ElementTree as ET

from flask import Response, current_app, url_for
from flask_login import current_user
from sqlalchemy import and_, select
from sqlalchemy.orm import joinedload

from app import policy
from app.extensions import db
from app.forum import bp
from app.forum.models import Post, Topic
from app.forum.routes import category_or_404

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_SIZE = 20
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value) -> str:
    return _NOT_XML.sub("", str(value or ""))


def _absolute(path: str) -> str:
    # From configuration, never from the Host header: a cached feed must not carry a forged host.
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def _stamp(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_response(*, title: str, self_path: str, html_path: str, entries: list[dict]) -> Response:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def add(parent, tag, text=None, **attrs):
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _text(v) for k, v in attrs.items()})
        if text is not None:
            element.text = _text(text)
        return element

    add(feed, "title", title)
    add(feed, "id", _absolute(self_path))
    add(feed, "link", rel="self", type="application/atom+xml", href=_absolute(self_path))
    add(feed, "link", rel="alternate", type="text/html", href=_absolute(html_path))
    add(feed, "updated", _stamp(max((e["updated"] for e in entries), default=None) or _epoch()))
    for item in entries:
        entry = add(feed, "entry")
        add(entry, "title", item["title"])
        add(entry, "id", _absolute(item["path"]))
        add(entry, "link", rel="alternate", type="text/html", href=_absolute(item["path"]))
        add(entry, "published", _stamp(item["published"]))
        add(entry, "updated", _stamp(item["updated"]))
        add(add(entry, "author"), "name", item["author"])
        add(entry, "content", item["html"], type="html")
    body = ET.tostring(feed, encoding="unicode", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")


def _epoch():
    from datetime import datetime
    return datetime(2026, 1, 1)


def _topic_entries(query) -> list[dict]:
    """Newest topics with their opening post, one query; what the requester may not see is
    already filtered out by policy.visible."""
    query = (policy.visible(query, current_user, Topic)
             .join(Post, and_(Post.topic_id == Topic.id, Post.number == 1))
             .add_columns(Post).options(joinedload(Topic.author))
             .order_by(Topic.created_at.desc(), Topic.id.desc()).limit(FEED_SIZE))
    entries = []
    for topic, post in db.session.execute(query).unique():
        entries.append({"title": topic.title, "path": url_for("forum.topic", topic_id=topic.id, slug=topic.slug),
                        "published": topic.created_at, "updated": post.edited_at or post.created_at,
                        "author": topic.author.display_name,
                        "html": "<p>[removed]</p>" if post.is_removed else post.body_html})
    return entries


@bp.get("/forum/c/<slug>/feed.atom")
def category_feed(slug):
    category = category_or_404(slug)
    entries = _topic_entries(select(Topic).where(Topic.category_id == category.id))
    return atom_response(title=f"{category.name} · {current_app.config['SITE_NAME']}",
                         self_path=url_for("forum.category_feed", slug=slug),
                         html_path=url_for("forum.category", slug=slug), entries=entries)


@bp.get("/groups/<slug>/forum/feed.atom")
def group_feed(slug):
    group = policy.group_or_404(slug)  # closed and secret forums: 404 unless the requester is a member
    entries = _topic_entries(select(Topic).where(Topic.group_id == group.id))
    return atom_response(title=f"{group.name} · {current_app.config['SITE_NAME']}",
                         self_path=url_for("forum.group_feed", slug=slug),
                         html_path=url_for("forum.group_forum", slug=slug), entries=entries)


@bp.get("/t/<int(max=2147483647):topic_id>/feed.atom")
def topic_feed(topic_id):
    topic = policy.get_visible_or_404(Topic, topic_id)
    posts = db.session.scalars(select(Post).where(Post.topic_id == topic.id, Post.deleted_at.is_(None))
                               .options(joinedload(Post.author)).order_by(Post.number.desc()).limit(FEED_SIZE)).all()
    entries = [{"title": f"#{p.number} · {topic.title}",
                "path": url_for("forum.permalink", post_id=p.id),
                "published": p.created_at, "updated": p.edited_at or p.created_at,
                "author": p.author.display_name, "html": p.body_html} for p in posts]
    return atom_response(title=topic.title, self_path=url_for("forum.topic_feed", topic_id=topic.id),
                         html_path=url_for("forum.topic", topic_id=topic.id, slug=topic.slug), entries=entries)

"""Read side of the forum: every list and page here runs a fixed number of statements, whatever
the number of topics or replies (DESIGN 11). Access is decided once, in SQL, through
``policy.visible``; per-row decisions in templates only compare ids already loaded."""
from dataclasses import dataclass, field

from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import joinedload

from app import policy
from app.accounts.models import ProfileField
from app.extensions import db
from app.forum.models import Category, Post, Subscription, Topic, TopicRead
from app.sanitize import SANITIZER_VERSION, render_markdown

PER_PAGE = 20  # posts on a topic page
TOPICS_PER_PAGE = 30
BADGE_KEYS = ("profession", "specialty")


def signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def page_of(number: int) -> int:
    return (max(number, 1) - 1) // PER_PAGE + 1


def page_count(topic: Topic) -> int:
    return page_of(topic.post_count)


def category_overview(user) -> list[dict]:
    """Categories in order, each with its visible topic count and latest topic (two queries)."""
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.id)).all()
    part = {"partition_by": Topic.category_id}
    ranked = policy.visible(select(
        Topic.id, Topic.category_id, Topic.title, Topic.last_post_at,
        func.count().over(**part).label("topic_count"),
        func.row_number().over(order_by=(Topic.last_post_at.desc(), Topic.id.desc()), **part).label("rn"),
    ).where(Topic.category_id.is_not(None)), user, Topic).subquery()
    latest = {row.category_id: row for row in db.session.execute(select(ranked).where(ranked.c.rn == 1))}
    return [{"category": c, "topic_count": latest[c.id].topic_count if c.id in latest else 0,
             "latest": latest.get(c.id)} for c in categories]


@dataclass
class TopicRow:
    topic: Topic
    last_read: int | None = None
    level: str | None = None

    @property
    def unread(self) -> int:
        """Replies added since the member last read the topic (0 when never opened)."""
        if self.last_read is None:
            return 0
        return max(0, self.topic.post_count - self.last_read)


def topic_rows(user, *, category=None, group=None, page: int = 1, per_page: int = TOPICS_PER_PAGE,
               latest: bool = False) -> tuple[list[TopicRow], bool]:
    """Topics of one home (pinned first) or, with ``latest``, the newest activity everywhere the
    user may read, minus what they muted. One statement; returns rows and "is there more"."""
    me = signed_in(user)
    columns = [Topic, TopicRead.last_read_number, Subscription.level] if me else [Topic, literal(None), literal(None)]
    query = select(*columns).options(joinedload(Topic.author))
    if me:
        query = (query.outerjoin(TopicRead, and_(TopicRead.topic_id == Topic.id, TopicRead.user_id == user.id))
                 .outerjoin(Subscription, and_(Subscription.topic_id == Topic.id, Subscription.user_id == user.id)))
    if category is not None:
        query = query.where(Topic.category_id == category.id)
    if group is not None:
        query = query.where(Topic.group_id == group.id)
    query = policy.visible(query, user, Topic)
    if latest and me:
        muted_categories = select(Subscription.category_id).where(
            Subscription.user_id == user.id, Subscription.level == "muted", Subscription.category_id.is_not(None))
        query = query.where(or_(Subscription.level.is_(None), Subscription.level != "muted"),
                            or_(Topic.category_id.is_(None), Topic.category_id.not_in(muted_categories)))
    order = [Topic.last_post_at.desc(), Topic.id.desc()]
    if not latest:
        order.insert(0, Topic.pinned.desc())
    rows = db.session.execute(query.order_by(*order).offset((page - 1) * per_page).limit(per_page + 1)).unique().all()
    result = [TopicRow(topic, last_read, level) for topic, last_read, level in rows]
    return result[:per_page], len(result) > per_page


def badges_for(authors, viewer) -> dict[int, dict]:
    """Role for everyone; profession and specialty for verified professionals, only where the
    field's owner lets this viewer see it. One query for the whole page."""
    badges = {u.id: {"role": u.role_label, "verified": u.verified_at is not None} for u in authors}
    verified = [u.id for u in authors if u.verified_at is not None]
    query = policy.visible(select(ProfileField).where(
        ProfileField.user_id.in_(verified), ProfileField.key.in_(BADGE_KEYS), ProfileField.value != ""),
        viewer, ProfileField)
    for pf in db.session.scalars(query):
        badges[pf.user_id][pf.key] = pf.value
    return badges


@dataclass
class TopicPage:
    topic: Topic
    page: int
    pages: int
    posts: list
    badges: dict
    html: dict
    last_read: int | None = None
    level: str = "normal"
    can_reply: bool = False
    can_moderate: bool = False
    viewer_id: int | None = None
    rights: policy.PageRights = field(default_factory=policy.PageRights)
    extra: dict = field(default_factory=dict)

    @property
    def first_unread(self) -> int | None:
        if self.last_read is None or self.last_read >= self.topic.post_count:
            return None
        return self.last_read + 1


def topic_page(topic: Topic, user, page: int) -> TopicPage:
    """Posts ``number BETWEEN`` the page's bounds (numbers are dense), authors joined, badges in
    one query, permissions decided once for the page."""
    pages = page_count(topic)
    page = max(1, min(page, pages))
    low, high = (page - 1) * PER_PAGE + 1, page * PER_PAGE
    posts = db.session.scalars(select(Post).where(Post.topic_id == topic.id, Post.number.between(low, high))
                               .options(joinedload(Post.author)).order_by(Post.number)).all()
    badges = badges_for({p.author for p in posts}, user)
    # HTML is rendered at write time; a row from an older sanitiser is re-rendered for this view
    # only (no write on a GET; `flask forum rerender` fixes the stored copies).
    html = {p.id: Markup(p.body_html) if p.html_version >= SANITIZER_VERSION else render_markdown(p.body) for p in posts}
    result = TopicPage(topic=topic, page=page, pages=pages, posts=posts, badges=badges, html=html)
    if signed_in(user):
        result.viewer_id = user.id
        result.last_read = db.session.scalar(select(TopicRead.last_read_number).where(
            TopicRead.user_id == user.id, TopicRead.topic_id == topic.id))
        result.level = watch_level(user, topic)
        result.can_moderate = policy.can_moderate(user, topic.group)
        result.can_reply = policy.can_post(user, topic)
        result.rights = policy.PageRights(user.id, result.can_moderate, result.can_reply)
    return result


def watch_level(user, topic: Topic) -> str:
    targets = [Subscription.topic_id == topic.id]
    if topic.category_id is not None:
        targets.append(Subscription.category_id == topic.category_id)
    rows = db.session.execute(select(Subscription.topic_id, Subscription.level).where(
        Subscription.user_id == user.id, or_(*targets))).all()
    levels = {("topic" if topic_id else "category"): level for topic_id, level in rows}
    return levels.get("topic") or levels.get("category") or "normal"


def category_level(user, category: Category) -> str:
    if not signed_in(user):
        return "normal"
    return db.session.scalar(select(Subscription.level).where(
        Subscription.user_id == user.id, Subscription.category_id == category.id)) or "normal"


def first_unread_post(topic: Topic, user) -> Post | None:
    """The post after the reader's marker (or the last one when all is read)."""
    last = db.session.scalar(select(TopicRead.last_read_number).where(
        TopicRead.user_id == user.id, TopicRead.topic_id == topic.id)) or 0
    number = min(last + 1, topic.post_count)
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.number == number))


def viewer():
    """The signed-in user object (not the proxy), or None: services store ids from it."""
    return current_user._get_current_object() if signed_in(current_user) else None

"""Verbs that change the forum. The HTML forms, the JSON API, the demo loader and the socket
handler all call these, so validation, sanitising and the policy check happen once. Refusals are
``ServiceError``s carrying an HTTP status and, when it belongs to one input, the field name:
each channel turns them into its own kind of answer. After each commit a domain event says what
happened (``app/core/events.py``); live broadcasts and notifications subscribe to it."""
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm.attributes import set_committed_value

from app import policy
from app.composer.render import render_for
from app.core import events
from app.core.errors import Denied, NeedsConfirmation, ServiceError
from app.core.text import UNSTORABLE, clean_body, clean_title, slugify
from app.extensions import db
from app.forum.models import WATCH_LEVELS, Category, Post, PostRevision, Subscription, Topic, TopicRead
from app.models_base import utcnow
from app.sanitize import SANITIZER_VERSION

NAME_MAX = 120
DESCRIPTION_MAX = 2_000
QUOTE_MAX = 5_000


def UNCONFIRMED() -> str:  # noqa: N802 - a message, translated when raised
    return _("Please confirm your e-mail address before posting: use the link we sent you.")


# --- categories (admins) -----------------------------------------------------------------------

def create_category(*, name: str, description: str = "", position: int = 0) -> Category:
    name = clean_title(name, "name", NAME_MAX)
    category = Category(name=name, slug=_unique_slug(name), position=int(position or 0),
                        description=UNSTORABLE.sub("", description or "").strip()[:DESCRIPTION_MAX])
    db.session.add(category)
    db.session.commit()
    return category


def update_category(category: Category, *, name: str, description: str, position: int) -> Category:
    """The slug stays: feed readers and links keep working after a rename."""
    category.name = clean_title(name, "name", NAME_MAX)
    category.description = UNSTORABLE.sub("", description or "").strip()[:DESCRIPTION_MAX]
    category.position = int(position or 0)
    db.session.commit()
    return category


def move_category(category: Category, offset: int) -> None:
    """Swap with a neighbour and renumber 0..n, so positions never drift or collide."""
    ordered = list(db.session.scalars(select(Category).order_by(Category.position, Category.id)))
    index = ordered.index(category)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    for position, item in enumerate(ordered):
        item.position = position
    db.session.commit()


def _unique_slug(name: str) -> str:
    base = slugify(name, fallback="category")
    taken = set(db.session.scalars(select(Category.slug).where(
        (Category.slug == base) | Category.slug.like(base + "-%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


# --- topics and posts --------------------------------------------------------------------------

def render_body(body: str, author_id: int, *, strict: bool = True) -> str:
    """The stored HTML of a post: the author's own media embedded, mentions linked."""
    return str(render_for(author_id, body, strict=strict))


def create_topic(author, *, title: str, body: str, group=None, category=None) -> Topic:
    """A topic and its opening post (number 1); the author watches it from then on."""
    if (group is None) == (category is None):
        raise ValueError("a topic lives in exactly one category or group")
    if not author.is_confirmed:
        raise Denied(UNCONFIRMED())
    if not policy.can_start_topic(author, group if group is not None else category):
        raise Denied(_("Only members of this group can start topics here. Join the group first.")
                     if group is not None else _("Please sign in with an active account to post."))
    title, body = clean_title(title), clean_body(body)
    now = utcnow()
    topic = Topic(title=title, author_id=author.id, group=group, category=category, post_count=1,
                  last_post_at=now, created_at=now)
    db.session.add(topic)
    post = Post(topic=topic, number=1, author_id=author.id, body=body, body_html=render_body(body, author.id),
                html_version=SANITIZER_VERSION, created_at=now)
    db.session.add(post)
    db.session.flush()
    topic.last_post_id = post.id
    db.session.add(Subscription(user_id=author.id, topic_id=topic.id, level="watching"))
    db.session.add(TopicRead(user_id=author.id, topic_id=topic.id, last_read_number=1, updated_at=now))
    db.session.commit()
    events.post_created.send(post)
    return topic


def create_reply(topic: Topic, author, *, body: str, quote_of=None) -> Post:
    if not policy.can_post(author, topic):
        if not author.is_confirmed and policy.can_view(author, topic):
            raise Denied(UNCONFIRMED())
        if topic.locked and policy.can_view(author, topic):
            raise Denied(_("This topic is locked: it takes no new replies."))
        if topic.group is not None and topic.group.is_archived:
            raise Denied(_("This group is archived: it takes no new posts."))
        raise Denied(_("Only members of this group can reply. Join the group first.")
                     if topic.group is not None else _("Please sign in with an active account to post."))
    body = clean_body(body)
    quoted = _quoted_post(topic, quote_of)
    now = utcnow()
    # One atomic increment hands out the next number: dense per topic even under concurrent posts
    # (PostgreSQL holds the row lock until commit; SQLite serialises writers).
    number = db.session.execute(
        Topic.__table__.update().where(Topic.__table__.c.id == topic.id)
        .values(post_count=Topic.__table__.c.post_count + 1, last_post_at=now)
        .returning(Topic.__table__.c.post_count)).scalar_one()
    set_committed_value(topic, "post_count", number)
    set_committed_value(topic, "last_post_at", now)
    post = Post(topic=topic, number=number, author_id=author.id, body=body, body_html=render_body(body, author.id),
                html_version=SANITIZER_VERSION, created_at=now, quote_of_id=quoted.id if quoted else None)
    db.session.add(post)
    db.session.flush()
    topic.last_post_id = post.id
    _advance_read(author.id, topic, number)
    db.session.commit()
    events.post_created.send(post)
    return post


def quote_text(post: Post) -> str:
    """The Markdown a "Quote" link puts into the reply box."""
    source = post.body if len(post.body) <= QUOTE_MAX else post.body[:QUOTE_MAX] + "…"
    return "\n".join("> " + line for line in source.split("\n")) + "\n\n"


def _quoted_post(topic: Topic, quote_of) -> Post | None:
    if quote_of in (None, "", 0):
        return None
    post = quote_of if isinstance(quote_of, Post) else None
    if post is None:
        try:
            ident = int(quote_of)
        except (TypeError, ValueError):
            ident = 0
        post = db.session.get(Post, ident) if 0 < ident < 2**31 else None
    if post is None or post.topic_id != topic.id or post.deleted_at is not None:
        raise ServiceError(_("The post you are quoting is not part of this topic."), "quote_of")
    return post


def edit_post(post: Post, editor, *, body: str, title: str | None = None) -> Post:
    """Keep the previous text as a revision; people newly mentioned by the edit are told."""
    if not policy.can_edit_post(editor, post):
        raise Denied(_("You cannot edit this post."))
    body = clean_body(body)
    topic = post.topic
    new_title = clean_title(title) if title is not None and post.number == 1 else topic.title
    if body == post.body and new_title == topic.title:
        return post
    previous_body = post.body
    db.session.add(PostRevision(post_id=post.id, editor_id=editor.id, previous_body=post.body,
                                previous_title=topic.title if new_title != topic.title else None))
    post.body, post.body_html, post.html_version = body, render_body(body, post.author_id), SANITIZER_VERSION
    post.edited_at, post.edited_by_id = utcnow(), editor.id
    topic.title = new_title
    db.session.commit()
    events.post_edited.send(post, previous_body=previous_body)
    return post


def delete_post(post: Post, actor) -> str:
    """Soft delete: the thread keeps its shape and shows "removed". When an author removes an
    opening post nobody else has answered, the whole topic goes (there is nothing left to keep);
    with other people's replies only the opening text goes, their words stay. Returns what went."""
    if not policy.can_delete_post(actor, post):
        raise Denied(_("You cannot remove this post."))
    topic, now = post.topic, utcnow()
    gone = "post"
    if post.number == 1 and not db.session.scalar(select(exists().where(
            Post.topic_id == topic.id, Post.author_id != post.author_id, Post.deleted_at.is_(None)))):
        topic.deleted_at = now
        gone = "topic"
    if post.deleted_at is None:
        post.deleted_at, post.deleted_by_id = now, actor.id
    db.session.commit()
    if gone == "topic":
        events.topic_removed.send(topic)
    else:
        events.post_removed.send(post)
    return gone


# --- moderation --------------------------------------------------------------------------------

def _require_moderator(actor, topic: Topic) -> None:
    if not policy.can_moderate(actor, topic.group):
        raise Denied(_("Only moderators can do that."))


def set_pinned(topic: Topic, actor, pinned: bool) -> None:
    _require_moderator(actor, topic)
    topic.pinned = bool(pinned)
    db.session.commit()


def set_locked(topic: Topic, actor, locked: bool) -> None:
    _require_moderator(actor, topic)
    topic.locked = bool(locked)
    db.session.commit()


def delete_topic(topic: Topic, actor) -> None:
    _require_moderator(actor, topic)
    topic.deleted_at = utcnow()
    db.session.commit()
    events.topic_removed.send(topic)


def move_topic(topic: Topic, actor, *, category=None, group=None, confirm_wider: bool = False) -> None:
    """Moves need moderator rights at both ends. Content that was private to a group is never
    made readable by a different audience unless the moderator has confirmed the warning."""
    if (group is None) == (category is None):
        raise ServiceError(_("Choose where to move the topic."), "destination")
    destination = group if group is not None else category
    if not policy.can_move_topic(actor, topic, destination):
        raise Denied(_("You can only move topics between places you moderate."))
    if group is not None and group.is_archived:
        raise ServiceError(_("An archived group takes no new topics."), "destination")
    if topic.group_id == (group.id if group else None) and topic.category_id == (category.id if category else None):
        return
    old_scope = policy.PUBLIC if topic.group is None else policy.content_scope(topic.group)
    new_scope = policy.PUBLIC if group is None else policy.content_scope(group)
    if old_scope != policy.PUBLIC and new_scope != old_scope and not confirm_wider:
        raise NeedsConfirmation(_("This topic is private to its group. Moving it shows it to a different "
                                  "audience%(public)s. Confirm to move it anyway.",
                                  public=_(" (everyone, including visitors)") if new_scope == policy.PUBLIC else ""),
                                "confirm")
    old_group_id = topic.group_id
    topic.group, topic.category = group, category
    db.session.commit()
    events.topic_moved.send(topic, old_group_id=old_group_id)


# --- reading and watching ----------------------------------------------------------------------

def _advance_read(user_id: int, topic: Topic, number: int) -> bool:
    row = db.session.scalar(select(TopicRead).where(TopicRead.user_id == user_id, TopicRead.topic_id == topic.id))
    if row is None:
        db.session.add(TopicRead(user_id=user_id, topic_id=topic.id, last_read_number=number, updated_at=utcnow()))
        return True
    if row.last_read_number >= number:
        return False
    row.last_read_number, row.updated_at = number, utcnow()
    return True


def mark_read(user, topic: Topic, number: int) -> int:
    """Only ever moves forward, and only writes when it does; returns the stored marker."""
    number = max(0, min(int(number), topic.post_count))
    row = db.session.scalar(select(TopicRead).where(TopicRead.user_id == user.id, TopicRead.topic_id == topic.id))
    if row is not None and row.last_read_number >= number:
        return row.last_read_number
    if number:
        _advance_read(user.id, topic, number)
        db.session.commit()
    return number


def set_watch_level(user, level: str, *, topic: Topic | None = None, category: Category | None = None) -> None:
    if level not in WATCH_LEVELS:
        raise ServiceError(_("Unknown notification level."), "level")
    if (topic is None) == (category is None):
        raise ValueError("watch a topic or a category")
    if topic is not None and not policy.can_view(user, topic):
        raise Denied(_("You cannot follow this topic."))
    where = (Subscription.topic_id == topic.id) if topic is not None else (Subscription.category_id == category.id)
    sub = db.session.scalar(select(Subscription).where(Subscription.user_id == user.id, where))
    if sub is None:
        sub = Subscription(user_id=user.id, topic_id=topic.id if topic else None,
                           category_id=category.id if category else None)
        db.session.add(sub)
    sub.level = level
    db.session.commit()


def rerender_stale(batch: int = 500) -> int:
    """Re-render posts whose HTML came from an older sanitiser (after an allow-list change)."""
    done = 0
    while True:
        posts = db.session.scalars(select(Post).where(Post.html_version < SANITIZER_VERSION).limit(batch)).all()
        if not posts:
            return done
        for post in posts:
            post.body_html, post.html_version = render_body(post.body, post.author_id, strict=False), SANITIZER_VERSION
        db.session.commit()
        done += len(posts)

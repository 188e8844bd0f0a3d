"""Who hears about a new post, and what a person's notification list shows.

Fan-out happens at write time but is checked twice: a recipient must be able to see the topic
when the post is written (a mention never grants access) and again whenever the list is read,
through ``policy.visible`` on Post in the same query, so someone removed from a closed group
stops seeing (and counting) notifications about it at once."""
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import joinedload

from app import policy
from app.accounts.models import User
from app.core.pagination import fetch_page
from app.extensions import db
from app.forum.models import Post, Subscription
from app.models_base import utcnow
from app.notifications.models import Notification

PER_PAGE = 30
# When several reasons apply to one person, they get one notification of the strongest kind.
_PRIORITY = {"mention": 3, "quote": 2, "topic": 1, "reply": 1}


def watch_levels(topic, user_ids=None) -> dict[int, str]:
    """Effective level per user: a topic setting beats the category's; absent means normal."""
    conds = [Subscription.topic_id == topic.id]
    if topic.category_id is not None:
        conds.append(Subscription.category_id == topic.category_id)
    query = select(Subscription).where(or_(*conds))
    if user_ids is not None:
        query = query.where(Subscription.user_id.in_(list(user_ids)))
    levels: dict[int, str] = {}
    for sub in db.session.scalars(query.order_by(Subscription.topic_id.is_(None).desc())):
        levels[sub.user_id] = sub.level  # category rows first, topic rows override them
    return levels


def notify_new_post(post, *, mentioned=(), quoted_author=None, include_watchers=True) -> list[Notification]:
    """Create notifications for ``post`` (not committed: the caller's transaction owns them)."""
    topic = post.topic
    wanted: dict[int, str] = {}

    def offer(user_id, kind):
        if user_id is None or user_id == post.author_id:
            return
        if _PRIORITY[kind] > _PRIORITY.get(wanted.get(user_id), 0):
            wanted[user_id] = kind

    levels = watch_levels(topic)
    watcher_kind = "topic" if post.number == 1 else "reply"
    for user_id, level in levels.items():
        if level == "watching" and include_watchers:
            offer(user_id, watcher_kind)
    for user in mentioned:
        offer(user.id, "mention")
    if quoted_author is not None:
        offer(quoted_author.id, "quote")
    wanted = {uid: kind for uid, kind in wanted.items() if levels.get(uid) != "muted"}
    if not wanted:
        return []
    users = db.session.scalars(select(User).where(User.id.in_(list(wanted)), User.is_active_account.is_(True))).all()
    created = []
    for user in users:
        if not policy.can_view(user, topic):  # evaluated for the recipient, never the author
            continue
        note = Notification(user_id=user.id, kind=wanted[user.id], actor_id=post.author_id,
                            topic_id=topic.id, post_id=post.id)
        db.session.add(note)
        created.append(note)
    return created


def _visible_for(user):
    query = (select(Notification).join(Post, Notification.post_id == Post.id)
             .where(Notification.user_id == user.id, Post.deleted_at.is_(None)))
    return policy.visible(query, user, Post)


def get_visible(user, note_id: int) -> Notification | None:
    return db.session.scalar(_visible_for(user).where(Notification.id == note_id))


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    query = _visible_for(user).where(Notification.read_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def list_for(user, page: int = 1, unread_only: bool = False) -> tuple[list[Notification], bool]:
    """One page, newest first, plus whether an older page exists; actors and topics eager-loaded."""
    query = _visible_for(user)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    query = (query.options(joinedload(Notification.actor), joinedload(Notification.topic), joinedload(Notification.post))
             .order_by(Notification.id.desc()))
    return fetch_page(query, page, PER_PAGE, unique=True)


def mark_read(user, ids=None) -> int:
    """Mark some (or all) of the user's own notifications read; other people's ids are ignored."""
    stmt = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ids is not None:
        ids = [int(i) for i in ids if str(i).isdigit()][:500]
        if not ids:
            return 0
        stmt = stmt.where(Notification.id.in_(ids))
    result = db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0

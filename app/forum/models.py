"""The forum: site-wide categories, a forum inside every group, topics, replies and their history.

Posts store their sanitised HTML beside the Markdown source (rendered at write time, never on
view); ``html_version`` records the sanitiser version so a changed allow-list can re-render."""
from app.core.text import slugify
from app.extensions import db
from app.models_base import TimestampMixin, utcnow

WATCH_LEVELS = ("watching", "normal", "muted")


class Category(TimestampMixin, db.Model):
    __tablename__ = "categories"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(90), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    position = db.Column(db.Integer, nullable=False, default=0)


class Topic(TimestampMixin, db.Model):
    """A topic lives either in a site-wide category or in one group's forum (never both)."""
    __tablename__ = "topics"
    __table_args__ = (
        db.CheckConstraint("(category_id IS NULL) <> (group_id IS NULL)", name="one_home"),
        db.Index("ix_topics_group_activity", "group_id", "pinned", "last_post_at"),
        db.Index("ix_topics_category_activity", "category_id", "pinned", "last_post_at"),
    )
    id = db.Column(db.Integer, primary_key=True)
    category_id = db.Column(db.Integer, db.ForeignKey("categories.id"), index=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    title = db.Column(db.String(200), nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    pinned = db.Column(db.Boolean, nullable=False, default=False)
    locked = db.Column(db.Boolean, nullable=False, default=False)
    deleted_at = db.Column(db.DateTime)
    post_count = db.Column(db.Integer, nullable=False, default=0)  # includes the opening post
    last_post_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_post_id = db.Column(db.Integer)

    category = db.relationship("Category")
    group = db.relationship("Group")
    author = db.relationship("User")

    @property
    def slug(self) -> str:
        """Only decorates the URL (/t/<id>/<slug>); the id alone finds the topic."""
        return slugify(self.title, fallback="topic")


class Post(db.Model):
    """The opening post (number 1) and every reply; removal is soft so threads keep their shape."""
    __tablename__ = "posts"
    __table_args__ = (db.UniqueConstraint("topic_id", "number", name="uq_posts_topic_number"),)
    id = db.Column(db.Integer, primary_key=True)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="CASCADE"), nullable=False)
    number = db.Column(db.Integer, nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    body = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)
    html_version = db.Column(db.Integer, nullable=False, default=1)
    quote_of_id = db.Column(db.Integer, db.ForeignKey("posts.id", ondelete="SET NULL"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
    edited_at = db.Column(db.DateTime)
    edited_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    deleted_at = db.Column(db.DateTime)
    deleted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))

    topic = db.relationship("Topic")
    author = db.relationship("User", foreign_keys=[author_id])
    edited_by = db.relationship("User", foreign_keys=[edited_by_id])

    @property
    def is_removed(self) -> bool:
        return self.deleted_at is not None

    @property
    def removed_by_author(self) -> bool:
        return self.deleted_by_id == self.author_id


class PostRevision(db.Model):
    """The text a post had before an edit: who changed it and when (shown to moderators)."""
    __tablename__ = "post_revisions"
    id = db.Column(db.Integer, primary_key=True)
    post_id = db.Column(db.Integer, db.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, index=True)
    editor_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    previous_body = db.Column(db.Text, nullable=False)
    previous_title = db.Column(db.String(200))  # set when the edit changed the topic title
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    editor = db.relationship("User")


class TopicRead(db.Model):
    """How far a member has read a topic: drives unread markers and the jump to the first unread."""
    __tablename__ = "topic_reads"
    __table_args__ = (db.UniqueConstraint("user_id", "topic_id", name="uq_topic_reads_user_topic"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="CASCADE"), nullable=False, index=True)
    last_read_number = db.Column(db.Integer, nullable=False, default=0)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow)


class Subscription(db.Model):
    """Watching / normal / muted, for a topic or a category (exactly one of the two)."""
    __tablename__ = "subscriptions"
    __table_args__ = (
        db.UniqueConstraint("user_id", "topic_id", name="uq_subscriptions_user_topic"),
        db.UniqueConstraint("user_id", "category_id", name="uq_subscriptions_user_category"),
        db.CheckConstraint("(topic_id IS NULL) <> (category_id IS NULL)", name="one_target"),
    )
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="CASCADE"))
    category_id = db.Column(db.Integer, db.ForeignKey("categories.id", ondelete="CASCADE"))
    level = db.Column(db.String(10), nullable=False, default="normal")

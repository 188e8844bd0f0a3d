"""A live chat room per group. Messages are numbered per group (``seq``, dense, in commit order)
so a reconnecting client can say "I have everything up to 41" and nothing committed later can
carry a smaller number (ids from a shared sequence can commit out of order)."""

from app.extensions import db
from app.models_base import utcnow


class ChatRoom(db.Model):
    """One row per group that has ever chatted: the counter whose row lock orders messages."""
    __tablename__ = "chat_rooms"
    id = db.Column(db.Integer, primary_key=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, unique=True)
    last_seq = db.Column(db.Integer, nullable=False, default=0)


class ChatMessage(db.Model):
    __tablename__ = "chat_messages"
    __table_args__ = (db.UniqueConstraint("group_id", "seq", name="uq_chat_messages_group_seq"),)
    id = db.Column(db.Integer, primary_key=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False)
    seq = db.Column(db.Integer, nullable=False)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    body = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)
    html_version = db.Column(db.Integer, nullable=False, default=1)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    deleted_at = db.Column(db.DateTime)
    deleted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    # Set when a moderator turned the message into a forum topic.
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="SET NULL"))

    group = db.relationship("Group")
    author = db.relationship("User", foreign_keys=[author_id])
    topic = db.relationship("Topic")

    @property
    def is_removed(self) -> bool:
        return self.deleted_at is not None


class ChatMention(db.Model):
    """"@[Name] in a chat message": kept until read, shown on the group's live page."""
    __tablename__ = "chat_mentions"
    __table_args__ = (db.UniqueConstraint("user_id", "message_id", name="uq_chat_mentions_user_message"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    message_id = db.Column(db.Integer, db.ForeignKey("chat_messages.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    read_at = db.Column(db.DateTime)
    message = db.relationship("ChatMessage")

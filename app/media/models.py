"""The media library: files members upload, the albums they sort them into, and where each file
is used.

A file's bytes live under a random name in ``UPLOAD_DIR`` (never under ``static/``); the name the
member gave is kept only as text. Who may see a file is decided by ``app/policy/media.py`` from
its owner, the group it is shared to, and its ``MediaUse`` rows: a file is visible wherever one of
the places that show it is visible (a post, a blog post, an event, a profile, a group).
"""
from app.extensions import db
from app.models_base import TimestampMixin, utcnow

KINDS = ("image", "video", "document")
LICENCES = {
    "all-rights-reserved": "All rights reserved",
    "cc-by-4.0": "CC BY 4.0",
    "cc-by-sa-4.0": "CC BY-SA 4.0",
    "cc-by-nc-4.0": "CC BY-NC 4.0",
    "cc0-1.0": "CC0 (public domain)",
}
# Where a file can be used, and as what.
USE_ROLES = ("embed", "cover", "avatar", "programme")


class Album(TimestampMixin, db.Model):
    __tablename__ = "media_albums"
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    title = db.Column(db.String(200), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")

    owner = db.relationship("User")


class Media(TimestampMixin, db.Model):
    __tablename__ = "media"
    __table_args__ = (db.Index("ix_media_owner_created", "owner_id", "created_at"),
                      db.Index("ix_media_group_created", "group_id", "created_at"))
    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    # Shared to a group: its members (like the group's forum) see it in the group's files.
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="SET NULL"))
    album_id = db.Column(db.Integer, db.ForeignKey("media_albums.id", ondelete="SET NULL"), index=True)
    kind = db.Column(db.String(10), nullable=False)
    content_type = db.Column(db.String(40), nullable=False)
    stored_name = db.Column(db.String(80), nullable=False, unique=True)  # random; the path on disk
    original_name = db.Column(db.String(255), nullable=False, default="")  # as sent, text only
    title = db.Column(db.String(200), nullable=False, default="")
    description = db.Column(db.Text, nullable=False, default="")
    alt = db.Column(db.String(500), nullable=False, default="")
    licence = db.Column(db.String(30), nullable=False, default="all-rights-reserved")
    size = db.Column(db.Integer, nullable=False)  # bytes on disk
    width = db.Column(db.Integer)
    height = db.Column(db.Integer)
    frames = db.Column(db.Integer, nullable=False, default=1)
    sha256 = db.Column(db.String(64), nullable=False)
    thumbnails_at = db.Column(db.DateTime)  # when both thumbnails were written

    owner = db.relationship("User")
    group = db.relationship("Group")
    album = db.relationship("Album")
    uses = db.relationship("MediaUse", back_populates="media", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    @property
    def needs_alt(self) -> bool:
        """Images are embedded only once they describe themselves to screen-reader users."""
        return self.kind == "image" and not self.alt.strip()

    @property
    def label(self) -> str:
        return self.title or self.original_name or f"File {self.id}"


class MediaUse(db.Model):
    """One place that shows a file: a post's body, a blog post's cover, a profile's avatar…
    Kept in step with those places by ``app/media/uses.py``."""
    __tablename__ = "media_uses"
    __table_args__ = (db.UniqueConstraint("media_id", "parent_type", "parent_id", "role", name="uq_media_use"),
                      db.Index("ix_media_uses_parent", "parent_type", "parent_id"))
    id = db.Column(db.Integer, primary_key=True)
    media_id = db.Column(db.Integer, db.ForeignKey("media.id", ondelete="CASCADE"), nullable=False, index=True)
    parent_type = db.Column(db.String(20), nullable=False)
    parent_id = db.Column(db.Integer, nullable=False)
    role = db.Column(db.String(10), nullable=False, default="embed")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    media = db.relationship("Media", back_populates="uses")

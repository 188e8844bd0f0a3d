"""Blog posts: a member's personal blog, or a group's blog (inside the group, like its forum).

The Markdown source is kept beside its sanitised HTML, rendered once at write time through
``app/sanitize.py``; ``html_version`` records the sanitiser version so a changed allow-list can
re-render. Who may read a post is decided by ``app/policy/blog.py`` from ``visibility``, ``group_id``
and ``deleted_at`` alone:

* ``public`` / ``members`` / ``private`` (a draft only its author sees): personal posts;
* ``group`` / ``private``: posts in a group's blog (readable like the group's forum).
"""
from app.extensions import db
from app.models_base import TimestampMixin

PERSONAL_VISIBILITIES = ("public", "members", "private")
GROUP_VISIBILITIES = ("group", "private")
VISIBILITIES = ("public", "members", "group", "private")


class BlogPost(TimestampMixin, db.Model):
    __tablename__ = "blog_posts"
    __table_args__ = (
        db.CheckConstraint(
            "(group_id IS NULL AND visibility IN ('public', 'members', 'private')) OR "
            "(group_id IS NOT NULL AND visibility IN ('group', 'private'))", name="visibility_fits_home"),
        db.Index("ix_blog_posts_author_published", "author_id", "published_at"),
        db.Index("ix_blog_posts_group_published", "group_id", "published_at"),
        db.Index("ix_blog_posts_published", "published_at"),
    )
    id = db.Column(db.Integer, primary_key=True)
    author_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"))
    title = db.Column(db.String(200), nullable=False)
    slug = db.Column(db.String(90), nullable=False)  # decorates the URL; the id finds the post
    body = db.Column(db.Text, nullable=False)
    body_html = db.Column(db.Text, nullable=False)
    html_version = db.Column(db.Integer, nullable=False, default=1)
    visibility = db.Column(db.String(10), nullable=False, default="private")
    published_at = db.Column(db.DateTime)  # first time it was made non-private; kept after that
    deleted_at = db.Column(db.DateTime)
    deleted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    cover_id = db.Column(db.Integer)  # a picture from the author's media library (app/media)

    author = db.relationship("User", foreign_keys=[author_id])
    group = db.relationship("Group")

    @property
    def is_draft(self) -> bool:
        return self.visibility == "private"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

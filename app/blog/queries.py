"""Read side of blogs: every list is one statement (authors and groups joined), with access
decided in SQL by ``policy.visible``. Lists show published posts only; drafts appear on their
author's own blog page, and deleted posts nowhere (staff open them by URL)."""
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import policy
from app.blog.models import BlogPost
from app.core.pagination import fetch_page
from app.extensions import db

PER_PAGE = 20
FEED_SIZE = 20


def _published(user):
    query = (select(BlogPost).where(BlogPost.deleted_at.is_(None), BlogPost.visibility != "private")
             .options(joinedload(BlogPost.author), joinedload(BlogPost.group)))
    return policy.visible(query, user, BlogPost)


def _page(query, page: int, per_page: int) -> tuple[list[BlogPost], bool]:
    return fetch_page(query.order_by(BlogPost.published_at.desc(), BlogPost.id.desc()), page, per_page, unique=True)


def latest(user=None, *, page: int = 1, per_page: int = PER_PAGE, author=None, group=None):
    """Published posts the user may read, newest first; returns (posts, has_next)."""
    user = current_user if user is None else user
    query = _published(user)
    if author is not None:
        query = query.where(BlogPost.author_id == author.id)
    if group is not None:
        query = query.where(BlogPost.group_id == group.id)
    return _page(query, page, per_page)


def drafts_of(user) -> list[BlogPost]:
    """The signed-in user's own drafts (personal and in groups they can still read)."""
    query = (select(BlogPost).where(BlogPost.author_id == user.id, BlogPost.deleted_at.is_(None),
                                    BlogPost.visibility == "private")
             .options(joinedload(BlogPost.group)).order_by(BlogPost.updated_at.desc(), BlogPost.id.desc()))
    return list(db.session.scalars(policy.visible(query, user, BlogPost)).unique())

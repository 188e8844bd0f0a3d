"""Verbs that change blogs. The HTML forms and the demo loader call these, so validation,
sanitising and the policy check happen once. The search index follows through its session
hooks: a draft or a deleted post is never indexed, and a group's kind change re-stamps the
posts inside it. Errors are ``ServiceError``s (an HTTP status plus, when it belongs
to one input, the field name)."""
from flask_babel import gettext as _
from sqlalchemy import select

from app import policy
from app.blog.models import GROUP_VISIBILITIES, PERSONAL_VISIBILITIES, BlogPost
from app.composer.render import render_for
from app.core.errors import Denied, ServiceError
from app.core.text import clean_body, clean_title, slugify
from app.extensions import db
from app.media.services import choose_picture
from app.models_base import utcnow
from app.sanitize import SANITIZER_VERSION

__all__ = ["Denied", "create_post", "update_post", "delete_post"]


def allowed_visibilities(group=None) -> tuple[str, ...]:
    return GROUP_VISIBILITIES if group is not None else PERSONAL_VISIBILITIES


def _check_visibility(visibility, group) -> str:
    if visibility not in allowed_visibilities(group):
        raise ServiceError(_("Choose who can read this post."), "visibility")
    return visibility


def _refusal(author, group) -> str:
    if getattr(author, "is_authenticated", False) and not author.is_confirmed:
        return _("Please confirm your e-mail address before posting: use the link we sent you.")
    if group is not None and group.is_archived:
        return _("This group is archived: it takes no new posts.")
    if group is not None:
        return _("Only members of this group can write in its blog. Join the group first.")
    return _("Please sign in with an active account to write.")


def _render(post: BlogPost, title: str, body: str) -> None:
    post.title, post.slug = title, slugify(title, fallback="post")
    if body != post.body or post.html_version != SANITIZER_VERSION:
        post.body, post.body_html, post.html_version = body, str(render_for(post.author_id, body)), SANITIZER_VERSION


def _cover(author_id: int, cover_id: int | None) -> int | None:
    """Only the author's own, described image can be the cover (it is shown wherever the post is)."""
    media = choose_picture(author_id, cover_id, field="cover")
    return media.id if media is not None else None


def create_post(author, *, title: str, body: str, visibility: str = "private", group=None,
                cover_id: int | None = None) -> BlogPost:
    """A new post in the author's blog or a group's blog; ``private`` keeps it as a draft."""
    if not policy.can_write_blog(author, group):
        raise Denied(_refusal(author, group))
    title, body = clean_title(title), clean_body(body)
    visibility = _check_visibility(visibility, group)
    post = BlogPost(author_id=author.id, group=group, visibility=visibility, body="", html_version=0)
    _render(post, title, body)
    post.cover_id = _cover(author.id, cover_id)
    if visibility != "private":
        post.published_at = utcnow()
    db.session.add(post)
    db.session.commit()
    return post


def update_post(post: BlogPost, editor, *, title: str, body: str, visibility: str | None = None,
                cover_id: int | None = None) -> BlogPost:
    """Moderators may correct the words; only the author decides who reads them (so nobody
    else can publish a draft or widen a post's audience)."""
    if not policy.can_edit_blog_post(editor, post):
        raise Denied(_("You cannot edit this post."))
    title, body = clean_title(title), clean_body(body)
    visibility = post.visibility if visibility is None else _check_visibility(visibility, post.group)
    if visibility != post.visibility and not policy.can_choose_blog_audience(editor, post):
        raise Denied(_("Only the author can change who reads this post."), "visibility")
    _render(post, title, body)
    post.cover_id = _cover(post.author_id, cover_id)
    post.visibility = visibility
    if visibility != "private" and post.published_at is None:
        post.published_at = utcnow()
    db.session.commit()
    return post


def delete_post(post: BlogPost, actor) -> None:
    """Soft delete: gone for everyone but site staff, and out of the search index."""
    if not policy.can_delete_blog_post(actor, post):
        raise Denied(_("You cannot delete this post."))
    post.deleted_at, post.deleted_by_id = utcnow(), actor.id
    db.session.commit()


def rerender_stale(batch: int = 500) -> int:
    """Re-render posts whose HTML came from an older sanitiser (after an allow-list change)."""
    done = 0
    while True:
        posts = db.session.scalars(select(BlogPost).where(BlogPost.html_version < SANITIZER_VERSION)
                                   .limit(batch)).all()
        if not posts:
            return done
        for post in posts:
            post.body_html, post.html_version = str(render_for(post.author_id, post.body, strict=False)), SANITIZER_VERSION
        db.session.commit()
        done += len(posts)

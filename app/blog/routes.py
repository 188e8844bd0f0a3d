"""Blog pages: the latest posts, a post, one author's blog, a group's blog, writing, editing,
deleting, and their Atom feeds.

Every route loads what it shows through the policy: an invisible post, author or group answers
404 (absent and forbidden look alike); a visible post that is not yours to change answers 403.
Reading is a plain GET and never writes."""
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app import policy
from app.accounts.models import User
from app.blog import bp, queries, services
from app.blog.forms import BlogPostForm, ConfirmForm
from app.blog.models import BlogPost
from app.composer.confirm import CONFIRM_STATUS, warnings_to_confirm
from app.core.auth import login_required
from app.core.errors import ServiceError
from app.core.pagination import page_arg
from app.extensions import db
from app.forum.feeds import atom_response
from app.forum.limits import posting_limit
from app.forum.queries import viewer
from app.media.forms import picture_choices
from app.media.models import Media
from app.sanitize import SANITIZER_VERSION, render_markdown

ID = "int(max=2147483647)"


def post_url(post: BlogPost, **kwargs) -> str:
    return url_for("blog.show", post_id=post.id, slug=post.slug, **kwargs)


def post_html(post: BlogPost) -> Markup:
    """Stored at write time; a row from an older sanitiser is re-rendered for this view only."""
    return Markup(post.body_html) if post.html_version >= SANITIZER_VERSION else render_markdown(post.body)


def home_url(post: BlogPost) -> str:
    if post.group is not None:
        return url_for("blog.group_blog", slug=post.group.slug)
    return url_for("blog.author", user_id=post.author_id)


@bp.app_context_processor
def _blog_helpers():
    return {"blog_post_url": post_url}


# --- reading ------------------------------------------------------------------------------------

@bp.get("/blog")
def index():
    page = page_arg()
    posts, has_next = queries.latest(page=page)
    return render_template("blog/index.html", posts=posts, page=page, has_next=has_next,
                           can_write=policy.can_write_blog(current_user))


@bp.get(f"/blog/<{ID}:post_id>")
def permalink(post_id):
    post = policy.get_visible_or_404(BlogPost, post_id)
    return redirect(post_url(post), 301)


@bp.get(f"/blog/<{ID}:post_id>-<slug>")
def show(post_id, slug):
    post = policy.get_visible_or_404(BlogPost, post_id)
    if slug != post.slug:
        return redirect(post_url(post), 301)
    cover = db.session.get(Media, post.cover_id) if post.cover_id else None  # shown wherever the post is
    return render_template("blog/show.html", post=post, html=post_html(post), home_url=home_url(post), cover=cover)


@bp.get(f"/people/<{ID}:user_id>/blog")
def author(user_id):
    person = policy.get_visible_or_404(User, user_id)
    page = page_arg()
    posts, has_next = queries.latest(page=page, author=person)
    is_owner = current_user.is_authenticated and current_user.id == person.id
    return render_template("blog/author.html", person=person, posts=posts, page=page, has_next=has_next,
                           is_owner=is_owner, drafts=queries.drafts_of(person) if is_owner else [],
                           can_write=is_owner and policy.can_write_blog(current_user))


@bp.get("/groups/<slug>/blog")
def group_blog(slug):
    group = policy.group_or_404(slug)  # closed and secret insides: 404 unless the viewer is a member
    page = page_arg()
    posts, has_next = queries.latest(page=page, group=group)
    return render_template("blog/group.html", group=group, posts=posts, page=page, has_next=has_next,
                           can_write=policy.can_write_blog(current_user, group),
                           moderator=policy.can_moderate(current_user, group),
                           feed_url=url_for("blog.group_feed", slug=group.slug) if group.kind == "open" else None)


# --- feeds: what the fetcher may read, asked at fetch time ----------------------------------------

def _entries(posts) -> list[dict]:
    return [{"title": p.title, "path": post_url(p), "published": p.published_at, "updated": p.updated_at,
             "author": p.author.display_name, "html": str(post_html(p))} for p in posts]


def _site() -> str:
    return current_app.config["SITE_NAME"]


@bp.get("/blog/feed.atom")
def feed():
    posts, _more = queries.latest(per_page=queries.FEED_SIZE)
    return atom_response(title=f"{_('Blogs')} · {_site()}", self_path=url_for("blog.feed"),
                         html_path=url_for("blog.index"), entries=_entries(posts))


@bp.get(f"/people/<{ID}:user_id>/blog/feed.atom")
def author_feed(user_id):
    person = policy.get_visible_or_404(User, user_id)
    posts, _more = queries.latest(per_page=queries.FEED_SIZE, author=person)
    return atom_response(title=f"{person.display_name} · {_site()}", self_path=url_for("blog.author_feed", user_id=person.id),
                         html_path=url_for("blog.author", user_id=person.id), entries=_entries(posts))


@bp.get("/groups/<slug>/blog/feed.atom")
def group_feed(slug):
    group = policy.group_or_404(slug)
    posts, _more = queries.latest(per_page=queries.FEED_SIZE, group=group)
    return atom_response(title=f"{group.name} · {_site()}", self_path=url_for("blog.group_feed", slug=group.slug),
                         html_path=url_for("blog.group_blog", slug=group.slug), entries=_entries(posts))


# --- writing ------------------------------------------------------------------------------------

def _attach_error(form, error: ServiceError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, error.message]
    else:
        flash(error.message, "error")


def _assistant_warnings(form, visibility: str) -> list:
    """The posting assistant speaks before others can read the post: a private draft is for its
    author only, so it is saved without a word (the check runs when it is published)."""
    if visibility == "private":
        return []
    return warnings_to_confirm(f"{form.title.data or ''}\n\n{form.body.data or ''}", request.form)


@bp.route("/blog/new", methods=["GET", "POST"])
@login_required
@posting_limit
def new():
    group_slug = request.args.get("group", "")
    group = policy.group_or_404(group_slug) if group_slug else None
    form = BlogPostForm(group=group)
    form.cover.choices = picture_choices(current_user.id)
    allowed = policy.can_write_blog(current_user, group)
    status, warnings = 200, []
    if not allowed:
        status = 403  # visible (the group's blog can be read) but not yours to write in
    elif (valid := form.validate_on_submit()) and (warnings := _assistant_warnings(form, form.visibility.data)):
        status = CONFIRM_STATUS  # shown again with the warnings; nothing saved yet
    elif valid:
        try:
            post = services.create_post(viewer(), title=form.title.data, body=form.body.data,
                                        cover_id=int(form.cover.data) if form.cover.data else None,
                                        visibility=form.visibility.data, group=group)
        except ServiceError as error:
            _attach_error(form, error)
            status = error.status
        else:
            flash(_("Saved as a draft: only you can see it.") if post.is_draft else _("Your post is published."),
                  "success")
            return redirect(post_url(post), 303)
    elif form.is_submitted():
        status = 400
    cancel = url_for("blog.group_blog", slug=group.slug) if group else url_for("blog.author", user_id=current_user.id)
    heading = _("Write a post in %(name)s", name=group.name) if group else _("Write a blog post")
    return render_template("blog/form.html", form=form, post=None, group=group, allowed=allowed,
                           cancel_url=cancel, can_choose=True, heading=heading, warnings=warnings), status


@bp.route(f"/blog/<{ID}:post_id>/edit", methods=["GET", "POST"])
@login_required
@posting_limit
def edit(post_id):
    post = policy.get_visible_or_404(BlogPost, post_id)
    if not policy.can_edit_blog_post(current_user, post):
        abort(403, _("You cannot edit this post."))
    can_choose = policy.can_choose_blog_audience(current_user, post)
    form = BlogPostForm(group=post.group)
    form.cover.choices = picture_choices(post.author_id)
    if not can_choose:
        form.visibility.choices = [c for c in form.visibility.choices if c[0] == post.visibility]
    status, warnings = 200, []
    if not form.is_submitted():
        form.title.data, form.body.data, form.visibility.data = post.title, post.body, post.visibility
        form.cover.data = str(post.cover_id or "")
    elif (valid := form.validate()) and (warnings := _assistant_warnings(
            form, form.visibility.data if can_choose else post.visibility)):
        status = CONFIRM_STATUS
    elif valid:
        was_draft = post.is_draft
        try:
            services.update_post(post, viewer(), title=form.title.data, body=form.body.data,
                                 cover_id=int(form.cover.data) if form.cover.data else None,
                                 visibility=form.visibility.data if can_choose else None)
        except ServiceError as error:
            _attach_error(form, error)
            status = error.status
        else:
            if was_draft and not post.is_draft:
                flash(_("Your post is published."), "success")
            elif post.is_draft:
                flash(_("Saved as a draft: only you can see it."), "success")
            else:
                flash(_("Your changes are saved."), "success")
            return redirect(post_url(post), 303)
    else:
        status = 400
    return render_template("blog/form.html", form=form, post=post, group=post.group, allowed=True,
                           cancel_url=post_url(post), can_choose=can_choose, warnings=warnings,
                           heading=_("Edit “%(title)s”", title=post.title)), status


@bp.route(f"/blog/<{ID}:post_id>/delete", methods=["GET", "POST"])
@login_required
def delete(post_id):
    post = policy.get_visible_or_404(BlogPost, post_id)
    if not policy.can_delete_blog_post(current_user, post):
        abort(403, _("You cannot delete this post."))
    form = ConfirmForm()
    if form.validate_on_submit():
        back = home_url(post)
        try:
            services.delete_post(post, viewer())
        except ServiceError as error:
            abort(error.status, error.message)
        flash(_("The post was deleted."), "success")
        return redirect(back, 303)
    return render_template("blog/delete.html", post=post, form=form), 400 if form.errors else 200

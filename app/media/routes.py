"""Media pages: the file route (the only way bytes leave), My media, upload without JavaScript,
describe/share/delete, albums, avatars, and a group's shared files."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from app import policy
from app.core.auth import login_required
from app.core.errors import ServiceError
from app.core.pagination import fetch_page, page_arg
from app.extensions import db
from app.groups.models import Group
from app.media import bp, services, serving
from app.media.api import too_large_message, uploaded_file
from app.media.forms import AlbumForm, ConfirmForm, EditForm, UploadForm
from app.media.models import LICENCES, Album, Media
from app.media.uses import BY_KIND

ID = "int(max=2147483647)"
PER_PAGE = 24


@bp.get(f"/media/<{ID}:media_id>")
def file(media_id):
    return serving.send(serving.load(media_id))


@bp.get(f"/media/<{ID}:media_id>/thumb/<any(small, large):size>")
def thumb(media_id, size):
    media = serving.load(media_id)
    if media.kind != "image":
        abort(404)
    return serving.send(media, size)


def _album_choices(user):
    albums = db.session.scalars(select(Album).where(Album.owner_id == user.id).order_by(Album.title)).all()
    return [SelectChoice("", _("No album"))] + [SelectChoice(str(a.id), a.title) for a in albums]


def _group_choices(user):
    groups = db.session.scalars(policy.shareable_groups(select(Group), user).order_by(Group.name)).all()
    return [SelectChoice("", _("Only me (and where I embed it)"))] + [SelectChoice(g.slug, g.name) for g in groups]


def _prepare(form, user):
    form.album.choices = _album_choices(user)
    form.group.choices = _group_choices(user)
    return form


def _album(value, user) -> Album | None:
    if not value:
        return None
    album = db.session.get(Album, int(value)) if str(value).isdigit() else None
    if album is None or album.owner_id != user.id:
        raise ServiceError(_("No such album."), "album", status=404)
    return album


def _group(value) -> Group | None:
    return policy.group_or_404(value) if value else None


@bp.get("/media")
@login_required
def mine():
    """My media: everything I uploaded, newest first, with my quota and albums."""
    album = _album(request.args.get("album"), current_user) if request.args.get("album") else None
    query = select(Media).where(Media.owner_id == current_user.id)
    if album is not None:
        query = query.where(Media.album_id == album.id)
    kind = request.args.get("kind")
    if kind in ("image", "video", "document"):
        query = query.where(Media.kind == kind)
    page = page_arg()
    items, has_next = fetch_page(query.order_by(Media.created_at.desc(), Media.id.desc()), page, PER_PAGE)
    used, allowed = services.quota(current_user)
    albums = db.session.execute(select(Album, func.count(Media.id)).outerjoin(Media, Media.album_id == Album.id)
                                .where(Album.owner_id == current_user.id).group_by(Album.id).order_by(Album.title)).all()
    return render_template("media/mine.html", items=items, page=page, has_next=has_next, used=used, allowed=allowed,
                           albums=albums, album=album, kind=kind, form=_prepare(UploadForm(), current_user),
                           album_form=AlbumForm(), may_upload=policy.can_upload(current_user))


@bp.post("/media/upload")
@login_required
def upload():
    """Several files at once without JavaScript; each is accepted or refused with its reason."""
    try:
        uploaded_file()
        files = [f for f in request.files.getlist("files") if f and f.filename]
    except RequestEntityTooLarge:
        flash(too_large_message(), "error")
        return redirect(url_for("media.mine")), 303
    form = _prepare(UploadForm(), current_user)
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("media.mine")), 303
    if not files:
        flash(_("Choose one or more files to upload."), "error")
        return redirect(url_for("media.mine")), 303
    try:
        album, group = _album(form.album.data, current_user), _group(form.group.data)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("media.mine")), 303
    kept = 0
    for upload in files:
        try:
            services.upload(current_user, upload.filename, upload.read(), title=form.title.data if len(files) == 1 else "",
                            alt=form.alt.data or "", licence=form.licence.data, album=album, group=group)
            kept += 1
        except ServiceError as error:
            flash(_("%(name)s was not uploaded: %(reason)s", name=upload.filename, reason=error.message), "error")
    if kept:
        flash(_("Uploaded %(n)d file(s). Add alt text to images before you embed them.", n=kept), "success")
    target = url_for("media.group_files", slug=group.slug) if group is not None and request.form.get("back") == "group" \
        else url_for("media.mine")
    return redirect(target), 303


def _places(media):
    """Where the file is shown, as links the viewer may follow (the policy decides each)."""
    places = []
    for use in media.uses:
        parent = policy.media_parent(use)
        if parent is not None and policy.can_view(current_user, parent):
            places.append((use.role, BY_KIND[use.parent_type].label(parent), BY_KIND[use.parent_type].url(parent)))
    return places


@bp.get(f"/media/<{ID}:media_id>/about")
def about(media_id):
    media = serving.load(media_id)
    shared = media.group if media.group is not None and policy.can_view_inside(current_user, media.group) else None
    return render_template("media/about.html", media=media, places=_places(media), licences=LICENCES, shared_group=shared,
                           may_manage=policy.can_manage_media(current_user, media), form=ConfirmForm())


@bp.route(f"/media/<{ID}:media_id>/edit", methods=["GET", "POST"])
@login_required
def edit(media_id):
    media = serving.load(media_id)
    if not policy.can_manage_media(current_user, media):
        abort(403)
    form = _prepare(EditForm(obj=media), media.owner)
    if request.method == "GET":
        form.album.data = str(media.album_id or "")
        form.group.data = media.group.slug if media.group is not None else ""
    if form.validate_on_submit():
        try:
            services.update(current_user, media, title=form.title.data, alt=form.alt.data,
                            description=form.description.data, licence=form.licence.data,
                            album=_album(form.album.data, media.owner), group=_group(form.group.data),
                            unshare=not form.group.data)
            if not form.album.data:
                media.album = None
                db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("media.about", media_id=media.id)), 303
        except ServiceError as error:
            getattr(form, error.field, form.title).errors.append(error.message)
    return render_template("media/edit.html", media=media, form=form), 422 if form.errors else 200


@bp.route(f"/media/<{ID}:media_id>/delete", methods=["GET", "POST"])
@login_required
def delete(media_id):
    media = serving.load(media_id)
    if not policy.can_manage_media(current_user, media):
        abort(403)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.delete(current_user, media)
        flash(_("The file was deleted. Places that showed it now say “file removed”."), "success")
        return redirect(url_for("media.mine")), 303
    return render_template("media/delete.html", media=media, form=form, places=_places(media))


@bp.post(f"/media/<{ID}:media_id>/avatar")
@login_required
def use_as_avatar(media_id):
    try:
        services.set_avatar(current_user, services.choose_picture(current_user.id, media_id))
        flash(_("Your picture was changed."), "success")
    except ServiceError as error:
        flash(error.message, "error")
    return redirect(url_for("media.about", media_id=media_id)), 303


@bp.post("/media/avatar/remove")
@login_required
def remove_avatar():
    services.set_avatar(current_user, None)
    flash(_("Your picture was removed: your initials are shown instead."), "success")
    return redirect(url_for("accounts.edit_profile")), 303


@bp.post("/media/albums")
@login_required
def create_album():
    form = AlbumForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError(" ".join(e for errs in form.errors.values() for e in errs), "title")
        album = services.create_album(current_user, form.title.data)
        return redirect(url_for("media.mine", album=album.id)), 303
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("media.mine")), 303


@bp.post(f"/media/albums/<{ID}:album_id>/delete")
@login_required
def delete_album(album_id):
    album = policy.get_visible_or_404(Album, album_id)
    if ConfirmForm().validate_on_submit():
        services.delete_album(current_user, album)
        flash(_("The album was deleted; its files are still in My media."), "success")
    return redirect(url_for("media.mine")), 303


@bp.get("/groups/<slug>/files")
def group_files(slug):
    """A group's shared files: inside the group, like its forum."""
    group = policy.group_or_404(slug)
    page = page_arg()
    items, has_next = fetch_page(select(Media).where(Media.group_id == group.id)
                                 .order_by(Media.created_at.desc(), Media.id.desc()), page, PER_PAGE)
    may_share = policy.can_post(current_user, group) and policy.can_upload(current_user)
    form = UploadForm()
    form.group.choices, form.group.data = [SelectChoice(group.slug, group.name)], group.slug
    form.album.choices = [SelectChoice("", "")]
    return render_template("media/group_files.html", group=group, items=items, page=page, has_next=has_next,
                           may_share=may_share, form=form)


@bp.post("/groups/<slug>/picture")
@login_required
def group_picture(slug):
    group = policy.group_or_404(slug)
    try:
        media = services.choose_picture(current_user.id, request.form.get("media_id", type=int))
        services.set_group_avatar(current_user, group, media)
        flash(_("The group's picture was changed."), "success")
    except ServiceError as error:
        flash(error.message, "error")
    return redirect(url_for("groups.edit", slug=group.slug)), 303

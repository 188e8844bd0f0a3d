"""Site admins create, edit and order the site-wide categories."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app import policy
from app.core.auth import login_required
from app.core.errors import ServiceError
from app.extensions import db
from app.forum import bp, services
from app.forum.forms import CategoryForm
from app.forum.models import Category
from app.forum.posting import attach_error


def _require_admin() -> None:
    if not policy.can_manage_categories(current_user):
        abort(403, _("Only site administrators can manage categories."))


@bp.get("/forum/admin/categories")
@login_required
def admin_categories():
    _require_admin()
    categories = db.session.scalars(select(Category).order_by(Category.position, Category.id)).all()
    return render_template("forum/admin_categories.html", categories=categories)


@bp.route("/forum/admin/categories/new", methods=["GET", "POST"])
@login_required
def admin_new_category():
    _require_admin()
    form = CategoryForm()
    if not form.is_submitted():
        form.position.data = (db.session.scalar(select(db.func.max(Category.position))) or 0) + 1
    return _save(form, None)


@bp.route("/forum/admin/categories/<int(max=2147483647):category_id>/edit", methods=["GET", "POST"])
@login_required
def admin_edit_category(category_id):
    _require_admin()
    category = db.get_or_404(Category, category_id)
    form = CategoryForm(obj=category)
    return _save(form, category)


def _save(form, category):
    status = 200
    if form.validate_on_submit():
        values = dict(name=form.name.data, description=form.description.data or "", position=form.position.data or 0)
        try:
            if category is None:
                services.create_category(**values)
            else:
                services.update_category(category, **values)
        except ServiceError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("forum.admin_categories"))
    elif form.is_submitted():
        status = 400
    return render_template("forum/category_form.html", form=form, category=category), status


@bp.post("/forum/admin/categories/<int(max=2147483647):category_id>/move")
@login_required
def admin_move_category(category_id):
    _require_admin()
    category = db.get_or_404(Category, category_id)
    services.move_category(category, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("forum.admin_categories", _anchor=f"category-{category.id}"))


@bp.cli.command("rerender")
def rerender_command():
    """Re-render stored post HTML after the sanitiser's allow-list changed (SANITIZER_VERSION)."""
    import click
    click.echo(f"re-rendered {services.rerender_stale()} posts")

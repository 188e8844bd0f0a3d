"""Group pages: directory, create, landing page, edit, archive, transfer, delete.

Every route loads its group through ``policy.group_or_404`` (404 for missing and secret-to-outsiders
alike, before anything else, so no route is an existence oracle), then asks the policy.
Membership routes are in membership_routes.py, the JSON API in api.py.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app import policy
from app.accounts.models import User
from app.core.auth import require_login
from app.core.countries import COUNTRIES
from app.core.pagination import page_arg
from app.extensions import db
from app.forum.queries import topic_rows
from app.groups import bp, queries, services
from app.groups.forms import NETWORK_LABELS, ButtonForm, DeleteForm, GroupForm, TransferForm
from app.groups.models import KINDS, Group
from app.groups.services import GroupError
from app.media.forms import picture_choices

# ---------------------------------------------------------------------------------------------
# Helpers shared with membership_routes.py
# ---------------------------------------------------------------------------------------------

def require(allowed: bool, message: str | None = None) -> None:
    require_login()
    if not allowed:
        abort(403, description=message or _("You do not have permission to do that."))


def refused(exc: GroupError, group: Group | None = None, fallback: str | None = None):
    """A soft refusal becomes a notice on the group page; a hard one, an error page with the reason."""
    if exc.soft:
        flash(exc.message, "warning")
        return redirect(fallback or url_for("groups.show", slug=group.slug), 303)
    abort(exc.status, description=exc.message)


def creatable_kinds(group: Group | None = None) -> list[str]:
    kinds = [k for k in KINDS if policy.can_create_group(current_user, k)]
    if group is not None and group.kind not in kinds:
        kinds.append(group.kind)  # an owner keeps their secret group's kind when editing
    return [k for k in KINDS if k in kinds]


# ---------------------------------------------------------------------------------------------
# Directory and landing page
# ---------------------------------------------------------------------------------------------

@bp.get("/groups")
def directory():
    filters, errors = queries.parse_filters(request.args)
    result = queries.directory(current_user, filters, page_arg())
    return render_template("groups/directory.html", result=result, filters=filters, errors=errors,
                           countries=COUNTRIES, network_labels=NETWORK_LABELS,
                           member_ids=queries.member_group_ids(current_user),
                           show_secret_filter=current_user.is_authenticated,
                           can_create=policy.can_create_group(current_user, "open"))


@bp.get("/groups/<slug>")
def show(slug):
    group = policy.group_or_404(slug, inside=False)
    inside = policy.can_view_inside(current_user, group)
    membership = policy.membership_of(current_user, group)
    moderator = policy.can_moderate(current_user, group)
    return render_template(
        "groups/show.html", group=group, inside=inside, membership=membership, moderator=moderator,
        manager=policy.can_manage_group(current_user, group), form=ButtonForm(),
        member_count=queries.member_counts([group.id])[group.id] if inside else None,
        pending=queries.pending_count(group) if moderator and group.kind != "open" else 0,
        forum_url=url_for("forum.group_forum", slug=group.slug) if inside else None,
        topics=_recent_topics(group) if inside else [], countries=COUNTRIES, network_labels=NETWORK_LABELS)


def _recent_topics(group: Group, limit: int = 5) -> list:
    """The forum's newest topics in this group, through the forum's own (policy-scoped) query."""
    return [row.topic for row in topic_rows(current_user, group=group, per_page=limit)[0]]


# ---------------------------------------------------------------------------------------------
# Create and edit
# ---------------------------------------------------------------------------------------------

@bp.route("/groups/new", methods=["GET", "POST"])
def new():
    require(policy.can_create_group(current_user, "open"),
            _("Confirm your e-mail address before starting a group."))
    if request.method == "POST" and request.form.get("kind") == "secret":
        require(policy.can_create_group(current_user, "secret"),
                _("Only site moderators and admins can start secret groups."))
    form = GroupForm(kinds=creatable_kinds())
    if form.validate_on_submit():
        try:
            group = services.create_group(current_user, name=form.name.data, kind=form.kind.data,
                                          description=form.description.data or "", tags=form.tags.data or "",
                                          country=form.country.data, network=form.network.data)
        except GroupError as exc:
            form.name.errors = [*form.name.errors, exc.message]
        else:
            flash(_("Your group is ready. Invite people or share its link."), "success")
            return redirect(url_for("groups.show", slug=group.slug), 303)
    return render_template("groups/form.html", form=form, group=None), 400 if form.errors else 200


@bp.route("/groups/<slug>/edit", methods=["GET", "POST"])
def edit(slug):
    group = policy.group_or_404(slug)
    require(policy.can_moderate(current_user, group))
    kinds = creatable_kinds(group) if policy.can_manage_group(current_user, group) else [group.kind]
    form = GroupForm(obj=group, kinds=kinds)
    if request.method == "GET":
        form.tags.data = ", ".join(group.tag_list)
        form.country.data = group.country or ""
    if group.is_archived and request.method == "POST":
        abort(403, description=_("This group is archived: it is read-only. Unarchive it first."))
    if request.method == "POST" and request.form.get("kind") in KINDS and request.form["kind"] not in kinds:
        abort(403, description=_("Only the group's owner can change its kind, and only site moderators can make it secret."))
    if form.validate_on_submit():
        try:
            services.update_group(group, current_user, name=form.name.data, description=form.description.data or "",
                                  tags=form.tags.data or "", country=form.country.data,
                                  network=form.network.data, kind=form.kind.data)
        except GroupError as exc:
            form.name.errors = [*form.name.errors, exc.message]
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("groups.show", slug=group.slug), 303)
    extra = {"pictures": picture_choices(current_user.id)} if policy.can_manage_group(current_user, group) else {}
    return render_template("groups/form.html", form=form, group=group, **extra), 400 if form.errors else 200


# ---------------------------------------------------------------------------------------------
# The owner's decisions
# ---------------------------------------------------------------------------------------------

@bp.post("/groups/<slug>/archive")
def archive(slug):
    group = policy.group_or_404(slug)
    require(policy.can_manage_group(current_user, group))
    services.set_archived(group, current_user, not group.is_archived)
    flash(_("The group is archived: it is read-only now.") if group.is_archived
          else _("The group is active again."), "success")
    return redirect(url_for("groups.show", slug=group.slug), 303)


@bp.post("/groups/<slug>/transfer")
def transfer(slug):
    group = policy.group_or_404(slug)
    require(policy.can_manage_group(current_user, group))
    form = TransferForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose the member who will own the group."))
    new_owner = db.session.get(User, form.new_owner.data)
    if new_owner is None:
        abort(400, description=_("Only a member of the group can become its owner."))
    try:
        services.transfer_ownership(group, current_user, new_owner)
    except GroupError as exc:
        return refused(exc, group)
    flash(_("%(name)s now owns the group.", name=new_owner.display_name), "success")
    return redirect(url_for("groups.members", slug=group.slug), 303)


@bp.route("/groups/<slug>/delete", methods=["GET", "POST"])
def delete(slug):
    group = policy.group_or_404(slug)
    require(policy.can_manage_group(current_user, group))
    form = DeleteForm()
    if form.validate_on_submit():
        if form.confirm_name.data.strip() != group.name:
            form.confirm_name.errors = [*form.confirm_name.errors, _("The name does not match. Nothing was deleted.")]
        else:
            services.delete_group(group, current_user)
            flash(_("The group and everything in it were deleted."), "success")
            return redirect(url_for("groups.directory"), 303)
    return render_template("groups/delete.html", group=group, form=form), 400 if form.errors else 200


@bp.app_template_global()
def profile_groups(person):
    """A person's groups as the viewer may see them, for the profile page (closed and secret
    memberships only for people inside those groups)."""
    return services.visible_memberships(current_user, person)

"""Membership pages: member list, join, leave, requests and decisions, invitations, and the
moderators' actions on one member. Same loading rule as routes.py: the group first (404), then
the login, then the policy (403 for people who can see inside but may not act)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app import policy
from app.accounts.models import User
from app.accounts.services import find_user_by_email
from app.core.auth import require_login
from app.core.pagination import page_arg
from app.extensions import db
from app.groups import bp, membership, queries
from app.groups.forms import ButtonForm, InviteForm, ReasonForm, RequestForm, TransferForm
from app.groups.models import Invitation
from app.groups.routes import refused, require
from app.groups.services import GroupError


@bp.get("/groups/<slug>/members")
def members(slug):
    group = policy.group_or_404(slug)
    moderator = policy.can_moderate(current_user, group)
    page = page_arg()
    rows, total = queries.members(group, page)
    banned = queries.members(group, 1, 200, state="banned")[0] if moderator else []
    # Decided once per page, not per row: which rows the viewer may act on.
    actionable = {m.user_id for m in rows + banned
                  if policy.can_moderate_member(current_user, group, m, moderator=moderator)}
    return render_template("groups/members.html", group=group, rows=rows, total=total, page=page,
                           pages=max(1, -(-total // queries.MEMBERS_PAGE)), banned=banned, moderator=moderator,
                           manager=policy.can_manage_group(current_user, group), actionable=actionable,
                           form=ButtonForm(), reason_form=ReasonForm(), transfer_form=TransferForm())


@bp.post("/groups/<slug>/join")
def join(slug):
    group = policy.group_or_404(slug, inside=False)
    require_login()
    try:
        membership.join(group, current_user)
    except GroupError as exc:
        if exc.key == "closed":  # a stale page or a crafted POST: offer the request form instead
            flash(exc.message, "warning")
            return redirect(url_for("groups.request_join", slug=group.slug), 303)
        return refused(exc, group)
    flash(_("Welcome! You are now a member of this group."), "success")
    return redirect(url_for("groups.show", slug=group.slug), 303)


@bp.post("/groups/<slug>/leave")
def leave(slug):
    group = policy.group_or_404(slug, inside=False)
    require_login()
    was_pending = getattr(policy.membership_of(current_user, group), "state", None) == "pending"
    try:
        membership.leave(group, current_user)
    except GroupError as exc:
        return refused(exc, group)
    flash(_("Your request was withdrawn.") if was_pending else _("You left the group."), "success")
    if policy.can_view(current_user, group):
        return redirect(url_for("groups.show", slug=group.slug), 303)
    return redirect(url_for("groups.directory"), 303)  # a secret group is gone from view


@bp.route("/groups/<slug>/request", methods=["GET", "POST"])
def request_join(slug):
    group = policy.group_or_404(slug, inside=False)
    require_login()
    form = RequestForm()
    if request.method == "GET":
        try:  # the same refusals as a POST, before anyone types a message in vain
            membership.check_can_request(group, current_user)
        except GroupError as exc:
            return refused(exc, group)
    elif form.validate_on_submit():
        try:
            membership.request_to_join(group, current_user, form.message.data or "")
        except GroupError as exc:
            return refused(exc, group)
        flash(_("Your request was sent. A moderator will answer; we will e-mail you."), "success")
        return redirect(url_for("groups.show", slug=group.slug), 303)
    return render_template("groups/request.html", group=group, form=form), 400 if form.errors else 200


@bp.get("/groups/<slug>/requests")
def requests(slug):
    group = policy.group_or_404(slug)
    require(policy.can_moderate(current_user, group))
    return render_template("groups/requests.html", group=group, pending=queries.pending_requests(group),
                           log=queries.recent_log(group), form=ReasonForm(), action_labels=ACTION_LABELS)


ACTION_LABELS = {
    "approve": _l("approved"), "deny": _l("declined"), "invite": _l("invited"), "remove": _l("removed"),
    "ban": _l("banned"), "unban": _l("ban lifted"), "promote": _l("made moderator"),
    "demote": _l("moderator role removed"), "transfer": _l("made owner"), "archive": _l("archived the group"),
    "unarchive": _l("unarchived the group"), "kind": _l("changed who can see the group"),
}


@bp.post("/groups/<slug>/requests/<int:user_id>/<any(approve, deny):decision>")
def decide(slug, user_id, decision):
    group = policy.group_or_404(slug)
    require(policy.can_moderate(current_user, group))
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400, description=" ".join(form.reason.errors) or _("The form could not be read."))
    person = db.session.get(User, user_id) or abort(404)
    verb = membership.approve if decision == "approve" else membership.deny
    try:
        verb(group, person, current_user, form.reason.data or "")
    except GroupError as exc:
        return refused(exc, group, url_for("groups.requests", slug=group.slug))
    flash(_("%(name)s is now a member.", name=person.display_name) if decision == "approve"
          else _("The request from %(name)s was declined.", name=person.display_name), "success")
    return redirect(url_for("groups.requests", slug=group.slug), 303)


@bp.route("/groups/<slug>/invite", methods=["GET", "POST"])
def invite(slug):
    group = policy.group_or_404(slug)
    require(policy.can_moderate(current_user, group))
    form = InviteForm()
    if form.validate_on_submit():
        who = form.who.data
        person, problem = _find_person(who)
        if problem:
            form.who.errors = [*form.who.errors, problem]
        else:
            try:
                membership.invite(group, current_user, user=person, email=None if person else who.lower())
            except GroupError as exc:
                if exc.soft:
                    flash(exc.message, "warning")
                    return redirect(url_for("groups.invite", slug=group.slug), 303)
                form.who.errors = [*form.who.errors, exc.message]
            else:
                # The same words whether or not the address has an account: no account oracle.
                flash(_("Invitation sent to %(who)s.", who=who), "success")
                return redirect(url_for("groups.invite", slug=group.slug), 303)
    return render_template("groups/invite.html", group=group, form=form), 400 if form.errors else 200


def _find_person(who: str):
    """An e-mail address (any: an account need not exist yet) or an exact display name."""
    if "@" in who:
        local, _at, domain = who.rpartition("@")
        if not local or "." not in domain or any(c.isspace() for c in who):
            return None, _("This is not a valid e-mail address.")
        return find_user_by_email(who), None
    matches = list(db.session.scalars(select(User).where(
        func.lower(User.display_name) == who.lower(), User.is_active_account.is_(True)).limit(2)))
    if not matches:
        return None, _("No member has this name. Check the spelling, or use their e-mail address.")
    if len(matches) > 1:
        return None, _("Several members have this name: use their e-mail address instead.")
    return matches[0], None


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token):
    invite_row = db.session.scalar(select(Invitation).where(Invitation.token == token)) or abort(404)
    group = invite_row.group
    if request.method == "GET" and not current_user.is_authenticated:
        return render_template("groups/invitation.html", invitation=invite_row, group=group, form=ButtonForm())
    require_login()
    try:
        membership.check_invitation(invite_row, current_user)
        if request.method == "POST":
            membership.accept_invitation(invite_row, current_user)
            flash(_("Welcome! You are now a member of this group."), "success")
            return redirect(url_for("groups.show", slug=group.slug), 303)
    except GroupError as exc:
        if exc.soft:
            return refused(exc, group)
        abort(exc.status, description=exc.message)
    return render_template("groups/invitation.html", invitation=invite_row, group=group, form=ButtonForm())


_ACTIONS = {
    "remove": (membership.remove, _l("Removed %(name)s from the group.")),
    "ban": (membership.ban, _l("Banned %(name)s from the group.")),
    "unban": (membership.unban, _l("Lifted the ban on %(name)s.")),
    "promote": (lambda g, u, a, r: membership.set_role(g, u, a, "moderator"), _l("%(name)s is now a group moderator.")),
    "demote": (lambda g, u, a, r: membership.set_role(g, u, a, "member"), _l("%(name)s is no longer a group moderator.")),
}


@bp.post("/groups/<slug>/members/<int:user_id>/<any(remove, ban, unban, promote, demote):action>")
def member_action(slug, user_id, action):
    group = policy.group_or_404(slug)
    require(policy.can_moderate(current_user, group))
    target = db.session.get(User, user_id)
    row = policy.membership_of(target, group) if target is not None else None
    if row is None:
        abort(404)
    allowed = policy.can_moderate_member(current_user, group, row)
    if action in ("promote", "demote"):
        allowed = allowed and policy.can_manage_group(current_user, group)
    require(allowed, _("You cannot do this to this member (owners transfer the group first; "
                       "only the owner acts on moderators)."))
    form = ReasonForm()
    if not form.validate_on_submit():
        abort(400, description=" ".join(form.reason.errors) or _("The form could not be read."))
    verb, message = _ACTIONS[action]
    try:
        verb(group, target, current_user, form.reason.data or "")
    except GroupError as exc:
        return refused(exc, group, url_for("groups.members", slug=group.slug))
    flash(str(message) % {"name": target.display_name}, "success")
    return redirect(url_for("groups.members", slug=group.slug), 303)

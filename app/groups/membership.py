"""The membership workflow: join, leave, ask, decide, invite, remove, ban, roles.

Each verb checks the state machine (banned people stay out, owners transfer before leaving,
archived groups take nobody new), records moderators' decisions with their reasons in
MembershipLog, tells the policy to forget cached scopes, and sends the e-mail. E-mails carry
links, never what is said inside a closed group.
"""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app import policy
from app.core import events
from app.extensions import db
from app.groups.models import Group, Invitation, Membership
from app.groups.services import GroupError, commit, log, require_not_archived
from app.mail import public_url, send_mail
from app.models_base import utcnow

MESSAGE_MAX = 2000


def _membership(group: Group, user) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.group_id == group.id,
                                                      Membership.user_id == user.id))


def _changed(group: Group, user, state: str | None) -> None:
    """After the commit: forget cached scopes, then announce it (socket eviction subscribes)."""
    policy.forget(user)
    events.membership_changed.send(group, user=user, state=state)


def _refuse_banned(membership: Membership | None) -> None:
    if membership is not None and membership.state == "banned":
        raise GroupError(_("You have been banned from this group, so you cannot join it or ask to join."), 403)


def _already(membership: Membership | None) -> None:
    if membership is not None and membership.state == "member":
        raise GroupError(_("You are already a member of this group."), soft=True)
    if membership is not None and membership.state == "pending":
        raise GroupError(_("You already asked to join this group; a moderator will answer."), soft=True)


def one_line(text: str, limit: int = 80) -> str:
    """For mail subjects: header values must not contain line breaks of any kind."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _group_link(group: Group) -> str:
    return public_url(url_for("groups.show", slug=group.slug))


# ---------------------------------------------------------------------------------------------
# The person's own verbs
# ---------------------------------------------------------------------------------------------

def join(group: Group, user) -> Membership:
    """A request left pending when a closed group became open no longer needs a moderator."""
    membership = _membership(group, user)
    _refuse_banned(membership)
    if not (group.kind == "open" and membership is not None and membership.state == "pending"):
        _already(membership)
    require_not_archived(group)
    if group.kind != "open":
        raise GroupError(_("This group is closed: ask to join and a moderator will answer."), 403, key="closed")
    if membership is None:
        membership = Membership(group_id=group.id, user_id=user.id)
        db.session.add(membership)
    membership.state, membership.role = "member", "member"
    commit()
    _changed(group, user, "member")
    return membership


def check_can_request(group: Group, user) -> Membership | None:
    """A request after a denial is allowed (circumstances change); a ban is final until lifted."""
    membership = _membership(group, user)
    _refuse_banned(membership)
    _already(membership)
    require_not_archived(group)
    if group.kind == "open":
        raise GroupError(_("This group is open: you can join it straight away."), soft=True)
    if group.kind == "secret":
        raise GroupError(_("Secret groups are joined by invitation only."), 403)
    return membership


def request_to_join(group: Group, user, message: str = "") -> Membership:
    membership = check_can_request(group, user)
    if len(message or "") > MESSAGE_MAX or "\x00" in (message or ""):
        raise GroupError(_("The message may have at most %(n)d characters.", n=MESSAGE_MAX))
    if membership is None:
        membership = Membership(group_id=group.id, user_id=user.id)
        db.session.add(membership)
    membership.state, membership.role = "pending", "member"
    membership.request_message = message or None
    membership.decided_by_id = membership.decision_reason = membership.decided_at = None
    commit()
    _changed(group, user, "pending")
    return membership


def leave(group: Group, user) -> None:
    """Leaving (or withdrawing a request) deletes the row: no record that someone was once in a
    health group. A ban is not something one can leave."""
    membership = _membership(group, user)
    if membership is None or membership.state in ("banned", "denied"):
        raise GroupError(_("You are not a member of this group."), soft=True)
    if membership.role == "owner" or group.owner_id == user.id:
        raise GroupError(_("You own this group: transfer ownership to another member before leaving."), 403)
    db.session.delete(membership)
    commit()
    _changed(group, user, None)


# ---------------------------------------------------------------------------------------------
# Moderators' verbs
# ---------------------------------------------------------------------------------------------

def _pending(group: Group, user) -> Membership:
    membership = _membership(group, user)
    if membership is None or membership.state != "pending":
        raise GroupError(_("There is no open request from this person."), 404)
    return membership


def _decide(membership: Membership, actor, reason: str | None) -> None:
    membership.decided_by_id = actor.id
    membership.decision_reason = reason or None
    membership.decided_at = utcnow()


def approve(group: Group, user, actor, reason: str = "") -> Membership:
    require_not_archived(group)
    membership = _pending(group, user)
    membership.state = "member"
    _decide(membership, actor, reason)
    log(group, "approve", actor=actor, user=user, reason=reason)
    commit()
    _changed(group, user, "member")
    send_mail(user.email, _("Welcome to %(name)s", name=one_line(group.name)), "groups/mail/approved.txt",
              user=user, group=group, link=_group_link(group))
    return membership


def deny(group: Group, user, actor, reason: str = "") -> Membership:
    membership = _pending(group, user)
    membership.state = "denied"
    _decide(membership, actor, reason)
    log(group, "deny", actor=actor, user=user, reason=reason)
    commit()
    _changed(group, user, "denied")
    send_mail(user.email, _("Your request to join %(name)s", name=one_line(group.name)), "groups/mail/denied.txt",
              user=user, group=group, reason=reason, link=_group_link(group))
    return membership


def _target(group: Group, user) -> Membership:
    membership = _membership(group, user)
    if membership is None:
        raise GroupError(_("This person has no membership in this group."), 404)
    return membership


def remove(group: Group, user, actor, reason: str = "") -> None:
    membership = _target(group, user)
    if membership.state != "member":
        raise GroupError(_("This person is not a member."), 400)
    db.session.delete(membership)
    log(group, "remove", actor=actor, user=user, reason=reason)
    commit()
    _changed(group, user, None)


def ban(group: Group, user, actor, reason: str = "") -> Membership:
    """Bans stay as a row (state "banned"): that row is what refuses the next join or request."""
    membership = _target(group, user)
    membership.state, membership.role = "banned", "member"
    _decide(membership, actor, reason)
    log(group, "ban", actor=actor, user=user, reason=reason)
    commit()
    _changed(group, user, "banned")
    return membership


def unban(group: Group, user, actor, reason: str = "") -> None:
    membership = _target(group, user)
    if membership.state != "banned":
        raise GroupError(_("This person is not banned."), 400)
    db.session.delete(membership)
    log(group, "unban", actor=actor, user=user, reason=reason)
    commit()
    _changed(group, user, None)


def set_role(group: Group, user, actor, role: str) -> Membership:
    require_not_archived(group)
    membership = _target(group, user)
    if membership.state != "member" or membership.role == "owner":
        raise GroupError(_("Only members other than the owner can be promoted or demoted."), 400)
    if membership.role == role:
        raise GroupError(_("Nothing to change."), soft=True)
    membership.role = role
    log(group, "promote" if role == "moderator" else "demote", actor=actor, user=user)
    commit()
    _changed(group, user, "member")
    return membership


# ---------------------------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------------------------

def invite(group: Group, actor, *, user=None, email: str | None = None) -> Invitation:
    """An invitation is bound to one account (``user``) or one address (``email``): a forwarded
    link is useless to anyone else. Whether an address has an account is never revealed."""
    require_not_archived(group)
    if user is not None:
        membership = _membership(group, user)
        if membership is not None and membership.state == "member":
            raise GroupError(_("%(name)s is already a member.", name=user.display_name), soft=True)
        if membership is not None and membership.state == "banned":
            raise GroupError(_("%(name)s is banned from this group: lift the ban first.", name=user.display_name), 400)
        email = user.email
    invitation = Invitation(group_id=group.id, user_id=getattr(user, "id", None), email=email,
                            invited_by_id=actor.id)
    db.session.add(invitation)
    log(group, "invite", actor=actor, user=user, email=None if user else email)
    commit()
    link = public_url(url_for("groups.invitation", token=invitation.token))
    send_mail(email, _("%(who)s invites you to %(name)s", who=one_line(actor.display_name, 60),
                       name=one_line(group.name)),
              "groups/mail/invited.txt", group=group, inviter=actor, link=link, expires_at=invitation.expires_at)
    return invitation


def check_invitation(invitation: Invitation, user) -> None:
    """Why this account may not use this link, as an error; silence means it may."""
    if invitation.used_at is not None:
        raise GroupError(_("This invitation has already been used."), 410)
    if invitation.expires_at < utcnow():
        raise GroupError(_("This invitation has expired. Ask the group's moderators for a new one."), 410)
    if invitation.user_id is not None and invitation.user_id != user.id:
        raise GroupError(_("This invitation was sent to another account. Sign in as the invited person to accept it."), 403)
    if invitation.user_id is None and (invitation.email or "").lower() != user.email.lower():
        raise GroupError(_("This invitation was sent to another e-mail address. Sign in with that address to accept it."), 403)
    if invitation.user_id is None and not user.is_confirmed:
        raise GroupError(_("Confirm your e-mail address first, then open the invitation again."), 403)


def accept_invitation(invitation: Invitation, user) -> Membership:
    check_invitation(invitation, user)
    group = invitation.group
    membership = _membership(group, user)
    _refuse_banned(membership)
    require_not_archived(group)
    if membership is not None and membership.state == "member":
        raise GroupError(_("You are already a member of this group."), soft=True)
    if membership is None:
        membership = Membership(group_id=group.id, user_id=user.id)
        db.session.add(membership)
    # Claim the link with a conditional UPDATE so two people racing on one link cannot both win.
    claimed = db.session.execute(db.update(Invitation).where(
        Invitation.id == invitation.id, Invitation.used_at.is_(None)).values(used_at=utcnow(), used_by_id=user.id))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise GroupError(_("This invitation has already been used."), 410)
    membership.state, membership.role = "member", "member"
    commit()
    _changed(group, user, "member")
    return membership

"""Verbs that change groups; the HTML forms, the JSON API, the demo loader and the test factories
all call these, so normalising, sanitising, logging and notifications happen once.

Permissions are NOT decided here: routes ask ``app.policy`` first (the factories create secret
groups owned by ordinary users, which the policy would refuse over HTTP). Services keep the data
rules: valid kinds, tag limits, the owner invariant, the archive lock.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import policy
from app.core import events
from app.core.countries import COUNTRIES
from app.core.errors import ServiceError
from app.extensions import db
from app.forum.models import Topic
from app.groups.models import KINDS, NETWORKS, Group, GroupTag, Membership, MembershipLog
from app.models_base import utcnow
from app.sanitize import render_markdown

NAME_MAX = 120
DESCRIPTION_MAX = 10_000
TAGS_MAX = 10
TAG_MAX = 40
SLUG_MAX = 80  # leaves room for "-NNN" inside the 90-character column
RESERVED_SLUGS = {"new"}  # /groups/new is the creation form


class GroupError(ServiceError):
    """A refusal with a message for the person: ``status`` is the HTTP answer; ``soft`` means
    "nothing wrong, just tell them" (already a member, already asked), shown as a notice."""

    def __init__(self, message: str, status: int = 400, soft: bool = False, key: str = ""):
        super().__init__(message, status=status)
        self.soft, self.key = soft, key


# ---------------------------------------------------------------------------------------------
# Normalising input (also used by the forms, so the form and the service agree)
# ---------------------------------------------------------------------------------------------

def normalise_tags(raw) -> list[str]:
    """Tags are lowercase, trimmed, inner whitespace as one hyphen ("Lung cancer" ->
    "lung-cancer"), de-duplicated in order; too many or too long is an error, never truncated."""
    from flask_babel import gettext as _
    parts = raw.split(",") if isinstance(raw, str) else list(raw or ())
    tags: list[str] = []
    for part in parts:
        tag = "-".join(str(part).lower().split())
        if tag and tag not in tags:
            tags.append(tag)
    too_long = [t for t in tags if len(t) > TAG_MAX]
    if too_long:
        raise GroupError(_("Each tag may have at most %(n)d characters.", n=TAG_MAX))
    if len(tags) > TAGS_MAX:
        raise GroupError(_("A group may have at most %(n)d tags.", n=TAGS_MAX))
    return tags


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:SLUG_MAX].strip("-")
    return slug or "group"


def _unique_slug(name: str) -> str:
    """Slugs never change after creation (links in e-mails keep working after a rename)."""
    base = slugify(name)
    if base in RESERVED_SLUGS:
        base = f"{base}-group"
    taken = set(db.session.scalars(select(Group.slug).where(
        (Group.slug == base) | Group.slug.like(base + "-%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check(name: str, description: str, kind: str, country, network: str) -> tuple[str, str | None]:
    from flask_babel import gettext as _
    name = (name or "").strip()
    if not name:
        raise GroupError(_("A group needs a name."))
    if len(name) > NAME_MAX:
        raise GroupError(_("The name may have at most %(n)d characters.", n=NAME_MAX))
    if len(description or "") > DESCRIPTION_MAX:
        raise GroupError(_("The description may have at most %(n)d characters.", n=DESCRIPTION_MAX))
    if "\x00" in name or "\x00" in (description or ""):
        raise GroupError(_("The text contains a character that cannot be stored."))
    if kind not in KINDS:
        raise GroupError(_("Unknown kind of group."))
    if (network or "") not in NETWORKS:
        raise GroupError(_("Unknown network."))
    country = (country or "").upper() or None
    if country is not None and country not in COUNTRIES:
        raise GroupError(_("Unknown country."))
    return name, country


def _set_tags(group: Group, tags: list[str]) -> None:
    current = {t.tag: t for t in group.tags}
    group.tags = [current.get(tag) or GroupTag(tag=tag) for tag in tags]


def log(group: Group, action: str, *, actor=None, user=None, email=None, reason=None) -> None:
    db.session.add(MembershipLog(group_id=group.id, action=action, actor_id=getattr(actor, "id", None),
                                 user_id=getattr(user, "id", None), email=email, reason=reason or None))


def commit() -> None:
    """Commit, turning a lost race (two clicks on "join", two slugs at once) into a message."""
    from flask_babel import gettext as _
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise GroupError(_("Someone changed this at the same moment. Please try again."), 409)
    policy.forget()


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------

def create_group(owner, *, name: str, kind: str, description: str = "", tags=(), country=None,
                 network: str = "") -> Group:
    name, country = _check(name, description, kind, country, network)
    tag_list = normalise_tags(tags)
    for attempt in range(3):
        group = Group(slug=_unique_slug(name), name=name, description=description or "",
                      description_html=str(render_markdown(description or "")), kind=kind,
                      country=country, network=network or "", owner_id=owner.id)
        _set_tags(group, tag_list)
        group.memberships.append(Membership(user_id=owner.id, state="member", role="owner"))
        db.session.add(group)
        try:
            db.session.commit()
            break
        except IntegrityError:  # another request took the slug between our check and insert
            db.session.rollback()
            if attempt == 2:
                raise
    policy.forget()
    return group


def update_group(group: Group, actor, *, name: str, description: str, tags, country, network: str,
                 kind: str) -> Group:
    """The kind takes effect at once everywhere: the policy derives every scope from
    ``group.kind`` at query time, so nothing else needs rewriting here."""
    name, country = _check(name, description, kind, country, network)
    tag_list = normalise_tags(tags)
    require_not_archived(group)
    old_kind = group.kind
    group.name = name
    if description != group.description:
        group.description = description or ""
        group.description_html = str(render_markdown(description or ""))
    _set_tags(group, tag_list)
    group.country = country
    group.network = network or ""
    group.kind = kind
    if kind != old_kind:
        log(group, "kind", actor=actor, reason=f"{old_kind} -> {kind}")
    commit()
    if kind != old_kind:
        events.group_kind_changed.send(group, old_kind=old_kind)
    return group


def require_not_archived(group: Group) -> None:
    from flask_babel import gettext as _
    if group.is_archived:
        raise GroupError(_("This group is archived: it is read-only."), 403)


def set_archived(group: Group, actor, archived: bool) -> Group:
    group.archived_at = utcnow() if archived else None
    log(group, "archive" if archived else "unarchive", actor=actor)
    commit()
    return group


def transfer_ownership(group: Group, actor, new_owner) -> Group:
    """The old owner stays on as a group moderator, so a transfer never locks anyone out."""
    from flask_babel import gettext as _
    require_not_archived(group)
    target = policy.membership_of(new_owner, group)
    if target is None or target.state != "member":
        raise GroupError(_("Only a member of the group can become its owner."))
    if new_owner.id == group.owner_id:
        raise GroupError(_("This person already owns the group."), soft=True)
    old = db.session.scalar(select(Membership).where(Membership.group_id == group.id,
                                                     Membership.user_id == group.owner_id))
    if old is not None:
        old.role = "moderator"
    target.role = "owner"
    group.owner_id = new_owner.id
    log(group, "transfer", actor=actor, user=new_owner)
    commit()
    return group


def delete_group(group: Group, actor) -> None:
    """Everything inside goes with the group: forum topics and replies through their
    ON DELETE CASCADE keys, memberships, tags and invitations through the ORM."""
    group_id = group.id
    topic_ids = list(db.session.scalars(select(Topic.id).where(Topic.group_id == group_id)))
    members = list(db.session.scalars(select(Membership.user_id).where(Membership.group_id == group_id)))
    db.session.execute(db.delete(Topic).where(Topic.group_id == group_id))  # posts cascade in the DB
    db.session.delete(group)
    db.session.commit()
    policy.forget()
    events.group_deleted.send(group_id, topic_ids=topic_ids, member_ids=members, actor=actor)


# ---------------------------------------------------------------------------------------------
# Memberships (the workflow verbs live in app/groups/membership.py)
# ---------------------------------------------------------------------------------------------

def set_membership(group: Group, user, *, state: str = "member", role: str = "member") -> Membership:
    """Put a user into a group in any state without the workflow: for tests and the demo."""
    membership = db.session.scalar(select(Membership).where(Membership.group_id == group.id,
                                                            Membership.user_id == user.id))
    if membership is None:
        membership = Membership(group_id=group.id, user_id=user.id)
        db.session.add(membership)
    membership.state, membership.role = state, role
    if role == "owner":
        group.owner_id = user.id
    db.session.commit()
    policy.forget(user)
    return membership


def visible_memberships(viewer, user) -> list[Group]:
    """The groups ``user`` belongs to that ``viewer`` may know about: a closed or secret
    membership can reveal a diagnosis, so it shows only to people inside that group (and staff)."""
    query = (select(Group).join(Membership, Membership.group_id == Group.id)
             .where(Membership.user_id == user.id, Membership.state == "member")
             .order_by(func.lower(Group.name), Group.id))
    query = policy.visible_inside(policy.visible(query, viewer, Group), viewer)
    return list(db.session.scalars(query))

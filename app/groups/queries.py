"""Read-side queries for the directory, the landing page and the member list.

Performance rule (DESIGN section 11): every page runs a fixed number of statements whatever the
number of groups or members: owners are joined, tags come in one SELECT ... IN, member counts in
one grouped query, and access is decided once per page through the policy's query scope. Every
list and count goes through ``policy.visible`` so a secret group never shows up, not even as a 1
in a total.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app import policy
from app.accounts.models import User
from app.core.countries import COUNTRIES
from app.extensions import db
from app.groups.models import KINDS, NETWORKS, Group, GroupTag, Membership, MembershipLog

DIRECTORY_PAGE = 20
MEMBERS_PAGE = 50
QUERY_MAX = 200


@dataclass
class Filters:
    q: str = ""
    tag: str = ""
    country: str = ""
    network: str = ""
    kind: str = ""

    def as_args(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v}


def parse_filters(args) -> tuple[Filters, dict[str, str]]:
    """Directory filters from a query string; bad values are dropped and reported, not fatal."""
    from flask_babel import gettext as _
    errors: dict[str, str] = {}
    filters = Filters(q=" ".join((args.get("q") or "").split())[:QUERY_MAX],
                      tag="-".join((args.get("tag") or "").lower().split())[:40])
    for name, allowed in (("country", COUNTRIES), ("network", NETWORKS), ("kind", KINDS)):
        value = (args.get(name) or "").strip()
        value = value.upper() if name == "country" else value
        if value and value not in allowed:
            errors[name] = _("Not a valid choice.")
        elif value:
            setattr(filters, name, value)
    return filters, errors


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class DirectoryPage:
    groups: list
    total: int
    page: int
    per_page: int
    member_counts: dict[int, int]  # only for groups whose inside the viewer may see
    inside: set[int]
    tag_facets: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def directory(viewer, filters: Filters, page: int = 1, per_page: int = DIRECTORY_PAGE,
              facets: bool = True) -> DirectoryPage:
    query = policy.visible(select(Group), viewer, Group)
    if filters.q:
        pattern = _like(filters.q)
        query = query.where(or_(Group.name.ilike(pattern, escape="\\"), Group.description.ilike(pattern, escape="\\")))
    if filters.tag:
        query = query.where(Group.tags.any(GroupTag.tag == filters.tag))
    if filters.country:
        query = query.where(Group.country == filters.country)
    if filters.network:
        query = query.where(Group.network == filters.network)
    if filters.kind:
        query = query.where(Group.kind == filters.kind)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = min(page, max(1, -(-total // per_page)))  # past the end: show the last page
    groups = list(db.session.scalars(
        query.options(joinedload(Group.owner), selectinload(Group.tags))
        .order_by(Group.archived_at.is_not(None), func.lower(Group.name), Group.id)
        .limit(per_page).offset((page - 1) * per_page)).unique())
    inside = {g.id for g in groups if policy.can_view_inside(viewer, g)}  # no query: scopes are cached
    return DirectoryPage(groups=groups, total=total, page=page, per_page=per_page,
                         member_counts=member_counts(inside), inside=inside,
                         tag_facets=tag_facets(viewer) if facets else [])


def member_group_ids(viewer) -> set[int]:
    """The groups the viewer is an active member of, read from the policy's (cached) scopes."""
    return {int(s.split(":", 1)[1]) for s in policy.scopes_for(viewer) if s.startswith("group:")}


def member_counts(group_ids) -> dict[int, int]:
    """Active members per group, one grouped query. Callers pass only groups whose inside the
    viewer may see: a closed group's size is not shown to outsiders."""
    ids = list(group_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Membership.group_id, func.count(Membership.id))
                              .where(Membership.group_id.in_(ids), Membership.state == "member")
                              .group_by(Membership.group_id))
    counts = {gid: 0 for gid in ids}
    counts.update({gid: n for gid, n in rows})
    return counts


def tag_facets(viewer, limit: int = 40) -> list[tuple[str, int]]:
    count = func.count(GroupTag.id)
    query = select(GroupTag.tag, count).join(Group, Group.id == GroupTag.group_id)
    query = policy.visible(query, viewer, Group).group_by(GroupTag.tag).order_by(count.desc(), GroupTag.tag).limit(limit)
    return [(tag, n) for tag, n in db.session.execute(query)]


_ROLE_ORDER = case((Membership.role == "owner", 0), (Membership.role == "moderator", 1), else_=2)


def members(group: Group, page: int = 1, per_page: int = MEMBERS_PAGE, state: str = "member"):
    """One page of memberships in ``state`` with their users, owner and moderators first."""
    base = select(Membership).where(Membership.group_id == group.id, Membership.state == state)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = list(db.session.scalars(
        base.join(User, User.id == Membership.user_id).options(joinedload(Membership.user))
        .order_by(_ROLE_ORDER, func.lower(User.display_name), Membership.id)
        .limit(per_page).offset((page - 1) * per_page)))
    return rows, total


def pending_requests(group: Group) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).where(Membership.group_id == group.id, Membership.state == "pending")
        .options(joinedload(Membership.user)).order_by(Membership.updated_at, Membership.id)))


def pending_count(group: Group) -> int:
    return db.session.scalar(select(func.count(Membership.id)).where(
        Membership.group_id == group.id, Membership.state == "pending"))


def recent_log(group: Group, limit: int = 30):
    return list(db.session.scalars(
        select(MembershipLog).where(MembershipLog.group_id == group.id)
        .options(joinedload(MembershipLog.user), joinedload(MembershipLog.actor))
        .order_by(MembershipLog.created_at.desc(), MembershipLog.id.desc()).limit(limit)))

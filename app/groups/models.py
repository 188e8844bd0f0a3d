"""Groups and who belongs to them. Membership of a closed or secret group can reveal health
information, so the policy treats the member list like the group's content."""
import secrets
from datetime import timedelta

from app.extensions import db
from app.models_base import TimestampMixin, utcnow

KINDS = {
    "open": "Open: anyone can join and read",
    "closed": "Closed: anyone can find it and ask to join; only members read",
    "secret": "Secret: invisible to non-members; joined by invitation only",
}
# Networks the hub serves (see context/): used as a directory filter.
NETWORKS = {
    "": "None",
    "interact_europe": "INTERACT-EUROPE training programme (100 centres)",
    "eunetccc": "Network of Comprehensive Cancer Centres",
    "eunetccc_thematic": "CCC network thematic area",
    "mission_hub": "National Cancer Mission Hub",
    "patient_org": "Patient organisation network",
}
# Leaving, removal and unbanning delete the row (we keep no trace of who was once in a health
# group); moderators' decisions are kept in MembershipLog instead.
MEMBER_STATES = ("pending", "member", "banned", "denied")
MEMBER_ROLES = ("member", "moderator", "owner")
LOG_ACTIONS = ("approve", "deny", "invite", "remove", "ban", "unban", "promote", "demote", "transfer",
               "archive", "unarchive", "kind")


class Group(TimestampMixin, db.Model):
    __tablename__ = "groups"
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(90), nullable=False, unique=True)
    name = db.Column(db.String(120), nullable=False)
    description = db.Column(db.Text, nullable=False, default="")
    description_html = db.Column(db.Text, nullable=False, default="")
    kind = db.Column(db.String(10), nullable=False, default="open", index=True)
    country = db.Column(db.String(2), index=True)
    network = db.Column(db.String(40), nullable=False, default="", index=True)
    owner_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    archived_at = db.Column(db.DateTime)
    avatar_id = db.Column(db.Integer)  # a picture from the media library (app/media); cleared when deleted

    owner = db.relationship("User", foreign_keys=[owner_id])
    tags = db.relationship("GroupTag", back_populates="group", cascade="all, delete-orphan", order_by="GroupTag.tag")
    memberships = db.relationship("Membership", back_populates="group", cascade="all, delete-orphan")
    invitations = db.relationship("Invitation", back_populates="group", cascade="all, delete-orphan")
    log = db.relationship("MembershipLog", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def tag_list(self) -> list[str]:
        return [t.tag for t in self.tags]


class GroupTag(db.Model):
    __tablename__ = "group_tags"
    __table_args__ = (db.UniqueConstraint("group_id", "tag", name="uq_group_tags_group_tag"),)
    id = db.Column(db.Integer, primary_key=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, index=True)
    tag = db.Column(db.String(40), nullable=False, index=True)
    group = db.relationship("Group", back_populates="tags")


class Membership(TimestampMixin, db.Model):
    """One person's relation to one group: a request, a membership, or a ban (kept, with reasons)."""
    __tablename__ = "memberships"
    __table_args__ = (db.UniqueConstraint("group_id", "user_id", name="uq_memberships_group_user"),)
    id = db.Column(db.Integer, primary_key=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    state = db.Column(db.String(10), nullable=False, default="member", index=True)
    role = db.Column(db.String(10), nullable=False, default="member")
    request_message = db.Column(db.Text)
    decided_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    decision_reason = db.Column(db.Text)
    decided_at = db.Column(db.DateTime)

    group = db.relationship("Group", back_populates="memberships")
    user = db.relationship("User", foreign_keys=[user_id])
    decided_by = db.relationship("User", foreign_keys=[decided_by_id])

    @property
    def is_active_member(self) -> bool:
        return self.state == "member"


class Invitation(db.Model):
    """A single-use invitation link, to a member or to an e-mail address."""
    __tablename__ = "invitations"
    id = db.Column(db.Integer, primary_key=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, index=True)
    token = db.Column(db.String(64), nullable=False, unique=True, default=lambda: secrets.token_urlsafe(32))
    email = db.Column(db.String(254))
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"))
    invited_by_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    expires_at = db.Column(db.DateTime, nullable=False, default=lambda: utcnow() + timedelta(days=14))
    used_at = db.Column(db.DateTime)
    used_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))

    group = db.relationship("Group", back_populates="invitations")
    user = db.relationship("User", foreign_keys=[user_id])
    invited_by = db.relationship("User", foreign_keys=[invited_by_id])


class MembershipLog(db.Model):
    """Moderators' decisions (approve, deny, remove, ban...) with their reasons, kept after the
    membership row itself changes or disappears, so a group's moderation stays accountable."""
    __tablename__ = "membership_log"
    id = db.Column(db.Integer, primary_key=True)
    group_id = db.Column(db.Integer, db.ForeignKey("groups.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"))  # None: e-mail invitation
    email = db.Column(db.String(254))
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    action = db.Column(db.String(12), nullable=False)
    reason = db.Column(db.Text)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    user = db.relationship("User", foreign_keys=[user_id])
    actor = db.relationship("User", foreign_keys=[actor_id])

"""Cancer centres and organisations, and the corrections their staff propose.

Centres are public to everyone (no policy rule); a correction is visible only to its proposer and
site staff (rule in app/policy/directory.py). Text fields are plain text, shown autoescaped, and kept in
columns a search document builder can read directly later (name, aliases, city, specialties).
"""
from app.extensions import db
from app.models_base import TimestampMixin, utcnow

CENTRE_KINDS = {
    "comprehensive_cancer_centre": "Comprehensive cancer centre",
    "hospital": "Hospital",
    "research_institute": "Research institute",
    "patient_organisation": "Patient organisation",
    "society": "Society",
}
NETWORKS = {
    "eunetccc": "EUnetCCC (Comprehensive Cancer Centres network)",
    "interact_europe": "INTERACT-EUROPE 100 (inter-specialty training)",
    "mission_hub": "National Cancer Mission Hub",
    "oeci": "OECI member",
}
CORRECTION_STATES = ("pending", "approved", "rejected")


class Centre(TimestampMixin, db.Model):
    """One place, under one name; the other spellings it was merged from are its ``aliases``.

    Natural key: (``name_key``, ``city_key``, ``country``) - the normalised name, city and ISO-2
    country (app.directory.matching), so re-importing the registry's spellings finds this row."""
    __tablename__ = "centres"
    __table_args__ = (
        db.UniqueConstraint("name_key", "city_key", "country", name="uq_centres_natural_key"),
        db.Index("ix_centres_country_city", "country", "city_key"),
    )
    id = db.Column(db.Integer, primary_key=True)
    slug = db.Column(db.String(120), nullable=False, unique=True)
    name = db.Column(db.Text, nullable=False)
    name_key = db.Column(db.String(600), nullable=False)
    kind = db.Column(db.String(40), nullable=False, default="hospital", index=True)
    address = db.Column(db.Text, nullable=False, default="")
    city = db.Column(db.String(200), nullable=False, default="")
    city_key = db.Column(db.String(200), nullable=False, default="")
    state = db.Column(db.String(200), nullable=False, default="")
    zip = db.Column(db.String(40), nullable=False, default="")
    country = db.Column(db.String(2), index=True)  # ISO 3166-1 alpha-2
    lat = db.Column(db.Float)
    lon = db.Column(db.Float)
    website = db.Column(db.String(500), nullable=False, default="")
    specialties = db.Column(db.Text, nullable=False, default="")  # comma-separated, as typed
    languages = db.Column(db.String(200), nullable=False, default="")
    # An organisation's switchboard or public e-mail, never a person's (corrections say so).
    contact = db.Column(db.Text, nullable=False, default="")
    aliases = db.Column(db.JSON, nullable=False, default=list)  # other names merged into this one
    source = db.Column(db.String(20), nullable=False, default="manual")  # sites_csv | manual
    trial_count = db.Column(db.Integer, nullable=False, default=0)  # as counted by the last import

    networks = db.relationship("CentreNetwork", back_populates="centre", cascade="all, delete-orphan",
                               order_by="CentreNetwork.network")

    @property
    def kind_label(self) -> str:
        return CENTRE_KINDS.get(self.kind, self.kind)

    @property
    def network_codes(self) -> list[str]:
        return [n.network for n in self.networks]

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lon is not None

    def __repr__(self) -> str:
        return f"<Centre {self.slug}>"


class CentreNetwork(db.Model):
    """Membership of a network (many per centre), a row so browse pages can facet on it."""
    __tablename__ = "centre_networks"
    __table_args__ = (db.UniqueConstraint("centre_id", "network", name="uq_centre_networks_centre_network"),)
    id = db.Column(db.Integer, primary_key=True)
    centre_id = db.Column(db.Integer, db.ForeignKey("centres.id", ondelete="CASCADE"), nullable=False, index=True)
    network = db.Column(db.String(40), nullable=False, index=True)
    centre = db.relationship("Centre", back_populates="networks")

    @property
    def label(self) -> str:
        return NETWORKS.get(self.network, self.network)


class CentreCorrection(db.Model):
    """A change proposed by centre staff; applied only when a site moderator approves it.

    ``changes`` maps field -> proposed value; ``previous`` records the values it replaced, so the
    history shows what an approval did."""
    __tablename__ = "centre_corrections"
    id = db.Column(db.Integer, primary_key=True)
    centre_id = db.Column(db.Integer, db.ForeignKey("centres.id", ondelete="CASCADE"), nullable=False, index=True)
    proposer_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    changes = db.Column(db.JSON, nullable=False, default=dict)
    previous = db.Column(db.JSON)
    message = db.Column(db.Text, nullable=False, default="")
    state = db.Column(db.String(10), nullable=False, default="pending", index=True)
    decided_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at = db.Column(db.DateTime)
    reason = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    centre = db.relationship("Centre")
    proposer = db.relationship("User", foreign_keys=[proposer_id])
    decided_by = db.relationship("User", foreign_keys=[decided_by_id])

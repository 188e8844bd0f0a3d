"""Clinical trials as ClinicalTrials.gov publishes them, and the places they run.

Public to everyone (no policy rule). Registry dates stay strings ("2026-09" is a valid registry
date); ``last_update`` is a real date because lists sort on it.

PRIVACY: ``central_contacts``, ``overall_officials`` and ``TrialSite.contacts`` hold investigators'
names, e-mails and phone numbers as the registry publishes them. They are shown only where the
registry shows them (the trial page, the single-trial API) and must NEVER be copied into a search
document, a people search, a suggestion list or any list endpoint.
"""
from sqlalchemy.orm import deferred

from app.extensions import db
from app.models_base import TimestampMixin

STATUS_LABELS = {
    "RECRUITING": "Recruiting",
    "NOT_YET_RECRUITING": "Not yet recruiting",
    "ENROLLING_BY_INVITATION": "Enrolling by invitation",
    "ACTIVE_NOT_RECRUITING": "Active, not recruiting",
    "COMPLETED": "Completed",
    "SUSPENDED": "Suspended",
    "TERMINATED": "Terminated",
    "WITHDRAWN": "Withdrawn",
    "AVAILABLE": "Available (expanded access)",
    "NO_LONGER_AVAILABLE": "No longer available",
    "TEMPORARILY_NOT_AVAILABLE": "Temporarily not available",
    "APPROVED_FOR_MARKETING": "Approved for marketing",
    "WITHHELD": "Withheld",
    "UNKNOWN": "Unknown status",
}
OPEN_STATUSES = ("RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION")
PHASE_LABELS = {
    "EARLY_PHASE1": "Early phase 1", "PHASE1": "Phase 1", "PHASE2": "Phase 2", "PHASE3": "Phase 3",
    "PHASE4": "Phase 4", "NA": "Not applicable",
}
STUDY_TYPE_LABELS = {"INTERVENTIONAL": "Interventional", "OBSERVATIONAL": "Observational",
                     "EXPANDED_ACCESS": "Expanded access"}
SEX_LABELS = {"ALL": "All sexes", "FEMALE": "Female", "MALE": "Male"}
AGE_GROUP_LABELS = {"CHILD": "Child (birth-17)", "ADULT": "Adult (18-64)", "OLDER_ADULT": "Older adult (65+)"}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def phase_label(phases: str) -> str:
    codes = [p for p in (phases or "").split("|") if p]
    if not codes:
        return "No phase (not a drug trial phase)"
    return " / ".join(PHASE_LABELS.get(p, p) for p in codes)


class Trial(TimestampMixin, db.Model):
    __tablename__ = "trials"
    id = db.Column(db.Integer, primary_key=True)
    nct_id = db.Column(db.String(11), nullable=False, unique=True)
    brief_title = db.Column(db.Text, nullable=False)
    official_title = db.Column(db.Text, nullable=False, default="")
    acronym = db.Column(db.String(200), nullable=False, default="")
    status = db.Column(db.String(40), nullable=False, default="UNKNOWN", index=True)
    phases = db.Column(db.String(100), nullable=False, default="", index=True)  # "PHASE2|PHASE3"
    study_type = db.Column(db.String(40), nullable=False, default="")
    conditions = db.Column(db.JSON, nullable=False, default=list)
    conditions_text = db.Column(db.Text, nullable=False, default="")  # "; "-joined, for filters
    keywords = db.Column(db.JSON, nullable=False, default=list)
    interventions = db.Column(db.JSON, nullable=False, default=list)  # [{"name", "type"}]
    brief_summary = db.Column(db.Text, nullable=False, default="")
    eligibility_criteria = db.Column(db.Text, nullable=False, default="")
    min_age = db.Column(db.String(40), nullable=False, default="")
    max_age = db.Column(db.String(40), nullable=False, default="")
    sex = db.Column(db.String(10), nullable=False, default="")
    healthy_volunteers = db.Column(db.Boolean)
    std_ages = db.Column(db.String(60), nullable=False, default="")  # "ADULT|OLDER_ADULT"
    enrollment = db.Column(db.Integer)
    enrollment_type = db.Column(db.String(20), nullable=False, default="")
    sponsor = db.Column(db.Text, nullable=False, default="")
    sponsor_class = db.Column(db.String(20), nullable=False, default="")
    collaborators = db.Column(db.JSON, nullable=False, default=list)  # [{"name", "class"}]
    start_date = db.Column(db.String(10), nullable=False, default="")
    primary_completion_date = db.Column(db.String(10), nullable=False, default="")
    completion_date = db.Column(db.String(10), nullable=False, default="")
    last_update = db.Column(db.Date, index=True)
    has_results = db.Column(db.Boolean, nullable=False, default=False)
    # NEVER index (see module docstring): people's names and contacts, shown as the registry does.
    central_contacts = deferred(db.Column(db.JSON, nullable=False, default=list))
    # NEVER index (see module docstring).
    overall_officials = deferred(db.Column(db.JSON, nullable=False, default=list))
    # The whole registry record ("full record for professionals"); loaded only on the trial page.
    raw = deferred(db.Column(db.JSON, nullable=False))
    source_hash = db.Column(db.String(64), nullable=False, default="")
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="SET NULL"))

    sites = db.relationship("TrialSite", back_populates="trial", cascade="all, delete-orphan",
                            order_by="TrialSite.position")
    topic = db.relationship("Topic")

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def phase_label(self) -> str:
        return phase_label(self.phases)

    @property
    def study_type_label(self) -> str:
        return STUDY_TYPE_LABELS.get(self.study_type, self.study_type.capitalize())

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def registry_url(self) -> str:
        return f"https://clinicaltrials.gov/study/{self.nct_id}"

    def __repr__(self) -> str:
        return f"<Trial {self.nct_id}>"


class TrialSite(db.Model):
    """One location of a trial, as the registry lists it; ``centre_id`` links it to the directory
    (NULL for sponsor-anonymised sites such as "Research Site", which still count as sites)."""
    __tablename__ = "trial_sites"
    __table_args__ = (db.Index("ix_trial_sites_trial_position", "trial_id", "position"),)
    id = db.Column(db.Integer, primary_key=True)
    trial_id = db.Column(db.Integer, db.ForeignKey("trials.id", ondelete="CASCADE"), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    facility = db.Column(db.Text, nullable=False, default="")
    city = db.Column(db.String(200), nullable=False, default="")
    state = db.Column(db.String(200), nullable=False, default="")
    zip = db.Column(db.String(40), nullable=False, default="")
    country = db.Column(db.String(120), nullable=False, default="")  # as the registry writes it
    country_code = db.Column(db.String(2), index=True)
    lat = db.Column(db.Float)
    lon = db.Column(db.Float)
    status = db.Column(db.String(40), nullable=False, default="")
    # NEVER index: site investigators' names and contacts, shown as the registry shows them.
    contacts = db.Column(db.JSON, nullable=False, default=list)
    centre_id = db.Column(db.Integer, db.ForeignKey("centres.id", ondelete="SET NULL"), index=True)

    trial = db.relationship("Trial", back_populates="sites")
    centre = db.relationship("Centre")

"""People: accounts, their server-side sessions, and profile fields with per-field visibility."""
import secrets

from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models_base import TimestampMixin, utcnow

ROLES = {
    "patient": "Patient",
    "carer": "Carer",
    "clinician": "Clinician",
    "nurse": "Nurse",
    "researcher": "Researcher",
    "centre_staff": "Cancer-centre staff",
    "other": "Other",
}
SITE_ROLES = ("member", "moderator", "admin")
VISIBILITY = {"everyone": "Everyone", "members": "Signed-in members", "me": "Only me"}

# Profile fields: key -> (label, default visibility). Trainee fields are first-class.
PROFILE_FIELDS = {
    "bio": ("About me", "members"),
    "profession": ("Profession", "everyone"),
    "specialty": ("Specialty", "everyone"),
    "centre": ("Centre or organisation", "members"),
    "country": ("Country", "members"),
    "languages": ("Languages", "members"),
    "interests": ("Interests", "members"),
    "training_specialty": ("Training specialty", "members"),
    "home_centre": ("Home centre", "members"),
    "training_cohort": ("Training cohort", "members"),
}
TRAINING_SPECIALTIES = {
    "": "Not in training",
    "medical_oncology": "Medical oncology",
    "radiation_oncology": "Radiation oncology",
    "surgical_oncology": "Surgical oncology",
    "cancer_nursing": "Cancer nursing",
    "other": "Other specialty",
}


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    display_name = db.Column(db.String(80), nullable=False)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(20), nullable=False, default="other")
    site_role = db.Column(db.String(20), nullable=False, default="member")
    country = db.Column(db.String(2))
    language = db.Column(db.String(8), nullable=False, default="en")
    email_confirmed_at = db.Column(db.DateTime)
    terms_version = db.Column(db.String(20), nullable=False)
    terms_accepted_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # Verified professional badge (verification workflow comes with moderation).
    verified_at = db.Column(db.DateTime)
    is_active_account = db.Column(db.Boolean, nullable=False, default=True)
    # Bumped on password change: outstanding reset links die with the old password.
    credentials_changed_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # A picture from the member's media library (app/media); no foreign key: media rows point
    # at users, and deleting a file clears this (app/media/services.py).
    avatar_id = db.Column(db.Integer)

    sessions = db.relationship("UserSession", back_populates="user", cascade="all, delete-orphan")
    profile_fields = db.relationship("ProfileField", back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.credentials_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_moderator(self) -> bool:
        return self.site_role in ("moderator", "admin")

    @property
    def is_admin(self) -> bool:
        return self.site_role == "admin"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, "Member")

    def get_id(self) -> str:
        # Flask-Login keeps this in the session and remember cookie: it names the server-side
        # session, so deleting that row (logout, password change) ends the cookie too.
        return getattr(self, "_session_token", None) or ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(db.Model):
    """One signed-in browser. Logging out deletes it; a copied cookie is then worthless."""
    __tablename__ = "user_sessions"
    id = db.Column(db.Integer, primary_key=True)
    token = db.Column(db.String(64), nullable=False, unique=True, default=lambda: secrets.token_urlsafe(32))
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    last_seen_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    user_agent = db.Column(db.String(200))
    user = db.relationship("User", back_populates="sessions")


class ProfileField(db.Model):
    """One profile value with its owner's chosen audience; the policy reads `visibility`."""
    __tablename__ = "profile_fields"
    __table_args__ = (db.UniqueConstraint("user_id", "key", name="uq_profile_fields_user_key"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    key = db.Column(db.String(40), nullable=False)
    value = db.Column(db.Text, nullable=False, default="")
    html = db.Column(db.Text)  # sanitised rendering, for Markdown fields (bio)
    visibility = db.Column(db.String(10), nullable=False, default="members")
    user = db.relationship("User", back_populates="profile_fields")

    @property
    def label(self) -> str:
        return PROFILE_FIELDS.get(self.key, (self.key, ""))[0]

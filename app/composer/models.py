"""Drafts saved as you type: one row per person and writing place, so a reload, a crash or a
closed laptop does not cost anyone the reply they were halfway through. A draft belongs to its
writer alone: it is keyed by the signed-in user, never addressed by id, and goes when they do."""
from app.extensions import db
from app.models_base import utcnow

# Room for the longest place the templates build ("topic:new:group:<slug>", slugs up to 90).
PLACE_MAX = 120


class Draft(db.Model):
    __tablename__ = "drafts"
    __table_args__ = (db.UniqueConstraint("user_id", "place", name="uq_drafts_user_place"),)
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    # Where the text will go ("topic:42", "topic:new:group:<slug>", "chat:<slug>"): free text to
    # the database, validated by the route; it grants nothing, it only finds the draft again.
    place = db.Column(db.String(PLACE_MAX), nullable=False)
    body = db.Column(db.Text, nullable=False)
    updated_at = db.Column(db.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

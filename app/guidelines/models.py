"""Clinical practice guidelines: metadata and a link to the publisher, never the guideline text
(publishers such as NCCN hold the copyright). Public to everyone (no policy rule)."""
from app.extensions import db
from app.models_base import TimestampMixin

LANGUAGES = {
    "en": "English", "bg": "Bulgarian", "hr": "Croatian", "cs": "Czech", "da": "Danish",
    "nl": "Dutch", "et": "Estonian", "fi": "Finnish", "fr": "French", "de": "German", "el": "Greek",
    "hu": "Hungarian", "ga": "Irish", "it": "Italian", "lv": "Latvian", "lt": "Lithuanian",
    "mt": "Maltese", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "sk": "Slovak", "sl": "Slovenian", "es": "Spanish", "sv": "Swedish", "tr": "Turkish",
    "uk": "Ukrainian", "other": "Other",
}


class Guideline(TimestampMixin, db.Model):
    """Natural key (publisher, external_id) for imported lists; guidelines added by members have
    no external id and are told apart by their row id."""
    __tablename__ = "guidelines"
    __table_args__ = (
        db.UniqueConstraint("publisher", "external_id", name="uq_guidelines_publisher_external"),
    )
    id = db.Column(db.Integer, primary_key=True)
    publisher = db.Column(db.String(120), nullable=False, index=True)
    external_id = db.Column(db.String(80))
    title = db.Column(db.Text, nullable=False)
    tumour_type = db.Column(db.String(300), nullable=False, default="", index=True)
    version = db.Column(db.String(40), nullable=False, default="")
    year = db.Column(db.Integer, index=True)
    language = db.Column(db.String(8), nullable=False, default="en")
    category = db.Column(db.String(200), nullable=False, default="")
    url = db.Column(db.String(1000), nullable=False)
    added_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    topic_id = db.Column(db.Integer, db.ForeignKey("topics.id", ondelete="SET NULL"))

    added_by = db.relationship("User")
    topic = db.relationship("Topic")

    @property
    def language_label(self) -> str:
        return LANGUAGES.get(self.language, self.language)

    def __repr__(self) -> str:
        return f"<Guideline {self.publisher} {self.title!r}>"

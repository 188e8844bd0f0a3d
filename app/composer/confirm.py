"""The one rule every publishing place applies to the posting assistant: warn first, publish only
once the writer has seen the warnings and chosen to go on. Routes, the JSON API and socket
handlers share it, so "publish anyway" means the same everywhere:

    warnings = warnings_to_confirm(text, request.form)      # or data.get("confirm") for JSON
    if warnings:
        return <the same form again, text kept, warnings shown>, CONFIRM_STATUS

Nothing is saved until the writer confirms. The check reads the writer's language (falling back
to English word lists)."""
from collections.abc import Mapping

from flask import has_request_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.composer.assistant import Finding, review
from app.core.errors import NeedsConfirmation

FIELD = "publish_anyway"  # the checkbox of the HTML forms (templates/_macros/assistant.html)
CONFIRM_STATUS = NeedsConfirmation.status  # 409, like the move that widens a topic's audience
_YES = {"1", "y", "yes", "on", "true"}


def confirmed(value) -> bool:
    """Whether the writer chose to publish anyway: ``True`` from JSON, "1"/"y"/"on" from a form,
    or a form/mapping holding ``publish_anyway``. Anything else (absent, "0", 1.0) is a no."""
    if isinstance(value, Mapping) or hasattr(value, "getlist"):
        value = value.get(FIELD)
    if value is True:
        return True
    return isinstance(value, str) and value.strip().lower() in _YES


def language() -> str:
    """The writer's interface language: the word lists to use (English when there are none)."""
    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None else "en"


def warnings_to_confirm(text: str, form_or_value) -> list[Finding]:
    """The assistant's findings for ``text``, or [] once the writer has confirmed."""
    if confirmed(form_or_value):
        return []
    return review(text or "", language())


def as_json(findings: list[Finding]) -> list[dict]:
    return [{"code": f.code, "message": f.message} for f in findings]


def guidelines_url() -> str:
    return url_for("main.community_guidelines")


def confirm_payload(findings: list[Finding]) -> dict:
    """The body of a "confirm first" answer (JSON API and socket refusals alike)."""
    return {"code": "confirm", "warnings": as_json(findings), "guidelines_url": guidelines_url(),
            "message": _("Please look at these points before publishing. You may still publish it as it is.")}

"""Signed, expiring links sent by e-mail.

Each purpose has its own salt, so a confirmation token can never be replayed as a reset token.
Tokens are stateless (nothing stored), so single use comes from what they embed: a fingerprint
of the credentials they were minted against. Once the password or address changes, the
fingerprint no longer matches and every outstanding link for that account dies with it.
"""
import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM = "confirm-email"
EMAIL_CHANGE = "change-email"
RESET = "reset-password"

_MAX_AGE_SETTING = {CONFIRM: "TOKEN_MAX_AGE", EMAIL_CHANGE: "TOKEN_MAX_AGE", RESET: "RESET_TOKEN_MAX_AGE"}


class TokenError(Exception):
    """The link cannot be used; ``expired`` lets the page say which, so people know to ask again."""

    def __init__(self, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"oncollab.accounts.{purpose}")


def make_token(purpose: str, **payload) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str) -> dict:
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except BadSignature:
        raise TokenError(expired=False) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        raise TokenError(expired=False)
    return payload


def fingerprint(*parts) -> str:
    """A keyed digest, so the token (readable base64) reveals neither hash nor address."""
    message = "\x1f".join(str(part) for part in parts).encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:24]


def credentials_fingerprint(user) -> str:
    return fingerprint("credentials", user.id, user.email, user.password_hash, user.credentials_changed_at)


def address_fingerprint(user) -> str:
    """Confirmation links are tied to the address they were sent to, not to the password."""
    return fingerprint("address", user.id, user.email)


def matches(expected: str, given) -> bool:
    return isinstance(given, str) and hmac.compare_digest(expected, given)

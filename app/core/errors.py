"""The refusal every service raises: the HTML form shows it beside its field, the JSON API
answers with its status and reason, the socket handler sends it as an ``error`` event."""


class ServiceError(Exception):
    """``status`` is the HTTP answer, ``field`` the input it belongs to (None: the whole form),
    ``code`` a stable word for machine clients (sockets, JSON)."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, field: str | None = None, *, status: int | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class Denied(ServiceError):
    status = 403
    code = "denied"


class NeedsConfirmation(ServiceError):
    """Allowed, but only once the person confirms a warning (e.g. a move that widens an audience)."""
    status = 409
    code = "confirm"

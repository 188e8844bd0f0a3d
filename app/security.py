"""Response headers and safe redirects: the browser-side half of the security baseline."""
from urllib.parse import unquote, urlsplit

from flask import Flask, request
from flask_login import current_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def register(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "geolocation=(), camera=(), microphone=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if current_user.is_authenticated or request.method != "GET":
            # Pages for a signed-in person must never be served from a shared cache; their media
            # files (app/media/serving.py) say "private" themselves: the browser may keep them.
            if not response.cache_control.private:
                response.headers["Cache-Control"] = "no-store"
            response.vary.add("Cookie")
        return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: `next` must never become an open redirect."""
    if not target:
        return default
    decoded = target
    for _ in range(3):  # undo nested percent-encoding before judging
        decoded = unquote(decoded)
    if any(ord(ch) < 32 or ch == "\\" for ch in decoded) or any(ord(ch) < 32 for ch in target):
        return default
    if not decoded.startswith("/") or decoded.startswith("//"):
        return default
    parts = urlsplit(decoded)
    if parts.scheme or parts.netloc:
        return default
    return target

"""Security baseline through HTTP: headers, CSRF, safe GETs, `next` redirects, rate limits,
session timeouts and error pages (HTML for people, JSON for API clients, never a traceback)."""
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from app.accounts.models import ProfileField, User, UserSession
from app.extensions import db
from tests.factories import (PASSWORD, get_csrf, is_signed_in, links_in, login, login_as, outbox, person, session_count,
                             submit)

JSON = {"Accept": "application/json"}


def snapshot(app):
    """Everything an accounts request could change, to prove that something did not."""
    with app.app_context():
        users = [(u.id, u.email, u.display_name, u.password_hash, u.email_confirmed_at, u.site_role,
                  u.is_active_account, u.verified_at) for u in db.session.scalars(select(User).order_by(User.id))]
        sessions = sorted(db.session.scalars(select(UserSession.token)))
        fields = [(f.user_id, f.key, f.value, f.visibility) for f in
                  db.session.scalars(select(ProfileField).order_by(ProfileField.id))]
    return users, sessions, fields, len(outbox(app))




# -- Headers ---------------------------------------------------------------------------------------------

def _assert_baseline_headers(response):
    csp = response.headers["Content-Security-Policy"]
    script_src = [d for d in csp.split(";") if d.strip().startswith("script-src")]
    assert script_src and "'unsafe-inline'" not in script_src[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "strict-origin-when-cross-origin")


def test_security_headers_on_public_and_signed_in_pages(app, client):
    for url in ("/", "/login", "/register", "/reset"):
        _assert_baseline_headers(client.get(url))
    login_as(client, person(app))
    for url in ("/settings", "/settings/profile", "/"):
        response = client.get(url)
        _assert_baseline_headers(response)
        assert response.headers["Cache-Control"] == "no-store" and "Cookie" in response.headers["Vary"]


def test_session_cookie_attributes(app, client):
    person(app, email="c@example.org")
    response = submit(client, "/login", {"email": "c@example.org", "password": PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    for name in ("session=", "remember_token="):
        (cookie,) = [c for c in cookies if c.startswith(name)]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# -- CSRF and safe methods ----------------------------------------------------------------------------------

POST_ENDPOINTS = ["/register", "/login", "/logout", "/reset", "/settings/email", "/settings/password",
                  "/settings/profile", "/settings/resend-confirmation"]


def test_every_accounts_post_route_is_listed_here(app):
    posts = {rule.rule for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("accounts.") and "POST" in rule.methods and "<" not in rule.rule}
    assert posts == set(POST_ENDPOINTS)


@pytest.mark.parametrize("url", POST_ENDPOINTS)
def test_post_without_or_with_foreign_csrf_token_is_400_and_changes_nothing(app, url):
    user = person(app, email="v@example.org", confirmed=False)
    client = login_as(app.test_client(), user) if url.startswith("/settings") or url == "/logout" \
        else app.test_client()
    foreign = get_csrf(app.test_client(), "/login")  # a valid token from another browser
    data = {"email": "v@example.org", "password": PASSWORD, "display_name": "Changed", "new_email": "n@example.org",
            "current_password": PASSWORD, "confirm": "x" * 12, "role": "patient", "language": "en", "consent": "y"}
    before = snapshot(app)
    for extra in ({}, {"csrf_token": foreign}, {"csrf_token": "garbage"}):
        response = client.post(url, data={**data, **extra})
        assert response.status_code == 400, (url, extra)
        assert "Your form expired or was sent from another site" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_token_link_posts_need_csrf_too(app, client):
    user = person(app, email="t@example.org", confirmed=False)
    submit(client, "/reset", {"email": "t@example.org"})
    (reset_path,) = links_in(outbox(app)[-1], "/reset/")
    before = snapshot(app)
    response = client.post(reset_path, data={"password": "another fine passphrase",
                                             "confirm": "another fine passphrase"})
    assert response.status_code == 400 and snapshot(app) == before
    assert user


def _dummy_values(rule, user_id):
    return {arg: user_id if arg == "user_id" else "x" for arg in rule.arguments}


def test_every_get_route_is_safe(app):
    """No GET changes state, for a signed-in member and for anonymous visitors, including the
    pages behind valid e-mailed links (scanners and previews fetch them)."""
    user = person(app, email="g@example.org", confirmed=False)
    signed_in = login_as(app.test_client(), user)
    # Valid links of every kind.
    submit(app.test_client(), "/reset", {"email": "g@example.org"})
    submit(signed_in, "/settings/resend-confirmation", {}, post_url="/settings/resend-confirmation")
    submit(signed_in, "/settings", {"new_email": "n@example.org", "current_password": PASSWORD},
           post_url="/settings/email")
    links = []
    for message in outbox(app):
        for prefix in ("/reset/", "/confirm/", "/settings/email/"):
            links += links_in(message, prefix)
    assert len(links) == 3

    urls = list(links)
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if "GET" in rule.methods and rule.endpoint.split(".")[0] in ("accounts", "main"):
                urls.append(url_for(rule.endpoint, **_dummy_values(rule, user.id)))
    before = snapshot(app)
    for client in (signed_in, app.test_client()):
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, url
    assert snapshot(app) == before


# -- Redirects ------------------------------------------------------------------------------------------------

NEXT_VARIANTS = ["//evil.example", "/\\evil.example", "\\\\evil.example", "https:evil.example",
                 "javascript:alert(1)", "%2F%2Fevil.example", "/%09/evil.example", "/%5Cevil.example",
                 "https://evil.example", "/\t/evil.example", "///evil.example", " //evil.example",
                 "http://localhost.evil.example/", "\\/evil.example", "/%2F/evil.example"]


def _assert_local(location):
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and "evil" not in location and not urlsplit(location).netloc, location


@pytest.mark.parametrize("target", NEXT_VARIANTS)
def test_next_after_login_stays_on_site(app, target):
    person(app, email="n@example.org")
    data = {"email": "n@example.org", "password": PASSWORD}
    via_query = submit(app.test_client(), f"/login?next={quote(target, safe='')}", data)
    via_form = submit(app.test_client(), "/login", {**data, "next": target})
    raw_query = submit(app.test_client(), f"/login?next={target}", data)
    for response in (via_query, via_form, raw_query):
        assert response.status_code == 302
        _assert_local(response.headers["Location"])


def test_next_keeps_local_paths_and_signed_in_visit_redirects_safely(app):
    person(app, email="n@example.org")
    client = app.test_client()
    response = submit(client, "/login?next=/people/1%3Ftab%3Dx", {"email": "n@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/people/1?tab=x"
    assert client.get("/login?next=//evil.example").headers["Location"] == "/"


# -- Rate limits ----------------------------------------------------------------------------------------------

def _limited_app(app_factory, **limits):
    settings = {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "100 per minute", "RATELIMIT_LOGIN_ACCOUNT": "100 per minute",
                "RATELIMIT_REGISTER": "100 per minute", "RATELIMIT_RESET": "100 per minute"}
    settings.update(limits)
    return app_factory(**settings)


def _login_attempt(client, email, password="wrong password", ip="10.0.0.1", headers=None):
    token = get_csrf(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": ip}, headers=headers or {})


def _assert_429(response):
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 0 < retry <= 60
    assert "Too many attempts" in response.get_data(as_text=True)


def test_login_per_ip_limit_gives_429_with_retry_after(app_factory):
    app = _limited_app(app_factory, RATELIMIT_LOGIN="3 per minute")
    person(app, email="ip@example.org")
    client = app.test_client()
    for n in range(3):
        assert _login_attempt(client, f"user{n}@example.org").status_code == 200
    response = _login_attempt(client, "ip@example.org", PASSWORD)
    _assert_429(response)
    page = response.get_data(as_text=True)
    assert "<h1>" in page and "3 per 1 minute" not in page
    assert not is_signed_in(client)
    assert _login_attempt(app.test_client(), "ip@example.org", PASSWORD, ip="10.0.0.2").status_code == 302


def test_login_per_account_limit_holds_across_ips(app_factory):
    app = _limited_app(app_factory, RATELIMIT_LOGIN_ACCOUNT="3 per minute")
    person(app, email="acct@example.org")
    for n in range(3):
        response = _login_attempt(app.test_client(), " ACCT@example.org", ip=f"10.0.1.{n}")
        assert response.status_code == 200
    # The right password from a fresh address is still refused until the window passes.
    _assert_429(_login_attempt(app.test_client(), "acct@example.org", PASSWORD, ip="10.0.9.9"))
    # Other accounts are unaffected.
    assert _login_attempt(app.test_client(), "other@example.org", ip="10.0.1.0").status_code == 200


def test_successful_logins_do_not_use_up_the_account_limit(app_factory):
    app = _limited_app(app_factory, RATELIMIT_LOGIN_ACCOUNT="2 per minute")
    person(app, email="ok@example.org")
    for _ in range(4):
        assert _login_attempt(app.test_client(), "ok@example.org", PASSWORD).status_code == 302


def test_json_clients_get_json_429(app_factory):
    app = _limited_app(app_factory, RATELIMIT_LOGIN="1 per minute")
    client = app.test_client()
    _login_attempt(client, "j@example.org")
    response = _login_attempt(client, "j@example.org", headers=JSON)
    assert response.status_code == 429 and response.is_json
    assert response.get_json()["error"]["code"] == 429 and "Too many attempts" in response.get_json()["error"]["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_register_and_reset_are_rate_limited(app_factory):
    app = _limited_app(app_factory, RATELIMIT_REGISTER="2 per hour", RATELIMIT_RESET="2 per hour")
    client = app.test_client()
    for n in range(2):
        assert submit(client, "/register", {"email": f"r{n}@example.org"}).status_code == 200
    _assert_429_long(submit(client, "/register", {"email": "r9@example.org"}))
    for n in range(2):
        assert submit(client, "/reset", {"email": f"r{n}@example.org"}).status_code == 302
    _assert_429_long(submit(client, "/reset", {"email": "r9@example.org"}))
    assert client.get("/register").status_code == 200  # only POSTs count


def _assert_429_long(response):
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 3600


# -- Sessions --------------------------------------------------------------------------------------------------

def test_login_rotates_session_and_planted_cookie_stays_anonymous(app, client):
    person(app, email="rita@example.org")
    get_csrf(client, "/login")  # the pre-login session an attacker could have planted
    planted = client.get_cookie("session").value
    response = login(client, "RITA@example.org ")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get_cookie("session").value != planted
    assert is_signed_in(client)

    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert not is_signed_in(attacker)


def test_remember_me_sets_a_cookie_only_when_asked(app):
    person(app, email="rem@example.org")
    plain = app.test_client()
    login(plain, "rem@example.org")
    assert plain.get_cookie("remember_token") is None

    remembered = app.test_client()
    response = login(remembered, "rem@example.org", remember="y")
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0]
    # The remember cookie alone signs a returning browser in.
    returning = app.test_client()
    returning.set_cookie("remember_token", remembered.get_cookie("remember_token").value)
    assert is_signed_in(returning)


def test_logout_ends_the_session_and_copied_cookies_are_anonymous(app, client):
    uid = person(app, email="leo@example.org").id
    login(client, "leo@example.org", remember="y")
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value

    token = get_csrf(client, "/settings")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert any(h.startswith("remember_token=;") for h in response.headers.getlist("Set-Cookie"))
    assert not is_signed_in(client) and session_count(app, uid) == 0

    for name, value in [("session", session_cookie), ("remember_token", remember_cookie)]:
        replay = app.test_client()
        replay.set_cookie(name, value)
        assert not is_signed_in(replay), name


def test_logout_by_get_is_refused(app, client):
    login_as(client, person(app))
    assert client.get("/logout").status_code == 405
    assert is_signed_in(client)


def test_suspending_an_account_ends_its_sessions(app, client):
    user = person(app)
    login_as(client, user)
    with app.app_context():
        db.session.get(User, user.id).is_active_account = False
        db.session.commit()
    assert not is_signed_in(client)


def test_idle_session_expires(app, client):
    user = person(app)
    login_as(client, user)
    assert is_signed_in(client)
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
        row.last_seen_at -= timedelta(seconds=app.config["SESSION_IDLE_TIMEOUT"] + 60)
        db.session.commit()
    assert not is_signed_in(client)


def test_anonymous_api_style_request_gets_json_401(client):
    response = client.get("/settings", headers=JSON)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == 401


# -- Error pages ------------------------------------------------------------------------------------------------

def test_404_is_html_for_people_and_json_for_api(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "<h1>" in page.get_data(as_text=True)
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.is_json and api.get_json()["error"]["code"] == 404
    assert client.get("/no-such-page", headers=JSON).is_json


def test_405_lists_allowed_methods(client):
    response = client.get("/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert client.get("/logout", headers=JSON).get_json()["error"]["code"] == 405


def test_413_for_oversized_posts(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=2048)
    client = app.test_client()
    token = get_csrf(client, "/login")
    big = {"email": "x@example.org", "password": "p" * 5000, "csrf_token": token}
    page = client.post("/login", data=big)
    assert page.status_code == 413 and "too large" in page.get_data(as_text=True)
    api = client.post("/login", data=big, headers=JSON)
    assert api.status_code == 413 and api.get_json()["error"]["code"] == 413


def test_500_without_traceback_as_html_and_json(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    client = app.test_client()
    for url, headers in (("/boom", {}), ("/api/boom", {}), ("/boom", JSON)):
        response = client.get(url, headers=headers)
        assert response.status_code == 500
        content = response.get_data(as_text=True)
        assert "Traceback" not in content and "secret internal detail" not in content
        assert "RuntimeError" not in content
        if url.startswith("/api") or headers:
            assert response.get_json()["error"]["code"] == 500
        else:
            assert "Something went wrong" in content

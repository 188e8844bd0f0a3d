"""Registration, confirmation, login/logout, password reset and account settings, through HTTP.

Data is created inside short app contexts and requests are made outside them: a request made
while the test holds an app context would share its `g` and database session (Flask reuses the
context), hiding exactly the session bugs these tests look for.
"""
import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from app.accounts import tokens
from app.accounts.models import User
from app.extensions import db
from tests.factories import (PASSWORD, csrf_from, get_csrf, is_signed_in, links_in, login, login_as, make_user, outbox,
                             session_count, submit, text)

NEW_PASSWORD = "a brand new passphrase for oncollab"


def new_user(app, **kwargs) -> int:
    with app.app_context():
        return make_user(**kwargs).id


def load(app, user_id) -> User:
    """A detached copy with every column loaded, for assertions."""
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def by_email(app, email):
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def register(client, **overrides):
    data = {"display_name": "Ana Novak", "email": "ana@example.org", "password": PASSWORD, "confirm": PASSWORD,
            "role": "patient", "country": "SI", "language": "en", "consent": "y"}
    data.update(overrides)
    return submit(client, "/register", {k: v for k, v in data.items() if v is not None})


def mail_to(app, address):
    return [m for m in outbox(app) if m["To"] == address]


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def travel_forward(monkeypatch, seconds):
    """E-mailed links are read `seconds` in the future. Only the token serializer travels: the
    session cookie is signed by itsdangerous too, and a cookie from the future is rejected later."""
    class Later(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() + seconds

    class LaterSerializer(URLSafeTimedSerializer):
        default_signer = Later

    monkeypatch.setattr(tokens, "URLSafeTimedSerializer", LaterSerializer)


# -- Registration ----------------------------------------------------------------------------------

def test_register_signs_in_and_confirmation_link_confirms(app, client):
    response = register(client, email="  Ana@Example.ORG ")
    assert response.status_code == 302 and response.headers["Location"] == "/register/sent"
    page = text(client.get("/register/sent"))
    assert "We've sent a message to that address. Follow the link in it to finish." in page
    assert "Please confirm your e-mail address" in page  # signed in, with the banner

    user = by_email(app, "ana@example.org")
    assert user.display_name == "Ana Novak" and user.role == "patient" and user.country == "SI"
    assert user.language == "en" and user.site_role == "member" and not user.is_confirmed
    assert user.terms_version == app.config["TERMS_VERSION"] and user.terms_accepted_at
    assert user.password_hash.startswith("scrypt:") and PASSWORD not in user.password_hash

    (message,) = outbox(app)
    assert message["To"] == "ana@example.org"
    (path,) = links_in(message, "/confirm/")
    assert "http://localhost/confirm/" in body(message)

    page = client.get(path)  # opening the link only shows a button
    assert page.status_code == 200 and "Confirm my e-mail" in text(page)
    assert not load(app, user.id).is_confirmed

    response = submit(client, path, {})
    assert response.status_code == 302
    assert load(app, user.id).is_confirmed
    assert "Please confirm your e-mail address" not in text(client.get("/"))
    assert "already confirmed" in text(client.get(path))


def test_confirmation_link_works_from_another_device(app, client):
    register(client)
    (path,) = links_in(outbox(app)[0], "/confirm/")
    other = app.test_client()
    assert submit(other, path, {}).status_code == 302
    assert by_email(app, "ana@example.org").is_confirmed
    assert not is_signed_in(other)  # a confirmation link is not a login link


def test_duplicate_email_answers_like_success_and_tells_the_owner(app, client):
    owner_id = new_user(app, email="owner@example.org", display_name="Owner")
    first = register(app.test_client(), email="fresh@example.org")
    dup = register(client, email=" OWNER@example.org", display_name="Intruder", password=NEW_PASSWORD,
                   confirm=NEW_PASSWORD)
    assert (dup.status_code, dup.headers["Location"]) == (first.status_code, first.headers["Location"])
    assert "We've sent a message to that address" in text(client.get(dup.headers["Location"]))
    assert not is_signed_in(client)

    owner = load(app, owner_id)
    assert owner.display_name == "Owner" and owner.check_password(PASSWORD)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2
    (notice,) = mail_to(app, "owner@example.org")
    content = body(notice)
    assert "already registered" in content
    assert "http://localhost/login" in content and "http://localhost/reset" in content
    assert not links_in(notice, "/confirm/")


@pytest.mark.parametrize("password, message", [
    ("abc1234", "Use at least 8 characters."),
    ("", "Choose a password."),
    ("x" * 129, "Use at most 128 characters."),
    ("password123", "one of the most common"),
    ("QWERTY123", "one of the most common"),
    ("ana@example.org", "Do not use your name or e-mail address"),
    ("Ana Novak", "Do not use your name or e-mail address"),
])
def test_weak_passwords_are_refused_with_a_message(app, client, password, message):
    response = register(client, password=password, confirm=password)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert 'id="password-error"' in page and 'aria-describedby="password-hint password-error"' in page
    assert 'value="Ana Novak"' in page and 'value="ana@example.org"' in page  # typed values kept
    assert by_email(app, "ana@example.org") is None and outbox(app) == []


def test_long_passphrase_is_accepted(app, client):
    phrase = "the quick brown fox jumps over the lazy dog near the old mill!"[:64]
    assert register(client, password=phrase, confirm=phrase).status_code == 302
    assert by_email(app, "ana@example.org").check_password(phrase)


def test_mismatched_confirmation(app, client):
    page = text(register(client, confirm=PASSWORD + "!"))
    assert "The two passwords are not the same." in page and 'id="confirm-error"' in page
    assert by_email(app, "ana@example.org") is None


def test_consent_is_required(app, client):
    page = text(register(client, consent=None))
    assert "You need to accept the terms of use" in page and 'id="consent-error"' in page
    assert 'href="/terms"' in page and 'href="/privacy"' in page
    assert by_email(app, "ana@example.org") is None


@pytest.mark.parametrize("field, value, message", [
    ("display_name", "   ", "Enter the name other members will see."),
    ("display_name", "n" * 81, "Field cannot be longer than 80 characters."),
    ("email", "not-an-address", "Enter an e-mail address like"),
    ("role", "admin", "Not a valid choice"),
    ("role", "", "Choose the description that fits you best."),
    ("country", "XX", "Not a valid choice"),
    ("language", "xx", "Not a valid choice"),
])
def test_invalid_fields_are_explained(app, client, field, value, message):
    response = register(client, **{field: value})
    assert response.status_code == 200 and message in text(response)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_registration_ignores_privileged_fields(app, client):
    register(client, site_role="admin", is_admin="1", verified_at="2020-01-01", email_confirmed_at="2020-01-01",
             terms_version="0", is_active_account="0")
    user = by_email(app, "ana@example.org")
    assert user.site_role == "member" and not user.is_admin and user.verified_at is None
    assert not user.is_confirmed and user.is_active_account and user.terms_version == app.config["TERMS_VERSION"]


def test_expired_confirmation_link_explains_and_offers_a_new_one(app, client, monkeypatch):
    register(client)
    (path,) = links_in(outbox(app)[0], "/confirm/")
    travel_forward(monkeypatch, app.config["TOKEN_MAX_AGE"] + 60)
    response = client.get(path)
    assert response.status_code == 400
    page = text(response)
    assert "This link has expired" in page and "Send me a new confirmation link" in page
    assert submit(client, path, {}).status_code == 400
    monkeypatch.undo()
    assert not by_email(app, "ana@example.org").is_confirmed

    token = get_csrf(client, "/settings")
    assert client.post("/settings/resend-confirmation", data={"csrf_token": token}).status_code == 302
    (path2,) = links_in(outbox(app)[-1], "/confirm/")
    assert submit(client, path2, {}).status_code == 302
    assert by_email(app, "ana@example.org").is_confirmed


def test_tampered_or_wrong_purpose_links_are_refused(app, client):
    register(client)
    (path,) = links_in(outbox(app)[0], "/confirm/")
    assert "This link is not valid" in text(client.get(path[:-3] + "xyz"))
    token = path.rsplit("/", 1)[1]
    assert client.get(f"/reset/{token}").status_code == 400  # a confirm token is no reset token
    assert client.get(f"/settings/email/{token}").status_code == 400


# -- Login and logout -----------------------------------------------------------------------------------

def _normalised_login_page(response, typed_email):
    page = text(response).replace(typed_email, "EMAIL")
    return re.sub(r'value="[^"]*"', 'value=""', page)


def test_login_failures_read_the_same_for_unknown_wrong_and_inactive(app):
    new_user(app, email="known@example.org")
    new_user(app, email="gone@example.org", active=False)
    pages = []
    for email, password in [("nobody@example.org", PASSWORD), ("known@example.org", "wrong password"),
                            ("gone@example.org", PASSWORD)]:
        client = app.test_client()
        response = login(client, email, password)
        assert response.status_code == 200
        assert "E-mail or password is incorrect." in text(response)
        assert not is_signed_in(client)
        pages.append(_normalised_login_page(response, email))
    assert pages[0] == pages[1] == pages[2]


# -- Password reset ------------------------------------------------------------------------------------

def test_forgot_password_answers_the_same_and_mails_only_real_accounts(app):
    new_user(app, email="kim@example.org")
    answers = []
    for email in ("kim@example.org", "nobody@example.org"):
        response = submit(app.test_client(), "/reset", {"email": email})
        answers.append((response.status_code, response.headers["Location"]))
    assert answers[0] == answers[1] == (302, "/reset/sent")
    assert [m["To"] for m in outbox(app)] == ["kim@example.org"]


def test_reset_link_uses_configured_host_not_the_request_host(app, client):
    new_user(app, email="kim@example.org")
    evil = {"Host": "evil.example"}  # the attacker's own browser, forging the Host header throughout
    token = csrf_from(text(client.get("/reset", headers=evil)))
    response = client.post("/reset", data={"email": "kim@example.org", "csrf_token": token}, headers=evil)
    assert response.status_code == 302
    content = body(outbox(app)[0])
    assert "http://localhost/reset/" in content and "evil.example" not in content


def test_reset_sets_password_ends_all_sessions_and_is_single_use(app, client):
    uid = new_user(app, email="kim@example.org", confirmed=False)
    elsewhere = login_as(app.test_client(), load(app, uid))
    submit(client, "/reset", {"email": "kim@example.org"})
    (path,) = links_in(outbox(app)[0], "/reset/")

    assert client.get(path).status_code == 200
    assert load(app, uid).check_password(PASSWORD)  # opening the link changes nothing
    short = submit(client, path, {"password": "short", "confirm": "short"})
    assert "Use at least 8 characters." in text(short)

    response = submit(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    user = load(app, uid)
    assert user.check_password(NEW_PASSWORD) and user.is_confirmed
    assert session_count(app, uid) == 0 and not is_signed_in(elsewhere)
    assert "Your password was changed" in outbox(app)[-1]["Subject"]

    again = client.get(path)
    assert again.status_code == 400 and "already been used" in text(again)
    reuse = {"password": "another passphrase here", "confirm": "another passphrase here"}
    assert submit(client, "/reset", reuse, post_url=path).status_code == 400
    assert load(app, uid).check_password(NEW_PASSWORD)
    assert login(app.test_client(), "kim@example.org", PASSWORD).status_code == 200  # old one refused
    assert login(app.test_client(), "kim@example.org", NEW_PASSWORD).status_code == 302


def test_expired_reset_link(app, client, monkeypatch):
    uid = new_user(app, email="kim@example.org")
    submit(client, "/reset", {"email": "kim@example.org"})
    (path,) = links_in(outbox(app)[0], "/reset/")
    travel_forward(monkeypatch, app.config["RESET_TOKEN_MAX_AGE"] + 1)
    response = client.get(path)
    assert response.status_code == 400 and "This link has expired" in text(response)
    assert 'href="/reset"' in text(response)
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert submit(client, "/reset", data, post_url=path).status_code == 400
    assert load(app, uid).check_password(PASSWORD)


def test_no_reset_mail_for_suspended_accounts(app, client):
    new_user(app, email="gone@example.org", active=False)
    assert submit(client, "/reset", {"email": "gone@example.org"}).status_code == 302
    assert outbox(app) == []


# -- Settings ----------------------------------------------------------------------------------------

def test_settings_needs_login_and_comes_back_after_it(app, client):
    new_user(app, email="sam@example.org")
    response = client.get("/settings")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/settings"
    response = login(client, "sam@example.org", **{"next": "/settings"})
    assert response.headers["Location"] == "/settings"


def test_change_password_needs_current_one_and_ends_other_sessions(app, client):
    uid = new_user(app, email="pat@example.org")
    other = login_as(app.test_client(), load(app, uid))
    login_as(client, load(app, uid))
    data = {"current_password": "wrong", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    page = text(submit(client, "/settings", data, post_url="/settings/password"))
    assert "Your current password is not correct." in page
    assert load(app, uid).check_password(PASSWORD) and is_signed_in(other)

    data["current_password"] = PASSWORD
    response = submit(client, "/settings", data, post_url="/settings/password")
    assert response.status_code == 302
    assert load(app, uid).check_password(NEW_PASSWORD)
    assert is_signed_in(client) and not is_signed_in(other)
    assert session_count(app, uid) == 1
    assert mail_to(app, "pat@example.org")[-1]["Subject"] == "Your password was changed"


def test_change_email_takes_effect_only_after_confirming(app, client):
    uid = new_user(app, email="old@example.org")
    other = login_as(app.test_client(), load(app, uid))
    login_as(client, load(app, uid))
    page = text(submit(client, "/settings", {"new_email": "new@example.org", "current_password": "nope"},
                       post_url="/settings/email"))
    assert "Your current password is not correct." in page and outbox(app) == []

    response = submit(client, "/settings", {"new_email": "New@Example.org", "current_password": PASSWORD},
                      post_url="/settings/email")
    assert response.status_code == 302
    assert load(app, uid).email == "old@example.org"
    (link_mail,) = mail_to(app, "new@example.org")
    (notice,) = mail_to(app, "old@example.org")
    assert "new@example.org" in body(notice)
    (path,) = links_in(link_mail, "/settings/email/")

    assert "Use this address" in text(client.get(path))
    assert load(app, uid).email == "old@example.org"  # GET changes nothing
    assert submit(client, path, {}).status_code == 302
    user = load(app, uid)
    assert user.email == "new@example.org" and user.is_confirmed
    assert is_signed_in(client) and not is_signed_in(other)
    assert "was changed to new@example.org" in body(mail_to(app, "old@example.org")[-1])
    assert client.get(path).status_code == 400  # single use
    assert login(app.test_client(), "new@example.org").status_code == 302


def test_change_email_to_a_taken_address_reveals_nothing(app, client):
    uid = new_user(app, email="me@example.org")
    new_user(app, email="taken@example.org")
    login_as(client, load(app, uid))
    response = submit(client, "/settings", {"new_email": "taken@example.org", "current_password": PASSWORD},
                      post_url="/settings/email")
    assert response.status_code == 302
    assert "We have sent a link to taken@example.org" in text(client.get("/settings"))
    (notice,) = mail_to(app, "taken@example.org")
    assert not links_in(notice, "/settings/email/") and "nothing was changed" in body(notice)
    assert mail_to(app, "me@example.org") == [] and load(app, uid).email == "me@example.org"


def test_settings_page_shows_sessions_and_forms(app, client):
    uid = new_user(app, confirmed=False)
    login_as(app.test_client(), load(app, uid))
    login_as(client, load(app, uid))
    page = text(client.get("/settings"))
    assert "You are signed in on 2 browsers or devices." in page
    assert "not confirmed yet" in page and page.count("<h1") == 1
    for label in ("New e-mail address", "Current password", "New password", "Repeat the password"):
        assert f">{label}</label>" in page


# -- Command line -----------------------------------------------------------------------------------

def test_cli_create_admin_and_demo_load(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "Boss@Example.org"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[1]
    admin = by_email(app, "boss@example.org")
    assert admin.is_admin and admin.is_confirmed and admin.check_password(password)

    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0 and "created" not in again.output
    trainee = by_email(app, "trainee@demo.oncollab.eu")
    with app.app_context():
        fields = {f.key: f.value for f in db.session.get(User, trainee.id).profile_fields}
    assert fields["training_specialty"] == "radiation_oncology" and fields["country"] == "LT"
    assert login(app.test_client(), "patient@demo.oncollab.eu", "admin").status_code == 200

"""Profile editing and the profile page: lengths, mass assignment, Markdown, naughty strings."""
import html
import unicodedata

import pytest
from markupsafe import escape

from app.accounts.models import User
from app.extensions import db
from tests.factories import BLNS, get_csrf, login_as, make_user, person, submit, text


def load(app, user_id):
    with app.app_context():
        user = db.session.get(User, user_id)
        fields = {f.key: (f.value, f.visibility, f.html) for f in user.profile_fields}
        db.session.expunge(user)
        return user, fields


def edit(client, **data):
    return submit(client, "/settings/profile", data)


@pytest.fixture
def member(app, client):
    user = person(app, display_name="Marta Rossi")
    login_as(client, user)
    return user


def test_edit_profile_saves_values_and_audiences(app, client, member):
    response = edit(client, display_name="  Dr Marta Rossi ", profession="Radiation oncologist",
                    profession_visibility="everyone", centre="Istituto Nazionale Tumori", centre_visibility="me",
                    country="IT", country_visibility="members", training_specialty="radiation_oncology",
                    home_centre="Milano", training_cohort="cohort 2", training_cohort_visibility="everyone")
    assert response.status_code == 302 and response.headers["Location"] == f"/people/{member.id}"
    user, fields = load(app, member.id)
    assert user.display_name == "Dr Marta Rossi" and user.country == "IT"
    assert fields["profession"][:2] == ("Radiation oncologist", "everyone")
    assert fields["centre"][:2] == ("Istituto Nazionale Tumori", "me")
    assert fields["training_specialty"][0] == "radiation_oncology"
    assert fields["home_centre"][:2] == ("Milano", "members")  # the field's default audience

    page = text(client.get(f"/people/{member.id}"))
    assert page.count("<h1") == 1 and "Dr Marta Rossi" in page
    assert "Istituto Nazionale Tumori" in page and "visible to: Only me" in page
    assert "Italy" in page and "Radiation oncology" in page

    anonymous = text(app.test_client().get(f"/people/{member.id}"))
    assert "Radiation oncologist" in anonymous and "cohort 2" in anonymous
    assert "Istituto Nazionale Tumori" not in anonymous and "Italy" not in anonymous and "Milano" not in anonymous
    assert "visible to:" not in anonymous


def test_edit_form_is_labelled_and_keeps_typed_values_on_error(app, client, member):
    page = text(client.get("/settings/profile"))
    assert page.count("<h1") == 1
    assert '<label for="country_visibility">Who can see your country?</label>' in page
    for key in ("bio", "profession", "specialty", "centre", "languages", "interests", "training_specialty",
                "home_centre", "training_cohort"):
        assert f'<label for="{key}_visibility">' in page and f'<label for="{key}">' in page
    response = edit(client, display_name="Marta", interests="x" * 201, centre="Kept centre")
    page = text(response)
    assert response.status_code == 200
    assert 'id="interests-error"' in page and 'aria-describedby="interests-error"' in page
    assert 'value="Kept centre"' in page
    assert load(app, member.id)[1].get("centre") is None


@pytest.mark.parametrize("data, error", [
    ({"display_name": ""}, "Enter the name other members will see."),
    ({"display_name": " \t "}, "Enter the name other members will see."),
    ({"display_name": "n" * 81}, "cannot be longer than 80"),
    ({"display_name": "Line\nbreak"}, "Remove line breaks"),
    ({"bio": "b" * 5001}, "cannot be longer than 5000"),
    ({"centre": "c" * 201}, "cannot be longer than 200"),
    ({"bio_visibility": "friends"}, "Not a valid choice"),
    ({"training_specialty": "astrology"}, "Not a valid choice"),
    ({"bio": "nul\x00byte"}, "cannot store"),
])
def test_invalid_profile_values_are_refused(app, client, member, data, error):
    response = edit(client, **{"display_name": "Marta", **data})
    assert response.status_code == 200 and error in text(response)
    user, fields = load(app, member.id)
    assert user.display_name == "Marta Rossi" and fields == {}


def test_limits_are_inclusive(app, client, member):
    assert edit(client, display_name="n" * 80, bio="b" * 5000, centre="c" * 200).status_code == 302
    user, fields = load(app, member.id)
    assert len(user.display_name) == 80 and len(fields["bio"][0]) == 5000 and len(fields["centre"][0]) == 200


def test_posted_privileged_fields_change_nothing(app, client, member):
    other = person(app)
    edit(client, display_name="Marta", site_role="admin", is_admin="y", email="evil@example.org",
         verified_at="2024-01-01", email_confirmed_at="", is_active_account="0", role="clinician",
         user_id=str(other.id), id=str(other.id), password_hash="x", terms_version="0")
    user, _ = load(app, member.id)
    assert user.display_name == "Marta" and user.site_role == "member" and user.email == member.email
    assert user.verified_at is None and user.is_confirmed and user.is_active_account and user.role == "patient"
    assert user.password_hash == member.password_hash and user.terms_version == member.terms_version
    assert load(app, other.id)[0].display_name == other.display_name


def test_bio_markdown_is_sanitised(app, client, member):
    edit(client, display_name="Marta", bio="**bold** <script>alert(1)</script> [x](javascript:alert(1))",
         bio_visibility="everyone")
    page = text(app.test_client().get(f"/people/{member.id}"))
    assert "<strong>bold</strong>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert 'href="javascript:' not in page


def test_verified_badge_and_role(app, client):
    with app.app_context():
        user = make_user(role="clinician", profession=("Medical oncologist", "everyone"),
                         specialty=("Thoracic oncology", "me"))
        user.verified_at = user.created_at
        db.session.commit()
        uid = user.id
    page = text(client.get(f"/people/{uid}"))
    assert "Clinician" in page and "Verified professional: Medical oncologist" in page
    assert "Thoracic oncology" not in page  # the badge respects the field's audience


def test_unknown_and_suspended_profiles_are_404(app, client):
    gone = person(app, active=False)
    assert client.get(f"/people/{gone.id}").status_code == 404
    assert client.get("/people/999999").status_code == 404
    login_as(client, person(app))
    assert client.get(f"/people/{gone.id}").status_code == 404
    admin = login_as(app.test_client(), person(app, site_role="admin"))
    assert admin.get(f"/people/{gone.id}").status_code == 200


def test_edit_profile_requires_login(client):
    response = client.get("/settings/profile")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


def _single_line_ok(value: str, limit: int) -> bool:
    """The rule the forms apply: something left after strip, within the limit, no control characters."""
    value = value.strip()
    return 0 < len(value) <= limit and not any(unicodedata.category(ch) == "Cc" for ch in value)


def test_naughty_strings_round_trip_exactly(app, client, member):
    """Every BLNS string as display name and as free-text profile fields: stored exactly, shown
    escaped, or refused with a form message; never a 500."""
    token = get_csrf(client, "/settings/profile")
    checked = refused = 0
    for raw in BLNS:
        name_ok, field_ok = _single_line_ok(raw, 80), _single_line_ok(raw, 200)
        data = {"csrf_token": token, "display_name": raw if name_ok else "Marta",
                "interests": raw if field_ok else "", "centre": raw if field_ok else "",
                "interests_visibility": "everyone", "centre_visibility": "members"}
        response = client.post("/settings/profile", data=data)
        assert response.status_code == 302, (raw, response.status_code)
        expected = raw.strip()
        user, fields = load(app, member.id)
        if name_ok:
            assert user.display_name == expected, raw
        if field_ok:
            assert fields["interests"][0] == expected and fields["centre"][0] == expected, raw
        if name_ok or field_ok:
            page = client.get(f"/people/{member.id}")
            assert page.status_code == 200, raw
            assert str(escape(expected)) in text(page), raw
            checked += 1
        if not (name_ok and field_ok):
            bad = client.post("/settings/profile", data={**data, "display_name": raw, "interests": raw})
            assert bad.status_code == 200, (raw, bad.status_code)
            refused += 1
    assert checked > 450 and refused > 0


def test_naughty_strings_in_display_name_are_escaped_in_the_header(app, client, member):
    payload = '<img src=x onerror=alert(1)>"\'&'
    edit(client, display_name=payload)
    page = text(client.get("/settings"))
    assert payload not in page and str(escape(payload)) in page
    assert html.unescape(str(escape(payload))) == payload

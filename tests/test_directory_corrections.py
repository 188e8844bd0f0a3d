"""Centre staff propose corrections on the centre page; site moderators approve (applied) or
reject them. Everyone else gets 403; bad input is answered next to the field; naughty strings are
stored and shown back escaped."""

from markupsafe import escape
from sqlalchemy import func, select

from app.directory.models import Centre, CentreCorrection
from app.extensions import db
from app.policy import visible
from tests.factories import BLNS, browser, csrf_from, person, post, text

URL = "/centres/gustave-roussy-villejuif"


def _centre(app):
    """One imported centre is enough here (importing the whole CSV is tested elsewhere)."""
    from app.directory.importer import import_sites
    with app.app_context():
        import_sites("facility,city,state,zip,country,in_europe,lat,lon,trial_count,nct_ids\n"
                     "Gustave Roussy,Villejuif,,,France,yes,48.7939,2.35992,1,NCT02856893\n"
                     "Gustave Roussy Oncology Institute,Villejuif,,,France,yes,48.7939,2.35992,1,NCT03318939\n")


def _form(page: str, **changes) -> dict:
    """What the pre-filled form on the centre page would send, with some fields edited."""
    data = {"name": "Gustave Roussy", "kind": "hospital", "address": "", "state": "", "zip": "", "website": "",
            "specialties": "", "languages": "", "contact": "", "lat": "48.7939", "lon": "2.35992", "message": ""}
    data.update(changes)
    return data


def _propose(client, **changes):
    return post(client, URL + "/corrections", _form("", **changes), page=URL)


def test_staff_propose_moderator_approves_and_it_is_applied(app):
    _centre(app)
    staff = person(app, role="centre_staff", display_name="Stefan Staff")
    client = browser(app, staff)
    page = text(client.get(URL))
    assert "Propose a correction" in page and 'name="website"' in page
    response = _propose(client, website="https://www.gustaveroussy.fr", networks=["eunetccc", "oeci"],
                        name="Gustave Roussy Cancer Campus", specialties="Thoracic oncology",
                        message="We are EUnetCCC members.")
    assert response.status_code == 302 and response.headers["Location"].endswith(URL + "#corrections")
    with app.app_context():
        correction = db.session.scalar(select(CentreCorrection))
        assert correction.state == "pending" and correction.proposer_id == staff.id
        assert correction.changes == {"name": "Gustave Roussy Cancer Campus", "website": "https://www.gustaveroussy.fr",
                                      "specialties": "Thoracic oncology", "networks": ["eunetccc", "oeci"]}
        centre = db.session.scalar(select(Centre))
        assert centre.website == "" and centre.networks == []  # nothing changes before approval
    assert "pending" in text(client.get(URL))  # the proposer sees their proposal and its state

    moderator = person(app, role="nurse", site_role="moderator")
    mod = browser(app, moderator)
    queue = text(mod.get("/centres/corrections"))
    assert "Gustave Roussy Cancer Campus" in queue and "We are EUnetCCC members." in queue
    done = post(mod, f"/centres/corrections/{correction.id}/approve", page="/centres/corrections")
    assert done.status_code == 302
    with app.app_context():
        centre = db.session.scalar(select(Centre))
        assert centre.name == "Gustave Roussy Cancer Campus" and centre.website == "https://www.gustaveroussy.fr"
        assert centre.network_codes == ["eunetccc", "oeci"] and centre.specialties == "Thoracic oncology"
        assert "Gustave Roussy" in centre.aliases and centre.slug == "gustave-roussy-villejuif"
        correction = db.session.get(CentreCorrection, correction.id)
        assert correction.state == "approved" and correction.decided_by_id == moderator.id
        assert correction.previous["name"] == "Gustave Roussy" and correction.previous["networks"] == []
    page = text(app.test_client().get(URL))
    assert "<h1>Gustave Roussy Cancer Campus</h1>" in page and "EUnetCCC" in page
    assert 'href="https://www.gustaveroussy.fr" rel="noopener nofollow"' in page
    assert "Nothing is waiting for review." in text(mod.get("/centres/corrections"))
    # The old name still finds the centre on the next registry import.
    from app.directory.importer import import_sites
    with app.app_context():
        again = import_sites("facility,city,state,zip,country,in_europe,lat,lon,trial_count,nct_ids\n"
                             "Gustave Roussy,Villejuif,,,France,yes,48.7939,2.35992,1,NCT02856893\n")
        assert again.added == 0 and db.session.scalar(select(func.count(Centre.id))) == 1


def test_rejection_with_reason_is_shown_to_the_proposer_only(app):
    _centre(app)
    staff = person(app, role="centre_staff")
    client = browser(app, staff)
    _propose(client, languages="French, English")
    mod = browser(app, person(app, site_role="admin", role="other"))
    with app.app_context():
        correction_id = db.session.scalar(select(CentreCorrection.id))
    post(mod, f"/centres/corrections/{correction_id}/reject", {"reason": "Please cite a source <b>"},
         page="/centres/corrections")
    with app.app_context():
        correction = db.session.get(CentreCorrection, correction_id)
        assert correction.state == "rejected" and correction.reason == "Please cite a source <b>"
        assert db.session.scalar(select(Centre.languages)) == ""
    mine = text(client.get(URL))
    assert "rejected" in mine and "Please cite a source &lt;b&gt;" in mine
    colleague = text(browser(app, person(app, role="centre_staff")).get(URL))
    assert "Please cite a source" not in colleague  # another proposer's correction is not theirs to see
    assert "Please cite a source" not in text(app.test_client().get(URL))
    again = post(mod, f"/centres/corrections/{correction_id}/approve", page="/centres/corrections")
    assert again.status_code == 302
    with app.app_context():
        assert db.session.get(CentreCorrection, correction_id).state == "rejected"  # decided once


def test_policy_rule_for_corrections(app):
    _centre(app)
    staff, other = person(app, role="centre_staff"), person(app, role="centre_staff")
    _propose(browser(app, staff), zip="94800")
    moderator = person(app, site_role="moderator")
    with app.app_context():
        from app.accounts.models import User
        from app.policy import can_view
        from flask_login import AnonymousUserMixin
        correction = db.session.scalar(select(CentreCorrection))
        for user, allowed in ((db.session.get(User, staff.id), True), (db.session.get(User, other.id), False),
                              (db.session.get(User, moderator.id), True), (AnonymousUserMixin(), False)):
            listed = db.session.scalars(visible(select(CentreCorrection), user, CentreCorrection)).all()
            assert can_view(user, correction) is allowed and (correction in listed) is allowed


def test_only_centre_staff_propose_and_only_moderators_decide(app):
    _centre(app)
    patient, clinician = person(app, role="patient"), person(app, role="clinician")
    unconfirmed = person(app, role="centre_staff", confirmed=False)
    for user in (patient, clinician, unconfirmed):
        client = browser(app, user)
        assert "Propose a correction" not in text(client.get(URL))
        assert _propose(client, zip="94800").status_code == 403
    anonymous = app.test_client()
    assert anonymous.post(URL + "/corrections", data=_form("", zip="1")).status_code in (302, 400)
    assert anonymous.get("/centres/corrections").status_code == 302  # to the login page
    staff = person(app, role="centre_staff")
    staff_client = browser(app, staff)
    _propose(staff_client, zip="94800")
    with app.app_context():
        correction_id = db.session.scalar(select(CentreCorrection.id))
    for client in (browser(app, patient), staff_client):
        assert client.get("/centres/corrections").status_code == 403
        assert post(client, f"/centres/corrections/{correction_id}/approve").status_code == 403
        assert post(client, f"/centres/corrections/{correction_id}/reject").status_code == 403
    mod = browser(app, person(app, site_role="moderator"))
    assert post(mod, "/centres/corrections/999999/approve").status_code == 404
    with app.app_context():
        assert db.session.get(CentreCorrection, correction_id).state == "pending"
        assert db.session.scalar(select(Centre.zip)) == ""


def test_bad_input_is_answered_next_to_the_field_and_kept(app):
    _centre(app)
    client = browser(app, person(app, role="centre_staff"))
    for changes, field, message in (
            ({"website": "javascript:alert(1)"}, "website", "Enter a full web address"),
            ({"website": "http://"}, "website", "Enter a full web address"),
            ({"website": "data:text/html,<script>x</script>"}, "website", "Enter a full web address"),
            ({"lat": "abc"}, "lat", "Not a valid float value"),
            ({"lat": "91"}, "lat", "between -90"),
            ({"lat": "", "lon": "2.3"}, "lon", "Give both latitude and longitude"),
            ({"name": "   "}, "name", "This field is required"),
            ({"name": "x" * 301}, "name", "longer than 300"),
            ({}, "name", "Nothing was changed")):
        response = _propose(client, **changes)
        page = text(response)
        assert response.status_code == 400, changes
        assert f'id="{field}-error"' in page and message in page, (changes, page[page.find("error"):][:300])
        for value in changes.values():
            if value.strip():
                assert f'value="{escape(value)}"' in page, value  # what was typed comes back
    with app.app_context():
        assert db.session.scalar(select(func.count(CentreCorrection.id))) == 0


def test_naughty_strings_are_stored_and_shown_back_escaped(app):
    from app.directory.forms import line, storable
    _centre(app)
    staff = person(app, role="centre_staff")
    client = browser(app, staff)
    token = csrf_from(text(client.get(URL)))
    sent = 0
    for s in BLNS:
        data = _form("", specialties=s, contact=s, message=s, csrf_token=token)
        response = client.post(URL + "/corrections", data=data)
        if not line(s):
            assert response.status_code == 400  # nothing changed: blank once trimmed
            continue
        assert response.status_code == 302, (s, response.status_code)
        sent += 1
    assert sent > 500
    with app.app_context():
        stored = db.session.scalars(select(CentreCorrection).order_by(CentreCorrection.id)).all()
        expected = [s for s in BLNS if line(s)]
        assert [c.changes["specialties"] for c in stored] == [line(s) for s in expected]
        assert [c.message for c in stored] == [storable(s) for s in expected]
    mod = browser(app, person(app, site_role="moderator"))
    queue = "".join(text(mod.get(f"/centres/corrections?page={n}")) for n in range(1, len(expected) // 50 + 2))
    assert queue.count('<article class="card correction"') == len(expected)
    for s in expected:
        assert str(escape(line(s))) in queue and str(escape(storable(s))) in queue, s
    # Applied to the centre, the page shows it escaped too.
    token = csrf_from(text(mod.get(URL)))
    for correction in stored[:15]:
        mod.post(f"/centres/corrections/{correction.id}/approve", data={"csrf_token": token})
        page = text(app.test_client().get(URL))
        assert str(escape(correction.changes["specialties"])) in page

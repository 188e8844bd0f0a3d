"""The membership workflow through HTTP: join, leave, ask, decide (with reasons kept), invite
(single-use, bound to one account, expiring), remove, ban, unban, roles, and IDOR attempts."""
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.groups.models import Invitation, MembershipLog
from app.models_base import utcnow
from tests.factories import (a_group, browser, count, links_in, member, outbox, person, post, staff, state_of, submit,
                             text, without_tokens)


# ---------------------------------------------------------------------------------------------
# Join and leave
# ---------------------------------------------------------------------------------------------

def test_join_an_open_group_and_leave_it(app):
    group = a_group(app, kind="open")
    joiner = person(app)
    client = browser(app, joiner)
    assert "Join this group" in text(client.get(f"/groups/{group.slug}"))
    response = post(client, f"/groups/{group.slug}/join", follow_redirects=True)
    assert "You are now a member" in text(response)
    assert state_of(app, group.id, joiner.id) == ("member", "member")
    again = post(client, f"/groups/{group.slug}/join", follow_redirects=True)
    assert "already a member" in text(again)

    response = post(client, f"/groups/{group.slug}/leave", follow_redirects=True)
    assert "You left the group" in text(response)
    assert state_of(app, group.id, joiner.id) is None


def test_owner_cannot_leave_without_transferring(app):
    owner = person(app)
    group = a_group(app, owner)
    response = post(browser(app, owner), f"/groups/{group.slug}/leave")
    assert response.status_code == 403 and "transfer ownership" in text(response)
    assert state_of(app, group.id, owner.id) == ("member", "owner")


def test_joining_a_closed_group_directly_leads_to_the_request_form(app):
    group = a_group(app, kind="closed")
    client = browser(app, person(app))
    response = post(client, f"/groups/{group.slug}/join")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/groups/{group.slug}/request")
    assert "ask to join" in text(client.get(response.headers["Location"]))
    assert count(app, MembershipLog) == 0


def test_anonymous_join_goes_to_login(app):
    group = a_group(app)
    response = app.test_client().post(f"/groups/{group.slug}/join")
    assert response.status_code in (302, 400, 401)  # login first (CSRF may speak before)


# ---------------------------------------------------------------------------------------------
# Request, approve, deny
# ---------------------------------------------------------------------------------------------

def test_request_then_approve_with_reason(app):
    owner, asker = person(app), person(app, display_name="Asha Asker")
    group = a_group(app, owner, kind="closed", name="Radiation oncology trainees")
    client = browser(app, asker)
    assert client.get(f"/groups/{group.slug}/members").status_code == 404

    response = submit(client, f"/groups/{group.slug}/request", {"message": "I start in cohort 1."})
    assert response.status_code == 303
    assert state_of(app, group.id, asker.id) == ("pending", "member")
    assert "request to join is pending" in text(client.get(f"/groups/{group.slug}"))

    again = client.get(f"/groups/{group.slug}/request", follow_redirects=True)
    assert "You already asked to join this group; a moderator will answer." in text(again)
    second = post(client, f"/groups/{group.slug}/request", {"message": "Please?"}, follow_redirects=True)
    assert "You already asked to join this group; a moderator will answer." in text(second)
    with app.app_context():
        from app.groups.models import Membership
        kept = db.session.scalar(select(Membership.request_message).where(Membership.user_id == asker.id))
    assert kept == "I start in cohort 1."  # the first message is not lost

    moderator = browser(app, owner)
    page = text(moderator.get(f"/groups/{group.slug}/requests"))
    assert "Asha Asker" in page and "I start in cohort 1." in page
    response = post(moderator, f"/groups/{group.slug}/requests/{asker.id}/approve", {"reason": "Welcome, cohort 1"})
    assert response.status_code == 303
    assert state_of(app, group.id, asker.id) == ("member", "member")
    assert client.get(f"/groups/{group.slug}/members").status_code == 200
    assert "Welcome, cohort 1" in text(moderator.get(f"/groups/{group.slug}/requests"))

    mail = outbox(app)[-1]
    assert mail["To"] == asker.email and "Radiation oncology trainees" in mail["Subject"]
    assert links_in(mail, f"/groups/{group.slug}")


def test_deny_keeps_the_reason_and_allows_a_new_request(app):
    owner, asker = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    client = browser(app, asker)
    submit(client, f"/groups/{group.slug}/request", {"message": "hi"})
    response = post(browser(app, owner), f"/groups/{group.slug}/requests/{asker.id}/deny",
                    {"reason": "This group is for trainees only."})
    assert response.status_code == 303
    assert state_of(app, group.id, asker.id) == ("denied", "member")
    with app.app_context():
        entry = db.session.scalar(select(MembershipLog).where(MembershipLog.action == "deny"))
        assert entry.reason == "This group is for trainees only." and entry.user_id == asker.id
    mail = outbox(app)[-1]
    assert "This group is for trainees only." in mail.get_body().get_content()
    assert client.get(f"/groups/{group.slug}/members").status_code == 404
    assert submit(client, f"/groups/{group.slug}/request", {"message": "again"}).status_code == 303
    assert state_of(app, group.id, asker.id) == ("pending", "member")


def test_request_to_an_open_group_points_to_join_and_to_secret_is_404(app):
    open_group, secret = a_group(app, kind="open"), a_group(app, kind="secret")
    client = browser(app, person(app))
    response = client.get(f"/groups/{open_group.slug}/request", follow_redirects=True)
    assert "join it straight away" in text(response)
    assert client.get(f"/groups/{secret.slug}/request").status_code == 404
    assert post(client, f"/groups/{secret.slug}/request", {"message": "x"}).status_code == 404
    assert count(app, MembershipLog) == 0


def test_oversized_request_message_is_refused_and_kept(app):
    group = a_group(app, kind="closed")
    asker = person(app)
    response = submit(browser(app, asker), f"/groups/{group.slug}/request", {"message": "m" * 2001})
    assert response.status_code == 400 and 'id="message-error"' in text(response)
    assert "m" * 2001 in text(response)
    assert state_of(app, group.id, asker.id) is None


# ---------------------------------------------------------------------------------------------
# Invitations
# ---------------------------------------------------------------------------------------------

def _invite(app, client, slug, who):
    response = submit(client, f"/groups/{slug}/invite", {"who": who})
    assert response.status_code == 303, text(response)
    return links_in(outbox(app)[-1], "/invitations/")[0]


def test_invite_an_existing_member_by_name_single_use(app):
    owner, guest = person(app), person(app, display_name="Gita Guest")
    group = a_group(app, owner, kind="secret", name="Tumour board coordinators")
    path = _invite(app, browser(app, owner), group.slug, "gita guest")
    assert outbox(app)[-1]["To"] == guest.email

    intruder = browser(app, person(app))
    response = intruder.get(path)
    assert response.status_code == 403 and "Tumour board" not in text(response)
    assert post(intruder, path).status_code == 403
    assert state_of(app, group.id, guest.id) is None

    client = browser(app, guest)
    assert "Tumour board coordinators" in text(client.get(path))
    assert post(client, path).status_code == 303
    assert state_of(app, group.id, guest.id) == ("member", "member")
    assert client.get(f"/groups/{group.slug}/members").status_code == 200
    post(client, f"/groups/{group.slug}/leave")
    assert post(client, path).status_code == 410  # single use
    assert client.get(f"/groups/{group.slug}").status_code == 404


def test_invite_by_email_for_someone_who_registers_later(app):
    owner = person(app)
    group = a_group(app, owner, kind="closed")
    path = _invite(app, browser(app, owner), group.slug, "New.Person@example.org")
    anon_page = app.test_client().get(path)
    assert anon_page.status_code == 200 and group.name in text(anon_page) and "Log in" in text(anon_page)

    unconfirmed = person(app, email="new.person@example.org", confirmed=False)
    assert post(browser(app, unconfirmed), path).status_code == 403
    with app.app_context():
        from app.accounts.models import User
        user = db.session.get(User, unconfirmed.id)
        user.email_confirmed_at = utcnow()
        db.session.commit()
    assert post(browser(app, unconfirmed), path).status_code == 303
    assert state_of(app, group.id, unconfirmed.id) == ("member", "member")


def test_invite_response_does_not_reveal_whether_an_account_exists(app):
    owner = person(app)
    existing = person(app)
    group = a_group(app, owner, kind="closed")
    client = browser(app, owner)
    a = submit(client, f"/groups/{group.slug}/invite", {"who": existing.email}, follow_redirects=True)
    b = submit(client, f"/groups/{group.slug}/invite", {"who": "nobody@example.org"}, follow_redirects=True)
    assert without_tokens(text(a).replace(existing.email, "X")) == without_tokens(text(b).replace("nobody@example.org", "X"))


def test_expired_invitation_is_refused(app):
    owner, guest = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    path = _invite(app, browser(app, owner), group.slug, guest.email)
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = post(browser(app, guest), path)
    assert response.status_code == 410 and "expired" in text(response)
    assert state_of(app, group.id, guest.id) is None
    assert app.test_client().get("/invitations/not-a-token").status_code == 404


def test_invite_input_errors(app):
    owner = person(app)
    person(app, display_name="Twin")
    person(app, display_name="twin")
    group = a_group(app, owner, kind="closed")
    client = browser(app, owner)
    for who, message in (("Nobody Here", "No member has this name"), ("Twin", "Several members"),
                         ("bad@", "not a valid e-mail")):
        response = submit(client, f"/groups/{group.slug}/invite", {"who": who})
        assert response.status_code == 400 and message in text(response), who
    response = submit(client, f"/groups/{group.slug}/invite", {"who": owner.email}, follow_redirects=True)
    assert "already a member" in text(response)


# ---------------------------------------------------------------------------------------------
# Remove, ban, unban, promote, demote
# ---------------------------------------------------------------------------------------------

def test_remove_makes_the_inside_404_at_once(app):
    owner, someone = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    member(app, group, someone)
    client = browser(app, someone)
    assert client.get(f"/groups/{group.slug}/members").status_code == 200
    assert post(browser(app, owner), f"/groups/{group.slug}/members/{someone.id}/remove",
                {"reason": "off-topic"}).status_code == 303
    assert client.get(f"/groups/{group.slug}/members").status_code == 404
    assert client.get(f"/api/groups/{group.slug}/members").status_code == 404
    assert state_of(app, group.id, someone.id) is None


def test_ban_blocks_rejoin_and_request_until_unbanned(app):
    owner, troll = person(app), person(app)
    open_group = a_group(app, owner, kind="open")
    closed_group = a_group(app, owner, kind="closed")
    member(app, open_group, troll)
    member(app, closed_group, troll)
    owner_client, client = browser(app, owner), browser(app, troll)
    for group in (open_group, closed_group):
        assert post(owner_client, f"/groups/{group.slug}/members/{troll.id}/ban", {"reason": "spam"}).status_code == 303
        assert state_of(app, group.id, troll.id) == ("banned", "member")
    response = post(client, f"/groups/{open_group.slug}/join")
    assert response.status_code == 403 and "banned" in text(response)
    response = post(client, f"/groups/{closed_group.slug}/request", {"message": "sorry"})
    assert response.status_code == 403 and "banned" in text(response)
    assert client.get(f"/groups/{closed_group.slug}/request").status_code == 403
    assert client.get(f"/groups/{closed_group.slug}/members").status_code == 404
    assert "You are banned" in text(client.get(f"/groups/{closed_group.slug}"))
    assert "spam" in text(owner_client.get(f"/groups/{closed_group.slug}/members"))

    assert post(owner_client, f"/groups/{open_group.slug}/members/{troll.id}/unban").status_code == 303
    assert state_of(app, open_group.id, troll.id) is None
    assert post(client, f"/groups/{open_group.slug}/join").status_code == 303


def test_promote_and_demote(app):
    owner, helper, other = person(app), person(app), person(app)
    group = a_group(app, owner, kind="closed")
    member(app, group, helper)
    member(app, group, other)
    owner_client = browser(app, owner)
    assert post(owner_client, f"/groups/{group.slug}/members/{helper.id}/promote").status_code == 303
    assert state_of(app, group.id, helper.id) == ("member", "moderator")
    helper_client = browser(app, helper)
    assert helper_client.get(f"/groups/{group.slug}/requests").status_code == 200
    # a group moderator acts on members, not on the owner, other moderators or roles
    assert post(helper_client, f"/groups/{group.slug}/members/{owner.id}/remove").status_code == 403
    assert post(helper_client, f"/groups/{group.slug}/members/{other.id}/promote").status_code == 403
    assert post(helper_client, f"/groups/{group.slug}/members/{other.id}/remove").status_code == 303

    assert post(owner_client, f"/groups/{group.slug}/members/{helper.id}/demote").status_code == 303
    assert state_of(app, group.id, helper.id) == ("member", "member")
    assert helper_client.get(f"/groups/{group.slug}/requests").status_code == 403
    assert post(owner_client, f"/groups/{group.slug}/members/{owner.id}/ban").status_code == 403


# ---------------------------------------------------------------------------------------------
# IDOR: people who may not act
# ---------------------------------------------------------------------------------------------

def test_non_moderators_get_403_in_open_groups_and_404_in_closed_and_secret(app):
    owner, plain, target, asker = person(app), person(app), person(app), person(app)
    groups = {kind: a_group(app, owner, kind=kind) for kind in ("open", "closed", "secret")}
    for group in groups.values():
        member(app, group, target)
        member(app, group, asker, state="pending")
    outsider = browser(app, person(app))
    member(app, groups["open"], plain)
    insider = browser(app, plain)

    def attempts(slug):
        return [
            (f"/groups/{slug}/requests/{asker.id}/approve", {"reason": "x"}),
            (f"/groups/{slug}/requests/{asker.id}/deny", {"reason": "x"}),
            (f"/groups/{slug}/members/{target.id}/remove", {}),
            (f"/groups/{slug}/members/{target.id}/ban", {}),
            (f"/groups/{slug}/members/{target.id}/promote", {}),
            (f"/groups/{slug}/edit", {"name": "Hacked", "kind": "open"}),
            (f"/groups/{slug}/delete", {"confirm_name": "x"}),
            (f"/groups/{slug}/archive", {}),
            (f"/groups/{slug}/transfer", {"new_owner": target.id}),
            (f"/groups/{slug}/invite", {"who": "friend@example.org"}),
        ]

    for url, data in attempts(groups["open"].slug):
        assert post(insider, url, data).status_code == 403, url
        assert post(outsider, url, data).status_code == 403, url
    for kind in ("closed", "secret"):
        for url, data in attempts(groups[kind].slug):
            assert post(outsider, url, data).status_code == 404, url
    for group in groups.values():
        assert state_of(app, group.id, target.id) == ("member", "member")
        assert state_of(app, group.id, asker.id) == ("pending", "member")
    assert count(app, MembershipLog) == 0 and count(app, Invitation) == 0


def test_site_moderator_can_moderate_any_group(app):
    owner, target = person(app), person(app)
    group = a_group(app, owner, kind="secret")
    member(app, group, target)
    client = browser(app, staff(app))
    assert client.get(f"/groups/{group.slug}/members").status_code == 200
    assert post(client, f"/groups/{group.slug}/members/{target.id}/remove").status_code == 303


def test_posts_without_a_csrf_token_change_nothing(app):
    owner, someone = person(app), person(app)
    group = a_group(app, owner, kind="open")
    member(app, group, someone)
    client, owner_client = browser(app, person(app)), browser(app, owner)
    assert client.post(f"/groups/{group.slug}/join").status_code == 400
    assert owner_client.post(f"/groups/{group.slug}/members/{someone.id}/ban").status_code == 400
    assert owner_client.post(f"/groups/{group.slug}/delete", data={"confirm_name": group.name}).status_code == 400
    assert count(app, MembershipLog) == 0
    assert state_of(app, group.id, someone.id) == ("member", "member")
    assert app.test_client().get(f"/groups/{group.slug}").status_code == 200


def test_a_request_left_pending_when_the_group_opens_can_simply_join(app):
    owner, asker = person(app), person(app)
    group = a_group(app, owner, kind="closed")
    client = browser(app, asker)
    submit(client, f"/groups/{group.slug}/request", {"message": "hello"})
    submit(browser(app, owner), f"/groups/{group.slug}/edit",
           {"name": group.name, "description": "", "tags": "", "country": "", "network": "", "kind": "open"})
    assert "Join this group" in text(client.get(f"/groups/{group.slug}"))
    assert post(client, f"/groups/{group.slug}/join").status_code == 303
    assert state_of(app, group.id, asker.id) == ("member", "member")

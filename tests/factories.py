"""Objects for tests, built through the same services the app uses, and the plain helpers every
test module shares (signed-in clients, CSRF tokens, reading the database back). Fixtures live in
conftest.py; nothing else in tests/ defines these."""
import contextlib
import email
import email.policy
import itertools
import json
import re
from pathlib import Path

from flask_login import AnonymousUserMixin
from sqlalchemy import event, func, select

from app.extensions import db

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"
DATA = Path(__file__).parent / "data"


def data_lines(name: str) -> list[str]:
    """The non-empty lines of a corpus in tests/data/ (split on \\n only: splitlines() would also
    split on \\x0b and \\u2028, which the corpora use inside payloads)."""
    return [line for line in (DATA / name).read_text(encoding="utf-8").split("\n") if line]


# The adversarial corpora (DESIGN 8), read once per run; treat them as read-only.
BLNS = json.loads((DATA / "blns.json").read_text(encoding="utf-8"))  # the Big List of Naughty Strings
PAYLOADBOX = data_lines("xss_payloadbox.txt")
POLYGLOTS = data_lines("xss_polyglots_patt.txt")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def make_user(*, email=None, display_name=None, password=PASSWORD, role="patient", site_role="member",
              confirmed=True, active=True, **profile):
    """A user; profile values may be given as value or (value, visibility)."""
    from app.accounts.services import create_user, save_profile
    n = next(_seq)
    user = create_user(email=email or f"user{n}@example.org", display_name=display_name or f"User {n}",
                       password=password, role=role, confirmed=confirmed, site_role=site_role)
    if profile:
        save_profile(user, {k: (v if isinstance(v, tuple) else (v, None)) for k, v in profile.items()})
    if not active:
        user.is_active_account = False
        db.session.commit()
    return user


def make_group(owner=None, *, kind="open", name=None, description="A group for testing.", tags=(), country=None, network=""):
    from app.groups.services import create_group
    owner = owner or make_user()
    n = next(_seq)
    return create_group(owner, name=name or f"Group {n}", kind=kind, description=description,
                        tags=list(tags), country=country, network=network)


def add_member(group, user, *, role="member", state="member"):
    """Put a user into a group in any state (member, pending, banned) without the workflow."""
    from app.groups.services import set_membership
    return set_membership(group, user, state=state, role=role)


def make_category(name=None, description="A category for testing.", position=0):
    from app.forum.services import create_category
    n = next(_seq)
    return create_category(name=name or f"Category {n}", description=description, position=position)


def make_topic(author=None, *, group=None, category=None, title=None, body="Opening post."):
    from app.forum.services import create_topic
    # Group forums take posts from members only (the service checks): default to the owner.
    author = author or (group.owner if group is not None else make_user())
    if group is None and category is None:
        category = make_category()
    n = next(_seq)
    return create_topic(author, title=title or f"Topic {n}", body=body, group=group, category=category)


def make_reply(topic, author=None, *, body="A reply.", quote_of=None):
    from app.forum.services import create_reply
    if author is None:
        author = make_user()
        if topic.group is not None:  # a fresh replier joins the group first, as a person would
            add_member(topic.group, author)
    return create_reply(topic, author, body=body, quote_of=quote_of)


def make_event(organiser=None, *, group=None, title=None, description="An event for testing.", kind="conference",
               days_ahead=30, hours=2, all_day=False, visibility="public", centre=None, city="Paris", country="FR",
               location="", online_url="", timezone="UTC"):
    """An event through the service (group events: organised by the group's owner by default)."""
    from datetime import timedelta
    from app.agenda.services import EventInput, create_event
    from app.models_base import utcnow
    organiser = organiser or (group.owner if group is not None else make_user())
    start = (utcnow() + timedelta(days=days_ahead)).replace(hour=9, minute=0, second=0, microsecond=0)
    end = start + timedelta(hours=hours)
    n = next(_seq)
    data = EventInput(title=title or f"Event {n}", description=description, kind=kind, all_day=all_day,
                      start_date=start.date(), start_time=None if all_day else start.time(),
                      end_date=end.date(), end_time=None if all_day else end.time(), timezone=timezone,
                      location=location, city=city, country=country, online_url=online_url,
                      centre_id=getattr(centre, "id", None), visibility=visibility)
    return create_event(organiser, data, group=group)


def make_blog_post(author=None, *, group=None, title=None, body="A blog post.", visibility=None):
    """A blog post through the service; in a group the owner writes it unless told otherwise."""
    from app.blog.services import create_post
    author = author or (group.owner if group is not None else make_user())
    if visibility is None:
        visibility = "group" if group is not None else "public"
    n = next(_seq)
    return create_post(author, title=title or f"Blog post {n}", body=body, visibility=visibility, group=group)


# ---------------------------------------------------------------------------------------------
# Plain helpers for HTTP tests: objects are built inside short app contexts and come back loaded
# (ids and names readable detached), so tests hold plain rows and every request runs in its own
# context like in production (fresh policy cache, fresh session).
# ---------------------------------------------------------------------------------------------

def text(response) -> str:
    return response.get_data(as_text=True)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def get_csrf(client, url: str = "/") -> str:
    """A valid token for this client's session, taken from a real page like a browser would."""
    return csrf_from(text(client.get(url)))


def submit(client, form_url: str, data: dict, post_url: str | None = None, **kwargs):
    """GET a form page, then POST it with its CSRF token, like a person filling the form."""
    token = get_csrf(client, form_url)
    return client.post(post_url or form_url, data={**data, "csrf_token": token}, **kwargs)


def session_token(app, user, user_agent: str = "pytest") -> str:
    """A real server-side session row for ``user`` (a row or an id); its token goes in the cookie."""
    from app.accounts.models import UserSession
    with app.app_context():
        row = UserSession(user_id=getattr(user, "id", user), user_agent=user_agent)
        db.session.add(row)
        db.session.commit()
        return row.token


def login_as(client, user):
    """Sign a test client in through a real server-side session row (fast, no form)."""
    token = session_token(client.application, user)
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def browser(app, user=None):
    """A test client signed in as ``user`` (anonymous when None)."""
    client = app.test_client()
    if user is not None:
        login_as(client, user)
    return client


def token(client, page: str = "/") -> str:
    """The CSRF token a browser would find in ``page``, taken once per client and kept."""
    if getattr(client, "_csrf", None) is None:
        client._csrf = get_csrf(client, page)
    return client._csrf


def post(client, url, data=None, page: str = "/", **kwargs):
    """A form POST with the CSRF token a browser would have taken from ``page``."""
    return client.post(url, data={**(data or {}), "csrf_token": token(client, page)}, **kwargs)


def api(client, method, url, payload=None, page: str = "/"):
    """A JSON call with the CSRF header, as the site's own scripts send it."""
    headers = {"X-CSRFToken": token(client, page), "Accept": "application/json"}
    return client.open(url, method=method, json=payload, headers=headers)


def search_api(client, **args) -> dict:
    """GET /api/search with these arguments; the JSON answer (any status but 200 fails)."""
    response = client.get("/api/search", query_string=args)
    assert response.status_code == 200, response.data[:300]
    return response.get_json()


def login(client, email, password=PASSWORD, **extra):
    """Sign in through the real login form."""
    return submit(client, "/login", {"email": email, "password": password, **extra})


def is_signed_in(client) -> bool:
    return client.get("/settings").status_code == 200


def session_count(app, user_id) -> int:
    """Server-side sessions (signed-in browsers) of one account."""
    from app.accounts.models import UserSession
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id))


def without_tokens(page: str) -> str:
    """A page minus its CSRF tokens, which carry a timestamp: for "these two pages are the same"."""
    # WTForms writes id/name/type/value, the templates name/value: strip both shapes.
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", page)


def outbox(app) -> list[email.message.EmailMessage]:
    """Mail the app sent, oldest first, parsed."""
    folder = Path(app.config["OUTBOX_DIR"])
    if not folder.exists():
        return []
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))]


def links_in(message, path_prefix: str) -> list[str]:
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://[^\s]+(" + re.escape(path_prefix) + r"[^\s]*)", body)


@contextlib.contextmanager
def statements(app):
    """Every SQL statement the app runs inside the block (query-count tests)."""
    with app.app_context():
        engine = db.engine
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def loaded(obj):
    """Load the columns before the app context ends, so ids and names stay readable detached."""
    db.session.refresh(obj)
    return obj


def here(obj):
    """The same row in this context's session (tests hold detached copies); None stays None."""
    return None if obj is None else db.session.get(type(obj), obj.id)


def person(app, **kwargs):
    with app.app_context():
        return loaded(make_user(**kwargs))


def staff(app, site_role="moderator", **kwargs):
    return person(app, site_role=site_role, **kwargs)


def a_group(app, owner=None, **kwargs):
    """A group owned by ``owner`` (a fresh user when None)."""
    with app.app_context():
        return loaded(make_group(here(owner), **kwargs))


def member(app, group, user, **kwargs):
    with app.app_context():
        return add_member(here(group), here(user), **kwargs)


def a_category(app, **kwargs):
    with app.app_context():
        return loaded(make_category(**kwargs))


def a_topic(app, author=None, **kwargs):
    with app.app_context():
        kwargs = {key: here(value) if key in ("group", "category") else value for key, value in kwargs.items()}
        return loaded(make_topic(here(author), **kwargs))


def a_reply(app, topic, author=None, **kwargs):
    with app.app_context():
        return loaded(make_reply(here(topic), here(author), **kwargs))


def fetch(app, model, ident):
    """A fresh, loaded copy of one row (None when it is gone)."""
    with app.app_context():
        obj = db.session.get(model, ident)
        if obj is not None:
            db.session.refresh(obj)
        return obj


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def state_of(app, group_id, user_id):
    """(state, role) of a membership, or None."""
    from app.groups.models import Membership
    with app.app_context():
        row = db.session.scalar(select(Membership).where(Membership.group_id == group_id,
                                                         Membership.user_id == user_id))
        return None if row is None else (row.state, row.role)


def group_form(**overrides) -> dict:
    """The fields of the new-group / edit-group form, filled in."""
    data = {"name": "Living with lung cancer", "description": "For **patients** and carers.",
            "tags": "Lung cancer, support", "country": "", "network": "", "kind": "open"}
    data.update(overrides)
    return data


# Membership states of the fixture viewers of the policy tests: name -> (state, role).
MEMBERSHIP_VIEWERS = {"pending": ("pending", "member"), "member": ("member", "member"),
                      "group_moderator": ("member", "moderator"), "banned": ("banned", "member")}


def make_viewers(groups, *, states=MEMBERSHIP_VIEWERS) -> dict:
    """One viewer of every kind for the policy tests (inside an app context): a visitor, an
    outsider, an unconfirmed account, site staff, and one person per membership state in each of
    ``groups``."""
    viewers = {"anon": AnonymousUserMixin(), "outsider": make_user(), "unconfirmed": make_user(confirmed=False),
               "site_moderator": make_user(site_role="moderator"), "admin": make_user(site_role="admin")}
    for name, (state, role) in states.items():
        viewers[name] = make_user()
        for group in groups:
            add_member(group, viewers[name], state=state, role=role)
    return viewers

"""Helpers shared by the forum, feed and notification tests (no tests here). Objects are built
inside short app contexts and come back loaded, so tests hold ids and names, and every request
runs in its own context like in production (fresh policy cache, fresh session)."""

from sqlalchemy import func, select

from app.extensions import db
from tests.conftest import csrf_from, login_as, statements  # noqa: F401 (re-exported)
from tests.factories import add_member, make_category, make_group, make_reply, make_topic, make_user


def _loaded(obj):
    db.session.refresh(obj)
    return obj


def _here(obj):
    """The same row in this context's session (tests hold detached copies)."""
    return None if obj is None else db.session.get(type(obj), obj.id)


def person(app, **kwargs):
    with app.app_context():
        return _loaded(make_user(**kwargs))


def staff(app, site_role="moderator", **kwargs):
    return person(app, site_role=site_role, **kwargs)


def a_group(app, owner, **kwargs):
    with app.app_context():
        return _loaded(make_group(_here(owner), **kwargs))


def member(app, group, user, **kwargs):
    with app.app_context():
        return add_member(_here(group), _here(user), **kwargs)


def a_category(app, **kwargs):
    with app.app_context():
        return _loaded(make_category(**kwargs))


def a_topic(app, author=None, **kwargs):
    with app.app_context():
        kwargs = {key: _here(value) if key in ("group", "category") else value for key, value in kwargs.items()}
        return _loaded(make_topic(_here(author), **kwargs))


def a_reply(app, topic, author=None, **kwargs):
    with app.app_context():
        from app.forum.models import Topic
        return _loaded(make_reply(db.session.get(Topic, topic.id), _here(author), **kwargs))


def fetch(app, model, ident):
    with app.app_context():
        obj = db.session.get(model, ident)
        if obj is not None:
            db.session.refresh(obj)
        return obj


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def browser(app, user=None):
    client = app.test_client()
    if user is not None:
        login_as(client, user)
    return client


def token(client, page="/forum"):
    if getattr(client, "_csrf", None) is None:
        client._csrf = csrf_from(client.get(page).get_data(as_text=True))
    return client._csrf


def post(client, url, data=None, page="/forum", **kwargs):
    """A form POST with the CSRF token a browser would have taken from a page."""
    return client.post(url, data={**(data or {}), "csrf_token": token(client, page)}, **kwargs)


def api(client, method, url, payload=None, page="/forum"):
    """A JSON call with the CSRF header, as the site's own scripts send it."""
    headers = {"X-CSRFToken": token(client, page), "Accept": "application/json"}
    return client.open(url, method=method, json=payload, headers=headers)


def text(response) -> str:
    return response.get_data(as_text=True)



def notifications_of(app, user):
    from app.notifications.models import Notification
    with app.app_context():
        return [(n.kind, n.topic_id, n.post_id) for n in
                db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))]

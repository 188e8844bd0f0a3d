"""Objects for tests, built through the same services the app uses."""
import itertools

from app.extensions import db

_seq = itertools.count(1)
PASSWORD = "correct horse battery staple"


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

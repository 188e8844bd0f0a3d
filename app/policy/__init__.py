"""THE access rule: who may see what, in three forms that must always agree.

Leaks come from the second or third path to the same data (a list, a count, a search snippet,
a feed, a socket room), so every channel asks this package and nothing else:

* ``can_view(user, obj)``: one object, a pure bool;
* ``visible(query, user, Model)``: the same rule as a WHERE clause, for lists and counts;
* ``scopes_for(user)``: the set of scopes a user holds; every protected row has exactly one
  scope (``scope_of(obj)``), and search documents and socket rooms carry it too.

``can_view(u, o) == (o in visible(..., u)) == (scope_of(o) in scopes_for(u))`` is tested for
every fixture. An object type without a rule raises: unknown never means allowed.

One module per family of rules (``core`` holds the scopes and the registry; ``groups``,
``forum``, ``chat``, ``blog``, ``agenda``, ``accounts``, ``directory``); this is their one public
face. A new feature adds a module that calls ``register(Model, scope, clause)`` for each
protected model and defines its ``can_*`` verbs, and imports it below. Routes load through
``get_visible_or_404`` / ``group_or_404``; templates ask ``can_edit(obj)`` / ``can_remove(obj)``
(``app/templating.py``), never compute rights.
"""
from app.agenda.models import Event
from app.blog.models import BlogPost
from app.chat.models import ChatMessage
from app.forum.models import Post
from app.policy.accounts import can_edit_profile  # noqa: F401
from app.policy.agenda import can_create_event, can_delete_event, can_edit_event, can_rsvp  # noqa: F401
from app.policy.blog import (can_choose_blog_audience, can_delete_blog_post, can_edit_blog_post,  # noqa: F401
                             can_write_blog)
from app.policy.chat import can_remove_chat_message  # noqa: F401
from app.policy.core import (MEMBERS, PUBLIC, STAFF, PageRights, active, can_moderate, can_view,  # noqa: F401
                             can_view_inside, content_scope, forget, get_visible_or_404, group_scope, is_staff,
                             membership_of, page_rights, register, require_view, rule_for, scope_of, scopes_for,
                             signed_in, user_scope, visible, visible_inside)
from app.policy.directory import can_add_guideline, can_propose_correction  # noqa: F401
from app.policy.forum import (can_delete_post, can_edit_post, can_manage_categories, can_move_topic,  # noqa: F401
                              can_post, can_start_topic)
from app.policy.groups import (can_create_group, can_manage_group, can_moderate_member, group_or_404,  # noqa: F401
                               moderated_groups, readers_inside)
from app.policy.media import (can_embed, can_manage_media, can_upload, media_parent, media_scopes,  # noqa: F401
                              shareable_groups)

# What templates ask about one object on a page: "may I show the Edit / Remove button?"
_EDIT = {Post: can_edit_post, BlogPost: can_edit_blog_post, Event: can_edit_event}
_REMOVE = {Post: can_delete_post, BlogPost: can_delete_blog_post, Event: can_delete_event,
           ChatMessage: can_remove_chat_message}


def can_edit(user, obj) -> bool:
    """The Edit button for any editable object (the same rule the service enforces)."""
    rule = _EDIT.get(type(obj))
    if rule is None:
        raise LookupError(f"can_edit has no rule for {type(obj).__name__}")
    return rule(user, obj)


def can_remove(user, obj) -> bool:
    """The Remove / Delete button for any removable object (the same rule the service enforces)."""
    rule = _REMOVE.get(type(obj))
    if rule is None:
        raise LookupError(f"can_remove has no rule for {type(obj).__name__}")
    return rule(user, obj)

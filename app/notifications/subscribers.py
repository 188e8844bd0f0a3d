"""Who hears about what: receivers of the domain events that notify people.

The forum announces a post after its commit; here the mentions, the quoted author and the
watchers are worked out and the notifications committed. ``notify_new_post`` checks the policy
for every recipient (a mention never grants access), and the list is checked again when read.
"""
from app.accounts.mentions import resolve_mentions
from app.core import events
from app.extensions import db
from app.forum.models import Post
from app.notifications.services import notify_new_post


def _unquoted(body: str) -> str:
    """Mentions inside quoted lines were made by someone else: they alert nobody again."""
    return "\n".join(line for line in body.split("\n") if not line.lstrip().startswith(">"))


@events.post_created.connect
def on_post_created(post, **_kw) -> None:
    quoted = db.session.get(Post, post.quote_of_id) if post.quote_of_id else None
    if notify_new_post(post, mentioned=resolve_mentions(_unquoted(post.body)), quoted_author=quoted.author if quoted else None):
        db.session.commit()


@events.post_edited.connect
def on_post_edited(post, previous_body: str = "", **_kw) -> None:
    """People newly mentioned by an edit are told; watchers are not told again."""
    before = {user.id for user in resolve_mentions(previous_body)}
    mentioned = [user for user in resolve_mentions(_unquoted(post.body)) if user.id not in before]
    if notify_new_post(post, mentioned=mentioned, include_watchers=False):
        db.session.commit()

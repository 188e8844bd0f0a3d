"""Domain events: what happened, announced by a service *after* its commit.

Side effects subscribe here instead of being called by the service: live broadcasts and socket
eviction (``app/realtime/``, ``app/forum/sockets.py``, ``app/chat/sockets.py``), notifications
(``app/notifications/subscribers.py``), and, as features arrive, e-mail, exports and erasure.
A service never imports the modules that react to it, so features stay independent and free of
import cycles. Search does not need these: its outbox rows are written by session hooks in the
same transaction as the change (``app/search/indexer.py``), which an after-commit event cannot do.

A new feature plugs in by adding its signals here (name, sender and keyword arguments in a
comment), sending them after its commit, and connecting receivers in its own package.
``tests/test_core.py`` fails when a signal below has no receiver once the app is built.

Receivers run synchronously in the sender's app context; slow work is handed to ``app.jobs``.
The change is committed when an event is sent, so a receiver that fails is logged and its
session work rolled back, and the other receivers still run: a broken notification must neither
turn a saved post into an error page (the author would post it again) nor stop its broadcast.
"""
import logging

from blinker import NamedSignal

from app.extensions import db

log = logging.getLogger(__name__)


class DomainEvent(NamedSignal):
    """A blinker signal whose receivers are isolated from each other and from the sender."""

    def send(self, sender=None, /, **kwargs) -> list:
        results = []
        for receiver in self.receivers_for(sender):
            try:
                results.append((receiver, receiver(sender, **kwargs)))
            except Exception:
                log.exception("a receiver of %s failed", self.name)
                db.session.rollback()
        return results


# Forum. sender=post / topic
post_created = DomainEvent("post-created")  # sender=post (a reply or an opening post)
post_edited = DomainEvent("post-edited")  # sender=post, previous_body=str
post_removed = DomainEvent("post-removed")  # sender=post (a removed reply; a whole topic: topic_removed)
topic_removed = DomainEvent("topic-removed")  # sender=topic
topic_moved = DomainEvent("topic-moved")  # sender=topic, old_group_id=int|None

# Group live chat. sender=message
chat_message_posted = DomainEvent("chat-message-posted")  # sender=message, mentioned=[users]
chat_message_changed = DomainEvent("chat-message-changed")  # sender=message (removed, or became a topic)

# Groups. sender=group (or its id once deleted)
membership_changed = DomainEvent("membership-changed")  # sender=group, user=..., state=str|None (None: gone)
group_kind_changed = DomainEvent("group-kind-changed")  # sender=group, old_kind=str
group_deleted = DomainEvent("group-deleted")  # sender=group id, topic_ids=[...], member_ids=[...], actor=user

# Accounts. sender=user id
sessions_ended = DomainEvent("sessions-ended")  # sender=user id, token=str|None (only), keep=str|None
# The media library (app/media)
media_deleted = DomainEvent("media-deleted")  # sender=media id, places=[(parent_type, parent_id)] that embedded it

ALL = (post_created, post_edited, post_removed, topic_removed, topic_moved, chat_message_posted,
       chat_message_changed, membership_changed, group_kind_changed, group_deleted, sessions_ended, media_deleted)

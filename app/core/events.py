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
"""
from blinker import Namespace

signals = Namespace()

# Forum. sender=post / topic
post_created = signals.signal("post-created")  # sender=post (a reply or an opening post)
post_edited = signals.signal("post-edited")  # sender=post, previous_body=str
post_removed = signals.signal("post-removed")  # sender=post, gone="post"|"topic"
topic_removed = signals.signal("topic-removed")  # sender=topic
topic_moved = signals.signal("topic-moved")  # sender=topic, old_group_id=int|None

# Group live chat. sender=message
chat_message_posted = signals.signal("chat-message-posted")  # sender=message, mentioned=[users]
chat_message_changed = signals.signal("chat-message-changed")  # sender=message (removed, or became a topic)

# Groups. sender=group (or its id once deleted)
membership_changed = signals.signal("membership-changed")  # sender=group, user=..., state=str|None (None: gone)
group_kind_changed = signals.signal("group-kind-changed")  # sender=group, old_kind=str
group_deleted = signals.signal("group-deleted")  # sender=group id, topic_ids=[...], member_ids=[...], actor=user

# Accounts. sender=user id
sessions_ended = signals.signal("sessions-ended")  # sender=user id, token=str|None (only), keep=str|None

ALL = (post_created, post_edited, post_removed, topic_removed, topic_moved, chat_message_posted,
       chat_message_changed, membership_changed, group_kind_changed, group_deleted, sessions_ended)

"""What every feature shares, and nothing feature-specific.

* ``auth``: the sign-in requirement for routes (``login_required``, ``require_login``);
* ``errors``: ``ServiceError``, the refusal every service raises (an HTTP status, and the form
  field it belongs to); each channel (page, JSON, socket) turns it into its own answer;
* ``events``: the domain events services send after their commit; side effects subscribe;
* ``pagination``: the ``?page=`` argument and "one more row than a page" fetching;
* ``clock``: naive-UTC time, stored the same way in SQLite and PostgreSQL;
* ``countries``: the one list of European countries used by profiles, groups and events.

A feature imports from here, from ``app.policy`` and from its own package; it never imports
another feature's routes, sockets or services internals.
"""

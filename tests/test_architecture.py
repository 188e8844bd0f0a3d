"""The seams of the code base, checked from its source: no import cycles, side effects wired
through domain events, access decided only in the policy. A newcomer who breaks a seam gets a
failing test that names the place, not a tangle discovered months later."""
import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core import events
from app.extensions import db
from app.forum.models import Post
from app.notifications.models import Notification
from tests.factories import a_category, a_topic, browser, person, post

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The app module an import names (``from app.x import y`` may name module ``app.x.y``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _package(module: str) -> str:
    return module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]


def _imports(module: str):
    """(target module, line, inside a function?, the source line) for every import of an app module."""
    path = MODULES[module]
    source = path.read_text()
    lines = source.split("\n")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package(module).split(".")[: len(_package(module).split(".")) - node.level + 1]
                prefix = ".".join(base) + (f".{node.module}" if node.module else "")
            else:
                prefix = node.module or ""
            names = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        else:
            continue
        targets = {_resolve(n) for n in names if n == "app" or n.startswith("app.")} - {None, module}
        for target in targets:
            # A package importing its own modules (as a blueprint registers its routes) is not a cycle.
            if target.startswith(module + "."):
                continue
            context = lines[node.lineno - 2] + "\n" + lines[node.lineno - 1]
            yield target, node.lineno, node.col_offset > 0, context


def _graph() -> dict[str, set[str]]:
    graph = {m: set() for m in MODULES}
    for module in MODULES:
        for target, *_ in _imports(module):
            # ``from app.x import y`` first runs app/x/__init__.py: keep the exact module only.
            graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    """The check below must be able to fail: a made-up graph with a loop through three modules."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_app_modules():
    """Function-level imports count too: hiding an import in a function does not remove the cycle."""
    assert _cycles(_graph()) == []


def test_function_level_imports_of_app_modules_say_why():
    """An import inside a function is allowed only with a comment saying why it cannot be at the top
    (a package importing its own modules at registration is the one exception)."""
    unexplained = []
    for module in MODULES:
        for target, line, inside, context in _imports(module):
            if inside and "#" not in context:
                unexplained.append(f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}")
    assert unexplained == []


def test_every_domain_event_has_a_subscriber(app):
    """A service announcing into the void (a renamed or unimported subscriber) is a silent bug:
    e.g. a removed member whose sockets stay in the group's rooms."""
    assert events.ALL, "core.events lists its signals"
    orphans = [signal.name for signal in events.ALL if not signal.receivers]
    assert orphans == []


def test_membership_changes_reach_socket_eviction(app):
    """The eviction of a removed member's sockets is wired through the event, to the control module."""
    from app.realtime import control
    receivers = {getattr(r(), "__name__", None) if callable(r) else None
                 for r in events.membership_changed.receivers.values()}
    assert control.evict.__name__ in receivers
    assert {f.__name__ for f in _receiver_functions(events.sessions_ended)} >= {"end_sockets"}
    assert {f.__name__ for f in _receiver_functions(events.group_kind_changed)} >= {"evict_outsiders"}


def test_a_failing_subscriber_neither_fails_the_request_nor_stops_the_others(app):
    """The reply is committed when ``post_created`` is sent: a receiver that breaks is logged, the
    author gets the normal answer (not an error page that makes them post twice), and the other
    receivers (here: notifications) still run."""
    calls = []

    def broken(post, **_kw):
        calls.append(post.id)
        raise RuntimeError("a subscriber bug")

    owner, replier = person(app), person(app)
    topic = a_topic(app, owner, category=a_category(app))
    events.post_created.connect(broken)
    try:
        client = browser(app, replier)
        response = post(client, f"/t/{topic.id}/reply", {"body": "Thank you, this helped."}, page=f"/t/{topic.id}")
    finally:
        events.post_created.disconnect(broken)
    assert response.status_code == 302 and len(calls) == 1
    with app.app_context():
        reply = db.session.get(Post, calls[0])
        assert reply is not None and reply.body == "Thank you, this helped."
        assert db.session.scalar(select(Notification.id).where(
            Notification.user_id == owner.id, Notification.post_id == reply.id)) is not None


def _receiver_functions(signal):
    for ref in signal.receivers.values():
        func = ref() if callable(ref) and not hasattr(ref, "__code__") else ref
        if func is not None:
            yield func


# --- access only in the policy ----------------------------------------------------------------------

_GROUP_BY_SLUG = re.compile(r"select\(Group\)[^\n]*\.where\(Group\.slug")


def test_routes_load_groups_through_the_policy():
    """Routes and socket handlers load a group through ``policy.group_or_404`` (load, check, then
    process); a loader of their own is where a forgotten check would hide."""
    handlers = [p for p in APP.rglob("*.py") if re.search(r"^@(bp|socketio)\.", p.read_text(), re.M)]
    assert len(handlers) > 10
    places = sorted(str(p.relative_to(ROOT)) for p in handlers if _GROUP_BY_SLUG.search(p.read_text()))
    assert places == []


@pytest.mark.parametrize("pattern", [r"author_id\s*==", r"\.is_moderator", r"\.is_admin", r"site_role",
                                     r"created_by\s*==", r"owner_id\s*=="])
def test_templates_ask_the_policy_instead_of_computing_rights(pattern):
    offenders = [f"{p.relative_to(ROOT)}" for p in (APP / "templates").rglob("*.html")
                 if re.search(pattern, p.read_text())]
    assert offenders == []


def test_permission_rules_live_in_the_policy_package():
    """``def can_*`` outside app/policy/ is a rule someone wrote twice."""
    outside = [f"{p.relative_to(ROOT)}:{m.group(1)}" for p in APP.rglob("*.py") if "policy" not in p.parts
               for m in re.finditer(r"^def (can_\w+)", p.read_text(), re.M)]
    assert outside == []

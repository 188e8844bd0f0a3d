"""Search pages, as-you-type suggestions and the JSON API; every channel goes through ``run``.

``run`` applies the access policy twice: the Whoosh filter on ``scopes_for``, then the database:
one ``visible()`` query per kind (``allowed_ids``) over the documents that are counted, so an
index that lags the database (a deleted or hidden row, a group turned closed whose documents are
not re-stamped yet) can never show, count or facet what the database forbids. See
``query.RECHECK_ALL`` for how much is checked.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from app import policy
from app.core.text import slugify
from app.extensions import db
from app.search import documents, labels
from app.search.query import DISTANCE_MAX, PER_PAGE, clean, search as run_query
from app.search.schema import FACETS, TYPE_OF_KIND, TYPES
from app.search.suggest import suggest as run_suggest

bp = Blueprint("search", __name__)
PATH_TYPES = {"trials": "trial", "centres": "centre", "guidelines": "guideline", "community": "community"}
MAX_PAGE = 50
SORTS = ("relevance", "date", "distance")


def _scopes():
    return None if policy.is_staff(current_user) else policy.scopes_for(current_user)


def _float(name: str, low: float, high: float):
    try:
        value = float(request.args.get(name, ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


def params(kind: str | None = None) -> dict:
    """Request arguments, validated: anything unknown is ignored rather than an error."""
    kind = kind or request.args.get("type", "")
    kind = kind if kind in TYPES else ""
    try:
        page = min(MAX_PAGE, max(1, int(request.args.get("page", 1))))
    except ValueError:
        page = 1
    filters = {}
    for name in FACETS.get(kind, ()):
        values = [v[:120] for v in request.args.getlist(name) if v][:5]
        if values:
            filters[name] = values
    sort = request.args.get("sort", "relevance")
    lat, lon = _float("lat", -90, 90), _float("lon", -180, 180)
    near = (lat, lon) if lat is not None and lon is not None else None
    return {"q": clean(request.args.get("q", "")), "type": kind, "page": page, "filters": filters,
            "sort": sort if sort in SORTS else "relevance", "near": near}


def run(p: dict) -> dict:
    base = current_app.config["SEARCH_INDEX_DIR"]
    types = (p["type"],) if p["type"] else ()
    out = run_query(base, p["q"], types=types, scopes=_scopes(), filters=p["filters"], sort=p["sort"],
                    page=p["page"], near=p["near"], per_page=PER_PAGE, recheck=allowed_ids)
    patterns: dict = {}
    for hit in out["hits"]:
        hit["url"] = hit_url(hit, patterns)
    out["facets"] = labels.label_facets(out["facets"])
    out["note"] = note_text(out.get("note"))
    return out


def note_text(code: str | None) -> str | None:
    """Why the results are not in the order asked for, in words for the reader."""
    if code == "no_point":
        return _("Sorting by distance needs a latitude and a longitude: sorted by relevance instead.")
    if code == "not_located":
        return _("Only centres can be sorted by distance: sorted by relevance instead.")
    if code == "too_many":
        return _("Too many matches to sort by distance (at most %(n)d): add words or filters. "
                 "Sorted by relevance instead.", n=DISTANCE_MAX)
    return code


RECHECK_CHUNK = 5000  # ids per query


def _among(column, ids: list[int]):
    """``column IN ids`` as one bound value (a JSON array in SQLite, an array in PostgreSQL):
    building and binding a thousand separate parameters cost more than the query itself."""
    import json
    from sqlalchemy import BigInteger, any_, bindparam, func, literal_column
    from sqlalchemy.dialects.postgresql import ARRAY
    import sqlite3
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite" and sqlite3.sqlite_version_info >= (3, 38):  # JSON built in from 3.38
        values = func.json_each(bindparam("recheck_ids", json.dumps([int(i) for i in ids])))
        return column.in_(select(literal_column("value")).select_from(values))
    if dialect == "postgresql":
        return column == any_(bindparam("recheck_ids", [int(i) for i in ids], type_=ARRAY(BigInteger)))
    return column.in_([int(i) for i in ids])


def allowed_ids(by_kind: dict[str, list[int]]) -> dict[str, set[int]]:
    """Which of these rows exist and the current user may see now, by the same rules as the
    pages: one query per kind (and per RECHECK_CHUNK ids). A count comes first: the index is
    nearly always right, and one number is cheaper than a thousand rows; only when it falls
    short are the ids read."""
    models = documents.models()
    allowed: dict[str, set[int]] = {}
    for kind, ids in by_kind.items():
        model = models[kind][0]
        found: set[int] = set()
        for at in range(0, len(ids), RECHECK_CHUNK):
            chunk = ids[at:at + RECHECK_CHUNK]
            where = documents.indexable(kind, select(model.id).where(_among(model.id, chunk)))
            if TYPE_OF_KIND[kind] == "community":  # the public databases have no access rule
                where = policy.visible(where, current_user, model)
            if db.session.scalar(select(func.count()).select_from(where.subquery())) == len(set(chunk)):
                found.update(chunk)
            else:
                found.update(db.session.execute(where).scalars())
        allowed[kind] = found
    return allowed


_TEXT, _NUMBER = "oncollab-ref", 987654321  # stand-ins, replaced in a URL built once per kind


def _hit_route(kind: str) -> tuple[str, dict]:
    if kind == "trial":
        return "trials.show", {"nct_id": _TEXT}
    if kind == "centre":
        return "directory.show", {"slug": _TEXT}
    if kind == "guideline":
        return "guidelines.show", {"guideline_id": _NUMBER}
    if kind == "group":
        return "groups.show", {"slug": _TEXT}
    if kind == "topic":
        return "forum.topic", {"topic_id": _NUMBER}
    if kind == "event":
        return "agenda.show", {"event_id": _NUMBER}
    if kind == "blogpost":
        return "blog.show", {"post_id": _NUMBER, "slug": _TEXT}
    return "forum.permalink", {"post_id": _NUMBER}


def hit_url(hit: dict, patterns: dict | None = None) -> str:
    """A hit's page. ``url_for`` runs once per kind per page (``patterns`` keeps the URL built
    with stand-ins); each hit only fills in its reference, quoted as the router quotes it."""
    kind = hit["kind"]
    patterns = {} if patterns is None else patterns
    if kind not in patterns:
        endpoint, values = _hit_route(kind)
        patterns[kind] = url_for(endpoint, **values)
    url = patterns[kind]
    if kind in ("trial", "centre", "group"):
        text = hit["ref"]
    else:
        url = url.replace(str(_NUMBER), str(int(hit["ref"])))
        if kind != "blogpost":
            return url
        text = slugify(  # the post's slug is its title's, as stored at write time
            hit.get("title") or "", fallback="post")
    return url.replace(_TEXT, quote(str(text), safe="!$&'()*+,/:;=@"))  # werkzeug's to_url


def page_url(p: dict, **changes) -> str:
    """The current search with some arguments changed (facet links, pages, sorting).

    A page has dozens of facet links that differ from the page's own URL in one filter: the
    path and each unchanged part of the query string are encoded once per page (in ``p``)."""
    parts = p.setdefault("_url_parts", {})
    if "path" not in parts:
        parts["path"] = (url_for("search.by_type", database=_path_of(p["type"])) if p["type"]
                         else url_for("search.search"))
    head = {k: v for k, v in changes.items() if not k.startswith(("add_", "drop_"))}
    head_key = ("head", tuple(head.items()))
    if head_key not in parts:
        args = {"q": p["q"], "sort": p["sort"] if p["sort"] != "relevance" else None, "page": None}
        if p["near"]:
            args["lat"], args["lon"] = p["near"]
        args.update(head)
        parts[head_key] = urlencode({k: v for k, v in args.items() if v not in (None, "")})
    filters = dict(p["filters"])
    for key, value in changes.items():
        if key.startswith("add_"):
            filters[key[4:]] = [*filters.get(key[4:], []), value]
        elif key.startswith("drop_"):
            filters[key[5:]] = [v for v in filters.get(key[5:], []) if v != value]
    pieces = [parts[head_key]]
    for name, values in filters.items():
        if values is p["filters"].get(name):
            if ("filter", name) not in parts:
                parts[("filter", name)] = urlencode({name: values}, doseq=True)
            pieces.append(parts[("filter", name)])
        elif values:
            pieces.append(urlencode({name: values}, doseq=True))
    query = "&".join(piece for piece in pieces if piece)
    return parts["path"] + ("?" + query if query else "")


def _path_of(kind: str) -> str:
    return {v: k for k, v in PATH_TYPES.items()}[kind]


@bp.get("/search")
def search():
    return _page(None)


@bp.get("/search/<database>")
def by_type(database: str):
    if database not in PATH_TYPES:
        abort(404)
    return _page(PATH_TYPES[database])


def _page(kind):
    p = params(kind)
    out = run(p) if (p["q"] or p["type"]) else None
    return render_template("search/search.html", p=p, out=out, page_url=page_url, path_of=_path_of,
                           facet_title=labels.FACET_TITLES, type_labels=labels.TYPE_LABELS,
                           per_page=PER_PAGE)


@bp.get("/search/suggest")
def suggest():
    items = run_suggest(current_app.config["SEARCH_INDEX_DIR"], request.args.get("q", ""))
    return jsonify(suggestions=items)


def _point_or_400() -> None:
    """sort=distance in the API needs a valid point; anything else is the caller's mistake."""
    if request.args.get("sort") != "distance":
        return  # lat and lon are ignored without it (the page forms send them empty)
    if _float("lat", -90, 90) is None or _float("lon", -180, 180) is None:
        abort(400, description=_("sort=distance needs lat (-90 to 90) and lon (-180 to 180) as numbers."))


@bp.get("/api/search")
def api():
    _point_or_400()
    p = params()
    out = run(p)
    results = []
    for h in out["hits"]:
        result = {"type": h["type"], "kind": h["kind"],
                  "id": h["ref"] if h["kind"] in ("trial", "centre", "group") else int(h["ref"]),
                  "title": h["title"], "url": h["url"], "snippet": str(h["snippet_html"])}
        if "distance_km" in h:
            result["distance_km"] = h["distance_km"]
        results.append(result)
    facets = {name: [{"value": v, "label": label, "count": c} for v, label, c in values]
              for name, values in out["facets"].items()}
    return jsonify(total=out["total"], total_exact=out["total_exact"], page=p["page"], per_page=PER_PAGE,
                   results=results, facets=facets, suggestion=out["suggestion"], sort=out["sort"],
                   note=out["note"])

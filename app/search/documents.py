"""One builder per searchable model: a database row in, a Whoosh document (a dict) out.

A new searchable feature adds a builder here and its model to ``models()`` (and, when some of
its rows are not indexed, a filter to ``indexable_ids``). Nothing else: the session hooks then
write an outbox row for every change of that model, the writer rebuilds its documents, and
``rebuild`` / ``check`` walk it. Every document carries ``scope`` and ``group_id`` from the
policy (``policy.scope_of``), so search filters by the same rule as the pages.

PRIVACY: investigators' names and contacts (Trial.central_contacts, overall_officials,
TrialSite.contacts) are never read here; a trial site's facility name is indexed only when the
site is linked to a directory centre (registry facility names are sometimes a person's name).
Authors are never indexed either: the search finds content, not people.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from app import policy
from app.agenda.models import Event, KIND_NAMES
from app.blog.models import BlogPost
from app.core.countries import COUNTRIES
from app.directory.models import Centre, NETWORKS
from app.extensions import db
from app.forum.models import Post, Topic
from app.groups.models import Group
from app.guidelines.models import Guideline
from app.sanitize import plain_text
from app.search.schema import TYPE_OF_KIND
from app.trials.models import Trial, TrialSite, phase_label, status_label

SNIPPET_CHARS = 320


def _clean(value) -> str:
    """Whitespace runs to one space (str.split is several times faster than a regex here, and
    the bulk rebuild calls this about thirty times per trial)."""
    return " ".join(str(value or "").split())


def _keyword(values) -> str:
    """Facet values are comma-separated codes, so a value must not carry a comma itself."""
    out = []
    for value in values:
        value = _clean(value).replace(",", " ")
        if value and value not in out:
            out.append(value)
    return ",".join(out)


_SEPARATORS = re.compile(r"[\s\-_/,]+")


def _phrase(value) -> str:
    return _SEPARATORS.sub(" ", str(value or "").lower()).strip()[:120]


def _day(value) -> str:
    return value.strftime("%Y%m%d") if value else ""


def compact(doc: dict) -> dict:
    """Every builder ends here. Absent beats empty: an empty value would still cost a posting
    (or a column cell). ``order`` is the ranking tie-break (see query.py): title words, then date."""
    doc = {k: v for k, v in doc.items() if v not in ("", None) or k in ("key", "title")}
    date = doc.get("date", "")
    doc["order"] = min(len(doc["title"].split()), 600) * 10**8 + (99_999_999 - (int(date) if date.isdigit() else 0))
    return doc


def _base(kind: str, dbid, ref, scope: str, group_id=None) -> dict:
    return {"key": f"{kind}:{dbid}", "kind": kind, "type": TYPE_OF_KIND[kind], "dbid": str(dbid),
            "ref": str(ref), "scope": scope, "group_id": str(group_id or "")}


def trial_document(f: dict) -> dict:
    """From plain values, so the benchmark indexes exactly what the app does."""
    conditions = f.get("conditions") or []
    interventions = f.get("interventions") or []
    sites = f.get("sites") or []
    title = _clean(f["brief_title"])
    places = " ".join(f"{s.get('facility', '')} {s.get('city', '')} {s.get('country', '')}" for s in sites)
    # The official title mostly repeats the brief one in registry language: left out, it saves
    # a sixth of the indexing time at 100k trials for little recall (brief_summary covers it).
    body = " ".join([title, _clean(f.get("acronym")), f["nct_id"],
                     " ".join(conditions), " ".join(i.get("name", "") for i in interventions),
                     " ".join(f.get("keywords") or []), _clean(f.get("brief_summary")),
                     _clean(f.get("sponsor")), places])
    doc = _base("trial", f["id"], f["nct_id"], "public")
    doc.update(
        title=title, body=body, snippet=_clean(f.get("brief_summary"))[:SNIPPET_CHARS],
        phrases=_keyword([_phrase(c) for c in conditions] + [_phrase(title), _phrase(f.get("acronym"))]
                         + [_phrase(i.get("name")) for i in interventions[:5]]),
        date=f.get("date") or "",
        subtitle=" · ".join(x for x in (f["nct_id"], f.get("status_label", ""), f.get("phase_label", "")) if x),
        status=f.get("status") or "", phase=_keyword((f.get("phases") or "").split("|")),
        country=_keyword(s.get("country_code") for s in sites),
        condition=_keyword(c.lower() for c in conditions[:8]),
        itype=_keyword(i.get("type", "") for i in interventions),
        age=_keyword((f.get("std_ages") or "").split("|")),
    )
    return compact(doc)


TRIAL_COLUMNS = ("id", "nct_id", "brief_title", "acronym", "conditions", "interventions", "keywords",
                 "brief_summary", "sponsor", "status", "phases", "std_ages", "last_update")


def trial(t) -> dict:
    sites = [(s.facility, s.centre_id, s.city, s.country, s.country_code) for s in t.sites]
    return _trial_from({name: getattr(t, name) for name in TRIAL_COLUMNS}, sites)


def _trial_from(row, sites) -> dict:
    """``row``: the values of TRIAL_COLUMNS; ``sites``: (facility, centre_id, city, country,
    country_code) in the registry's order."""
    return trial_document(dict(
        row, conditions=list(row["conditions"] or []), interventions=list(row["interventions"] or []),
        keywords=list(row["keywords"] or []), date=_day(row["last_update"]),
        sites=[{"facility": facility if centre_id else "", "city": city, "country": country,
                "country_code": code or ""} for facility, centre_id, city, country, code in sites],
        status_label=status_label(row["status"]), phase_label=phase_label(row["phases"])))


def trials_in_bulk(chunk: int = 2000):
    """Every trial's document, for ``flask search rebuild``: only the columns documents use, two
    plain queries per chunk and no ORM objects (at 100,000 trials, loading them as objects with
    their sites cost the rebuild's main process as much as all the rest of its work)."""
    columns = [getattr(Trial, name) for name in TRIAL_COLUMNS]
    last = 0
    while True:
        rows = db.session.execute(select(*columns).where(Trial.id > last).order_by(Trial.id).limit(chunk)).all()
        if not rows:
            return
        last = rows[-1].id
        sites: dict[int, list] = {}
        for trial_id, *site in db.session.execute(
                select(TrialSite.trial_id, TrialSite.facility, TrialSite.centre_id, TrialSite.city,
                       TrialSite.country, TrialSite.country_code)
                .where(TrialSite.trial_id >= rows[0].id, TrialSite.trial_id <= last)
                .order_by(TrialSite.trial_id, TrialSite.position)):
            sites.setdefault(trial_id, []).append(site)
        for row in rows:
            yield _trial_from(row._mapping, sites.get(row.id, ()))


def _country_name(code) -> str:
    try:
        return str(COUNTRIES.get(code, code or ""))
    except Exception:  # outside a request the lazy label may not resolve; the code still helps
        return code or ""


def centre(c) -> dict:
    conditions = db.session.scalars(select(Trial.conditions_text).join(TrialSite, TrialSite.trial_id == Trial.id)
                                    .where(TrialSite.centre_id == c.id).distinct().limit(50)).all()
    networks = c.network_codes
    names = [c.name, *(c.aliases or [])]
    doc = _base("centre", c.id, c.slug, "public")
    doc.update(
        title=_clean(c.name),
        body=" ".join([*names, c.city, c.state, c.address, _country_name(c.country), c.country or "",
                       c.kind_label, c.specialties, " ".join(NETWORKS.get(n, n) for n in networks),
                       " ".join(conditions)]),
        snippet=_clean(", ".join(x for x in (c.address, c.city, _country_name(c.country)) if x)
                       + (". " + c.specialties if c.specialties else ""))[:SNIPPET_CHARS],
        phrases=_keyword([_phrase(n) for n in names] + [_phrase(c.city)]),
        date=_day(c.updated_at), lat=c.lat, lon=c.lon, subtitle=f"{c.kind_label} · {c.city}",
        country=c.country or "", ckind=c.kind, network=_keyword(networks))
    return compact(doc)


def guideline(g) -> dict:
    doc = _base("guideline", g.id, g.id, "public")
    doc.update(
        title=_clean(g.title),
        body=" ".join([g.title, g.tumour_type, g.publisher, g.category, g.version, str(g.year or "")]),
        snippet=_clean(" · ".join(x for x in (g.publisher, g.tumour_type, g.category, g.version) if x))[:SNIPPET_CHARS],
        phrases=_keyword([_phrase(g.title), _phrase(g.tumour_type)]),
        date=f"{g.year}0101" if g.year else _day(g.updated_at), subtitle=g.publisher,
        publisher=_clean(g.publisher), tumour=_keyword([g.tumour_type]), year=str(g.year or ""))
    return compact(doc)


def _month(value) -> str:
    return value.strftime("%Y-%m") if value else ""


def group(gr) -> dict:
    doc = _base("group", gr.id, gr.slug, policy.scope_of(gr), gr.id)
    doc.update(title=_clean(gr.name), body=" ".join([gr.name, gr.description, " ".join(gr.tag_list)]),
               snippet=_clean(gr.description)[:SNIPPET_CHARS], date=_day(gr.created_at),
               subtitle="Group", kind="group", month=_month(gr.created_at))
    return compact(doc)


def topic(t, opening_body: str | None = None) -> dict:
    if opening_body is None:
        opening_body = db.session.scalar(select(Post.body).where(
            Post.topic_id == t.id, Post.number == 1, Post.deleted_at.is_(None))) or ""
    doc = _base("topic", t.id, t.id, policy.scope_of(t), t.group_id)
    doc.update(topic=str(t.id), title=_clean(t.title), body=" ".join([t.title, opening_body]),
               snippet=_clean(opening_body)[:SNIPPET_CHARS], date=_day(t.last_post_at or t.created_at),
               subtitle="Topic", kind="topic", month=_month(t.created_at))
    return compact(doc)


def post(p) -> dict | None:
    """Replies only (the opening post is part of its topic's document); removed ones are gone."""
    if p.number == 1 or p.deleted_at is not None:
        return None
    doc = _base("post", p.id, p.id, policy.scope_of(p), p.topic.group_id)
    doc.update(topic=str(p.topic_id), title="", body=p.body, snippet=_clean(p.body)[:SNIPPET_CHARS], date=_day(p.created_at),
               subtitle=f"Reply in: {_clean(p.topic.title)}", kind="post", month=_month(p.created_at))
    return compact(doc)


def blogpost(p) -> dict | None:
    """Published posts only: a draft (private) or a deleted post is never in the index."""
    if p.visibility == "private" or p.deleted_at is not None:
        return None
    when = p.published_at or p.created_at
    doc = _base("blogpost", p.id, p.id, policy.scope_of(p), p.group_id)
    # The snippet is the text a reader sees (no Markdown marks); the body keeps the source words.
    doc.update(title=_clean(p.title), body=" ".join([p.title, p.body]), snippet=plain_text(p.body, SNIPPET_CHARS),
               date=_day(when), subtitle="Blog post", kind="blogpost", month=_month(when))
    return compact(doc)


def event(e) -> dict:
    """An event in its own scope (public, members, or its group's inside); the organiser is not
    indexed (content, not people). A cancelled event stays findable, marked so."""
    description = plain_text(e.description)
    kind_label = KIND_NAMES.get(e.kind, e.kind)
    centre_name = e.centre.name if e.centre is not None else ""
    place = e.city or ("Online" if e.online_url else "")
    doc = _base("event", e.id, e.id, policy.scope_of(e), e.group_id)
    doc.update(title=_clean(e.title),
               body=" ".join([e.title, description, e.location, e.city, _country_name(e.country), kind_label,
                              centre_name]),
               snippet=_clean(description or ", ".join(x for x in (e.location, e.city, centre_name) if x))[:SNIPPET_CHARS],
               date=_day(e.starts_at), month=_month(e.starts_at), kind="event",
               subtitle=" · ".join(x for x in ("Event", e.starts_at.strftime("%d %b %Y"), place,
                                               "Cancelled" if e.cancelled_at is not None else "") if x))
    return compact(doc)


def models() -> dict:
    """kind -> (Model, builder); the one list the indexer, rebuild and check walk."""
    return {"trial": (Trial, trial), "centre": (Centre, centre), "guideline": (Guideline, guideline),
            "group": (Group, group), "topic": (Topic, topic), "post": (Post, post),
            "blogpost": (BlogPost, blogpost), "event": (Event, event)}


def indexable(kind: str, query):
    """Narrow a select() over the kind's model to the rows that are documents: an opening post
    is part of its topic's document, and drafts and removed posts are never hits, not even for
    staff. The rebuild, ``check`` and the search's database re-check all ask this."""
    model, _builder = models()[kind]
    if kind == "post":
        query = query.where(model.number > 1, model.deleted_at.is_(None))
    if kind == "blogpost":
        query = query.where(model.visibility != "private", model.deleted_at.is_(None))
    return query


def indexable_ids(kind: str) -> set[int]:
    """Ids the index should hold for a kind (check compares these with the index)."""
    model, _builder = models()[kind]
    return set(db.session.scalars(indexable(kind, select(model.id))))

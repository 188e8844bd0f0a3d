"""Queries: untrusted text in, access-filtered hits, counts, facets and safe snippets out.

Pure Whoosh (no Flask), so the benchmark measures exactly this code. The access filter is a
``filter=`` doc set over ``scope`` terms, computed before scoring: counts, facets and snippets
only ever see documents the caller may see. Searchers are long-lived (a pool, see ``checkout``)
and refreshed when the index changes; filter and facet doc sets are cached on each searcher.
"""
from __future__ import annotations

import heapq
import math
import re
import threading
from contextlib import contextmanager

from markupsafe import Markup, escape
from whoosh import query as Q
from whoosh.qparser import AndGroup, MultifieldParser, plugins

from app.search import synonyms
from app.search import facets as facet_counts
from app.search.schema import ANALYZER, FACETS, current_name, make_schema, open_index

MAX_QUERY = 200
PER_PAGE = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_parser_lock = threading.Lock()
_PARSER = None


def clean(qtext) -> str:
    return _CONTROL.sub(" ", str(qtext or ""))[:MAX_QUERY].strip()


def _parser():
    """Words, quotes, parentheses and AND/OR/NOT only: no field names (no searching the access
    fields), no wildcards, ranges or fuzzy terms (unbounded expansions)."""
    global _PARSER
    with _parser_lock:
        if _PARSER is None:
            parser = MultifieldParser(["title", "body"], make_schema(), group=AndGroup)
            for plugin_type in (plugins.FieldsPlugin, plugins.WildcardPlugin, plugins.RangePlugin,
                                plugins.BoostPlugin, plugins.EveryPlugin, plugins.FuzzyTermPlugin):
                parser.remove_plugin_class(plugin_type)
            _PARSER = parser
        return _PARSER


def _plain(qtext: str):
    """The fallback: every analysed word must appear, in the title or the body."""
    words = [t.text for t in ANALYZER(qtext)]
    if not words:
        return Q.NullQuery
    return Q.And([Q.Or([Q.Term("title", w), Q.Term("body", w)]) for w in words])


def _parse(qtext: str):
    try:
        return _parser().parse(qtext)
    except Exception:  # the parser has crashed on ordinary input before: fall back, never 500
        return _plain(qtext)


def _expand(node):
    if isinstance(node, Q.Or) and node.subqueries and all(isinstance(p, Q.Phrase) for p in node.subqueries):
        # The body holds the title too: one positional match instead of two (phrases are costly).
        body = [p for p in node.subqueries if p.fieldname == "body"]
        if body and len({tuple(p.words) for p in node.subqueries}) == 1:
            return body[0]
    by_term, _ = synonyms.load()
    if isinstance(node, Q.Term) and node.fieldname in ("title", "body") and node.text in by_term:
        alts = [node]
        for tokens in by_term[node.text]:
            alts.append(Q.Term(node.fieldname, tokens[0]) if len(tokens) == 1
                        else Q.Phrase("body", tokens, slop=2))
        return Q.Or(alts)
    return node


def build_query(qtext: str):
    """The parsed query OR its synonym spellings; each term OR its phrases (NSCLC, "non small...")."""
    parts = [_parse(qtext)] + [_parse(alt) for alt in synonyms.alternatives(qtext)]
    parts = [p.accept(_expand) for p in parts if p is not Q.NullQuery]
    if not parts:
        return Q.NullQuery
    return parts[0] if len(parts) == 1 else Q.Or(parts)


_POOL: dict[str, list] = {}
_POOL_LOCK = threading.Lock()
POOL_PER_INDEX, POOL_INDEXES = 8, 8


@contextmanager
def checkout(base: str):
    """A searcher over the live index, for this request alone, then back to the pool.

    Searchers are long-lived and shared between requests (opening one per query is what makes
    naive Whoosh slow) but never used by two threads at once (their files are not thread-safe);
    under gevent the pool usually holds one. A commit or a rebuild swap is noticed here:
    ``refresh()`` reuses unchanged segments. Caches (filters, facets) live on the searcher."""
    with _POOL_LOCK:
        entry = _POOL.get(base, []).pop() if _POOL.get(base) else None
    name = current_name(base)
    searcher = None
    if entry is not None and entry[0] == name:
        searcher = entry[1]
        if not searcher.up_to_date():
            searcher = searcher.refresh()  # closes only the readers it does not reuse
            searcher.oncollab_cache = {}
    elif entry is not None:
        entry[1].close()
    if searcher is None:
        ix = open_index(base)
        if ix is None:
            yield None
            return
        searcher = ix.searcher()
        searcher.oncollab_cache = {}
    try:
        yield searcher
    finally:
        _give_back(base, name, searcher)


def _give_back(base, name, searcher) -> None:
    extra = []
    with _POOL_LOCK:
        _POOL.setdefault(base, []).append((name, searcher))
        if len(_POOL[base]) > POOL_PER_INDEX:
            extra.append(_POOL[base].pop(0))
        while len(_POOL) > POOL_INDEXES:  # tests make many indexes in one process
            oldest = next(iter(_POOL))
            extra.extend(_POOL.pop(oldest))
    for _name, old in extra:
        try:
            old.close()
        except Exception:
            pass


def _cache(searcher) -> dict:
    cache = getattr(searcher, "oncollab_cache", None)
    if cache is None:
        cache = searcher.oncollab_cache = {}
    return cache


MAX_CACHED_IDS = 4_000_000  # about 150 MB of doc sets per searcher at most


def _term_set(searcher, cache: dict, fieldname: str, text) -> frozenset:
    key = ("term", fieldname, text)
    docs = cache.get(key)
    if docs is None:
        try:
            docs = frozenset(searcher.reader().postings(fieldname, text).all_ids())
        except Exception:  # TermNotFound, or a field without postings
            docs = frozenset()
        size = cache.get("term_ids", 0) + len(docs)
        if size > MAX_CACHED_IDS:
            for old in [k for k in cache if isinstance(k, tuple) and k[0] == "term"]:
                del cache[old]
            size = len(docs)
        cache["term_ids"] = size
        cache[key] = docs
    return docs


def _docs(searcher, q, cache: dict):
    """Every matching document as a set, without scoring: terms come from cached doc sets and
    combine with C-level set algebra; only positional queries (phrases) are matched by Whoosh."""
    if isinstance(q, Q.Term):
        return _term_set(searcher, cache, q.fieldname, q.text)
    if isinstance(q, Q.Every):
        if "every" not in cache:
            cache["every"] = frozenset(searcher.docs_for_query(Q.Every()))
        return cache["every"]
    if q is Q.NullQuery or isinstance(q, Q.NullQuery.__class__):
        return frozenset()
    if isinstance(q, Q.AndNot):
        return _docs(searcher, q.a, cache) - _docs(searcher, q.b, cache)
    if isinstance(q, Q.AndMaybe):
        return _docs(searcher, q.a, cache)
    if isinstance(q, Q.Not):
        return _docs(searcher, Q.Every(), cache) - _docs(searcher, q.query, cache)
    if isinstance(q, Q.And):
        sets = sorted((_docs(searcher, sub, cache) for sub in q.subqueries), key=len)
        result = sets[0] if sets else frozenset()
        for other in sets[1:]:
            if not result:
                break
            result = result & other
        return result
    if isinstance(q, Q.Or) and not getattr(q, "minmatch", 0):
        result = set()
        for sub in q.subqueries:
            result |= _docs(searcher, sub, cache)
        return result
    if isinstance(q, Q.Phrase):
        key = ("phrase", q.fieldname, tuple(q.words), q.slop)
        if key not in cache:
            # Candidates first (cached term sets, C-level), then positions only where needed.
            words = [w for w in q.words if w]
            candidates = _docs(searcher, Q.And([Q.Term(q.fieldname, w) for w in words]), cache) if words else frozenset()
            cache[key] = frozenset(searcher.docs_for_query(q)) if candidates else frozenset()
        return cache[key]
    return frozenset(searcher.docs_for_query(q))


def _unphrase(node):
    """For ranking only: a phrase scores like its words (the match set already holds the phrase
    rule), so positions are read once, when matching, not again when scoring."""
    if isinstance(node, Q.Phrase):
        return Q.And([Q.Term(node.fieldname, w) for w in node.words if w])
    return node


BROAD = 400  # above this many matches, rank title matches first


def _title_only(node):
    if isinstance(node, (Q.Term, Q.Phrase)) and node.fieldname == "body":
        words = [node.text] if isinstance(node, Q.Term) else [w for w in node.words if w]
        return Q.And([Q.Term("title", w) for w in words])
    return node


def _ranked(searcher, q, matched, cache, start: int, stop: int, plain=None) -> list[dict]:
    """The page's hits, best first. Scoring every match of a broad query walks every posting in
    Python (hundreds of ms at 100k trials), so a broad query ranks in two tiers: documents with
    the words in their title (the field that ranks highest anyway) by relevance, then the rest
    newest first."""
    if len(matched) <= BROAD:
        return _scored(searcher, q.accept(_unphrase), matched, start, stop)
    title_query = q.accept(_title_only)
    titled = _docs(searcher, title_query, cache) & matched
    # Score with the words as typed (synonym phrases widen the match, not the ranking).
    scoring = (plain if plain is not None else q).accept(_title_only).accept(_unphrase)
    top = _scored(searcher, scoring, titled, 0, stop) if titled else []
    if len(top) < stop:
        seen = {f["key"] for f in top}
        extra = newest(searcher, cache, titled, stop)
        top += [f for f in (searcher.stored_fields(d) for d in extra) if f["key"] not in seen][:stop - len(top)]
    if len(top) < stop:
        rest = newest(searcher, cache, matched - titled, stop - len(top))
        top += [searcher.stored_fields(d) for d in rest]
    return top[start:stop]


def _scored(searcher, scoring, candidates, start, stop) -> list[dict]:
    results = searcher.search(scoring, filter=set(candidates), limit=stop, terms=False)
    return [hit.fields() for hit in results[start:stop]]


def newest(searcher, cache, docs, n: int) -> list[int]:
    """The n newest documents, from the date column read once per searcher."""
    if "dates" not in cache:
        cache["dates"] = list(searcher.reader().column_reader("date"))
    return heapq.nlargest(n, docs, key=cache["dates"].__getitem__) if n > 0 else []


def _filter_docs(searcher, types, scopes, filters):
    """The allowed documents as a doc-number set (cached: the same few scope sets recur)."""
    key = ("filter", tuple(types), scopes, tuple(sorted((k, tuple(v)) for k, v in filters.items())))
    cache = _cache(searcher)
    if key in cache:
        return cache[key]
    parts = []
    if types:
        parts.append(Q.Or([Q.Term("type", t) for t in types]))
    if scopes is not None:
        parts.append(Q.Or([Q.Term("scope", s) for s in sorted(scopes)]))
    for field, values in filters.items():
        parts.extend(Q.Term(field, v) for v in values)  # facets combine with AND
    docs = set(searcher.docs_for_query(Q.And(parts))) if parts else None
    if len(cache) > 512:
        cache.clear()
    cache[key] = docs
    return docs


def highlight(text: str, words: set[str], limit: int = 240) -> Markup:
    """Escaped text with <mark> around matched words; built here, so no index text is ever
    trusted as HTML."""
    text = str(text or "")
    spans = [(t.startchar, t.endchar) for t in ANALYZER(text, chars=True, mode="index") if t.text in words]
    start = 0
    if spans and len(text) > limit and spans[0][0] > limit // 3:
        start = max(0, spans[0][0] - limit // 3)
        start = text.rfind(" ", 0, start) + 1
    end = min(len(text), start + limit)
    out, pos = [], start
    for a, b in spans:
        if a < pos or b > end:
            continue
        out.append(escape(text[pos:a]))
        out.append(Markup("<mark>") + escape(text[a:b]) + Markup("</mark>"))
        pos = b
    out.append(escape(text[pos:end]))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return Markup(escape(prefix) + Markup("").join(out) + escape(suffix))


def _distance(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def search(base: str, qtext, *, types=(), scopes=None, filters=None, sort="relevance", page=1,
           per_page=PER_PAGE, facets=True, near=None, spelling=True, searcher=None) -> dict:
    """``scopes=None`` means staff (no access filter); otherwise a frozenset from scopes_for."""
    qtext = clean(qtext)
    filters = {k: [str(v) for v in vals if str(v)] for k, vals in (filters or {}).items() if vals}
    empty = {"total": 0, "hits": [], "facets": {}, "suggestion": None, "page": page, "query": qtext}
    if searcher is None:
        with checkout(base) as searcher:
            return _search(searcher, qtext, empty, types, scopes, filters, sort, page, per_page,
                           facets, near, spelling) if searcher is not None else empty
    return _search(searcher, qtext, empty, types, scopes, filters, sort, page, per_page, facets, near, spelling)


def _search(searcher, qtext, empty, types, scopes, filters, sort, page, per_page, facets, near, spelling):
    q = build_query(qtext) if qtext else Q.Every()
    if q is Q.NullQuery:
        return empty
    allowed = _filter_docs(searcher, types, scopes, filters)
    cache = _cache(searcher)
    matched = _docs(searcher, q, cache)
    if allowed is not None:
        matched = matched & allowed if len(matched) <= len(allowed) else allowed & matched
    total = len(matched)  # exact, after the access filter, from cached term doc sets
    if not total:
        empty["suggestion"] = did_you_mean(searcher, qtext) if spelling and qtext else None
        return empty
    facet_names = []
    if facets:
        facet_names = list(FACETS[types[0]]) if len(types) == 1 else ["type"]
    page = max(1, int(page))
    start, stop = (page - 1) * per_page, page * per_page
    if sort == "distance" and near is not None:
        lat, lon = near
        rows = [searcher.stored_fields(d) for d in matched]
        rows.sort(key=lambda f: _distance(lat, lon, f["lat"], f["lon"]) if f.get("lat") is not None else 1e9)
        docs = rows[start:stop]
    elif sort == "date":
        docs = [searcher.stored_fields(d) for d in newest(searcher, cache, matched, stop)[start:stop]]
    else:
        docs = _ranked(searcher, q, matched, cache, start, stop, plain=_parse(qtext) if qtext else None)
    words = {text for field, text in q.iter_all_terms() if field in ("title", "body")} if qtext else set()
    hits = []
    for fields in docs:
        item = {k: fields.get(k) for k in ("key", "kind", "type", "dbid", "ref", "group_id", "subtitle", "lat", "lon")}
        item["title"] = fields.get("title") or fields.get("subtitle") or ""
        item["title_html"] = highlight(item["title"], words, limit=300)
        item["snippet_html"] = highlight(fields.get("snippet", ""), words)
        if sort == "distance" and near is not None and item["lat"] is not None:
            item["distance_km"] = round(_distance(near[0], near[1], item["lat"], item["lon"]), 1)
        hits.append(item)
    found = {}
    if facet_names:
        for name in facet_names:
            found[name] = facet_counts.count(searcher, _cache(searcher), name, matched)
    suggestion = did_you_mean(searcher, qtext) if spelling and qtext and total < 3 else None
    return {"total": total, "hits": hits, "facets": found, "suggestion": suggestion,
            "page": page, "query": qtext}


_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def did_you_mean(searcher, qtext: str) -> str | None:
    """Corrections from words of the ``phrases`` field, which only the public databases feed:
    no closed group's word can come back as a suggestion."""
    corrector = _corrector(searcher)
    if not corrector.wordset:
        return None
    changed, out = False, qtext
    for word in set(_WORD.findall(qtext)[:8]):
        low = word.lower()
        if low in corrector.wordset:
            continue
        try:
            found = corrector.suggest(low, limit=1, maxdist=2)
        except Exception:  # a suggestion is a nicety; never fail a search over it
            found = []
        if found and found[0] != low:
            out = re.sub(r"(?<!\w)" + re.escape(word) + r"(?!\w)", found[0], out)
            changed = True
    return out if changed else None


def _corrector(searcher):
    """A word list built once per searcher (only when a query found almost nothing)."""
    from whoosh.spelling import ListCorrector
    cache = _cache(searcher)
    key = "corrector"
    if key not in cache:
        words = set()
        for term in searcher.reader().lexicon("phrases"):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            words.update(w for w in _WORD.findall(text))
        corrector = ListCorrector(sorted(words))
        corrector.wordset = words
        cache[key] = corrector
    return cache[key]

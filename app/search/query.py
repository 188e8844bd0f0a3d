"""Queries: untrusted text in, access-filtered hits, counts, facets and safe snippets out.

Pure Whoosh and numpy (no Flask), so the benchmark measures exactly this code. The access
filter is a document set over ``scope`` terms, applied before anything is counted or ranked:
counts, facets and snippets only ever see documents the caller may see. Searchers are
long-lived (a pool, see ``checkout``) and refreshed when the index changes; document sets and
their caches are in ``docsets.py``.
"""
from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from contextlib import contextmanager
from functools import lru_cache
from itertools import combinations

import numpy as np
from markupsafe import Markup, escape
from whoosh import query as Q
from whoosh.qparser import AndGroup, MultifieldParser, plugins

from app.search import docsets, synonyms
from app.search.schema import ANALYZER, FACETS, current_name, make_schema, open_index, stem_word

MAX_QUERY = 200
PER_PAGE = 20
# The database re-check (``recheck``): a candidate set up to RECHECK_ALL documents is checked
# whole, so totals, facets and pages are exact; a larger one is checked along the ranking, as far
# as the page asked for needs (at most RECHECK_MAX ids a request), and its total is marked
# inexact (it may still count stale documents no page reached). 1,000 = 50 pages of 20: every
# result a reader can page to is then counted exactly.
RECHECK_ALL = 1000
RECHECK_MAX = 4000
RECHECK_ROUNDS = 8
# sort=distance: only kinds whose documents carry a location (centres; trials carry none in the
# schema), and only when the query matches at most DISTANCE_MAX of them: locations are stored
# fields, read one document at a time, so a broader query falls back to relevance, with a note.
DISTANCE_MAX = 1000
LOCATED_TYPES = frozenset({"centre"})
Recheck = Callable[[dict], dict]  # {kind: [database ids]} -> {kind: ids the caller may see now}
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


@lru_cache(maxsize=2048)
def _parse(qtext: str):
    """Cached: popular queries repeat, and parsing is a tenth of a search. Whoosh query trees
    are never changed in place (``accept`` builds new ones), so sharing one is safe."""
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


RANK_WORDS = 4  # the rarest query words shape the tiers; more words only narrow the match


def _query_words(q) -> list[str]:
    """The words a query asks for (not those under NOT), as indexed, in order."""
    words = []

    def walk(node):
        if isinstance(node, Q.Not):
            return
        if isinstance(node, Q.AndNot):
            walk(node.a)
        elif isinstance(node, Q.Term):
            if node.fieldname in ("title", "body"):
                words.append(node.text)
        elif isinstance(node, Q.Phrase):
            words.extend(w for w in node.words if w)
        else:
            for child in node.children():
                walk(child)

    walk(q)
    return list(dict.fromkeys(words))


def _ranked(searcher, q, matched, stop: int, plain=None) -> list[int]:
    """The page's hits, best first, without scoring every match.

    Whoosh's BM25 walks every posting of every word in Python: hundreds of milliseconds for a
    broad query at 100k trials. The ranking here keeps what BM25 rewards most, as set algebra on
    cached term sets: documents are tiered by which query words their *title* holds, each word
    weighted by its rarity (BM25's idf), so all words in the title beat the rare word alone,
    which beats the common word alone, which beats body-only matches. Within a tier, shorter
    titles come first (what BM25 prefers for a word that occurs once), then newer documents.
    Only the documents shown are ever looked at one by one. Returns the best ``stop`` document
    numbers, best first."""
    words = _query_words(plain if plain is not None else q)
    total = docsets.size(searcher) or 1
    weighted = []
    for word in words:
        in_title = docsets.term(searcher, "title", word)
        # From the term dictionary: reading the body's posting list only to count it was most of
        # a cold phrase query's time (deleted documents still count here; idf barely moves).
        df = searcher.doc_frequency("body", word) or docsets.count(in_title)
        weighted.append((math.log(1 + (total - df + 0.5) / (df + 0.5)), word, in_title))
    weighted.sort(key=lambda w: -w[0])
    weighted = weighted[:RANK_WORDS]
    tiers = sorted((combo for size in range(len(weighted), 0, -1) for combo in combinations(weighted, size)),
                   key=lambda combo: -sum(w[0] for w in combo))
    keys = docsets.order_keys(searcher)
    picked: list[int] = []
    remaining = matched
    for combo in tiers:
        if len(picked) >= stop:
            break
        cell = remaining
        for _idf, _word, in_title in combo:
            cell = cell & in_title
        if cell.any():
            picked += docsets.smallest(cell, keys, stop - len(picked))
            remaining = remaining & ~cell
    if len(picked) < stop:
        picked += docsets.smallest(remaining, keys, stop - len(picked))
    return picked[:stop]


def _filter_docs(searcher, types, scopes, filters):
    """The allowed documents (cached: the same few scope sets recur), or None for everything."""
    key = ("filter", tuple(types), scopes, tuple(sorted((k, tuple(v)) for k, v in filters.items())))
    found = docsets.cache(searcher)
    if key in found:
        return found[key]
    parts = []
    if types:
        parts.append(Q.Or([Q.Term("type", t) for t in types]))
    if scopes is not None:
        parts.append(Q.Or([Q.Term("scope", s) for s in sorted(scopes)]))
    for field, values in filters.items():
        parts.extend(Q.Term(field, v) for v in values)  # facets combine with AND
    docs = docsets.match(searcher, Q.And(parts)) if parts else None
    if len([k for k in found if isinstance(k, tuple) and k[0] == "filter"]) > 256:
        for old in [k for k in found if isinstance(k, tuple) and k[0] == "filter"]:
            del found[old]
    found[key] = docs
    return docs


_TOKENIZER, _STOPS = ANALYZER.items[0].expression, ANALYZER.items[2]


def matched_spans(text: str, words: set[str]) -> list[tuple[int, int]]:
    """Where the analysed ``words`` occur in ``text``: the analyser's own tokenizer, stop list and
    stemmer, without its generator chain (snippets are built for every hit of every search)."""
    if not words:
        return []
    spans = []
    stops, minsize = _STOPS.stops, _STOPS.min
    for match in _TOKENIZER.finditer(text):
        token = match.group().lower()
        if len(token) >= minsize and token not in stops and stem_word(token) in words:
            spans.append(match.span())
    return spans


def highlight(text: str, words: set[str], limit: int = 240) -> Markup:
    """Escaped text with <mark> around matched words; built here, so no index text is ever
    trusted as HTML."""
    text = str(text or "")
    spans = matched_spans(text, words)
    start = 0
    if spans and len(text) > limit and spans[0][0] > limit // 3:
        start = max(0, spans[0][0] - limit // 3)
        start = text.rfind(" ", 0, start) + 1
    end = min(len(text), start + limit)
    out, pos = ["… " if start > 0 else ""], start
    for a, b in spans:
        if a < pos or b > end:
            continue
        out += [escape(text[pos:a]), "<mark>", escape(text[a:b]), "</mark>"]
        pos = b
    out += [escape(text[pos:end]), " …" if end < len(text) else ""]
    return Markup("".join(out))  # every piece of text went through escape() above


def _distance(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def _distances(lat, lon, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle kilometres from (lat, lon) to each point, as ``_distance``; NaN stays NaN."""
    p1, p2 = math.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    h = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0 * 2 * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def distance_refusal(types, near, total: int) -> str | None:
    """Why sort=distance cannot apply to this search (it then falls back to relevance), or None:
    ``no_point`` (no valid lat and lon), ``not_located`` (not only centres), ``too_many``."""
    if near is None:
        return "no_point"
    if not types or not set(types) <= LOCATED_TYPES:
        return "not_located"
    if total > DISTANCE_MAX:
        return "too_many"
    return None


def _by_distance(searcher, matched, near, stop: int) -> list[int]:
    """The ``stop`` nearest of at most DISTANCE_MAX documents (those without a point last, newest
    first among equals). ``distance_refusal`` keeps larger sets away from here."""
    docs = np.flatnonzero(matched)[:DISTANCE_MAX]
    _kinds, _ids, lats, lons = docsets.identities(searcher, docs)
    away = np.nan_to_num(_distances(near[0], near[1], lats, lons), nan=np.inf)
    order = np.lexsort((docsets.newest_keys(searcher)[docs], away))
    return docs[order[:stop]].tolist()


def _order(searcher, q, qtext, matched, sort, near, stop: int) -> list[int]:
    """The best ``stop`` document numbers of ``matched`` in the page order, best first."""
    if sort == "distance":
        return _by_distance(searcher, matched, near, stop)
    if sort == "date":
        return docsets.smallest(matched, docsets.newest_keys(searcher), stop)
    return _ranked(searcher, q, matched, stop, plain=_parse(qtext) if qtext else None)


def unseen(searcher, docs, recheck: Recheck) -> np.ndarray:
    """The documents of ``docs`` that ``recheck`` (the database) no longer lets the caller see:
    gone, hidden, or moved out of the caller's scopes since they were indexed."""
    docs = np.asarray(docs, dtype=np.int64)
    if not docs.size:
        return docs
    kinds, ids, _lats, _lons = docsets.identities(searcher, docs)
    codes = np.unique(kinds[kinds >= 0]).tolist()
    asked = {docsets.KINDS[c]: sorted(set(ids[kinds == c].tolist())) for c in codes}
    allowed = recheck(asked) if asked else {}
    ok = np.zeros(len(docs), dtype=bool)
    for code in codes:
        here = kinds == code
        seen = np.fromiter(allowed.get(docsets.KINDS[code], ()), dtype=np.int64)
        ok[here] = np.isin(ids[here], seen)
    return docs[~ok]


def search(base: str, qtext, *, types=(), scopes=None, filters=None, sort="relevance", page=1,
           per_page=PER_PAGE, facets=True, near=None, spelling=True, searcher=None,
           recheck: Recheck | None = None) -> dict:
    """``scopes=None`` means staff (no access filter); otherwise a frozenset from scopes_for.

    ``recheck``: the database's word on what the caller may see now (see ``unseen``); with it,
    the total, the facets and the pages all count the same documents, the ones it let through
    (``total_exact`` False: a broad query whose stale documents outside the pages read were not
    looked for). Without it (the benchmark) the index is trusted. ``sort`` in the result is the
    order applied, and ``note`` (a ``distance_refusal`` code) says why when it is not the one
    asked for."""
    qtext = clean(qtext)
    filters = {k: [str(v) for v in vals if str(v)] for k, vals in (filters or {}).items() if vals}
    empty = {"total": 0, "hits": [], "facets": {}, "suggestion": None, "page": page, "query": qtext,
             "sort": sort, "note": None, "total_exact": True}
    args = (qtext, empty, types, scopes, filters, sort, page, per_page, facets, near, spelling, recheck)
    if searcher is None:
        with checkout(base) as searcher:
            return _search(searcher, *args) if searcher is not None else empty
    return _search(searcher, *args)


def _search(searcher, qtext, empty, types, scopes, filters, sort, page, per_page, facets, near, spelling, recheck):
    q = build_query(qtext) if qtext else Q.Every()
    if q is Q.NullQuery:
        return empty
    allowed = _filter_docs(searcher, types, scopes, filters)
    matched = docsets.match(searcher, q)
    if allowed is not None:
        matched = matched & allowed
    total = docsets.count(matched)  # after the access filter
    note = None
    if sort == "distance":
        note = distance_refusal(types, near, total)
        sort = "relevance" if note else sort
    empty.update(sort=sort, note=note)
    exact = True
    if recheck is not None and total:
        if total <= RECHECK_ALL:  # all of it, in one query per kind: exact from here on
            gone = unseen(searcher, np.flatnonzero(matched), recheck)
            if gone.size:
                matched = matched & ~docsets.from_ids(searcher, gone)
                total = docsets.count(matched)
        else:
            exact = False
    if not total:
        empty["suggestion"] = did_you_mean(searcher, qtext) if spelling and qtext else None
        return empty
    page = max(1, int(page))
    start, stop = (page - 1) * per_page, page * per_page
    order = _order(searcher, q, qtext, matched, sort, near, stop)
    if not exact:
        # Check the ranking down to this page; drop what the database refuses and rank again, so
        # every page is full while matches remain and page N+1 continues page N.
        verified: set[int] = set()
        want, refused = stop, 0
        for _round in range(RECHECK_ROUNDS):
            fresh = [d for d in order if d not in verified]
            if len(verified) + len(fresh) > RECHECK_MAX:
                break
            gone = unseen(searcher, fresh, recheck)
            verified.update(fresh)
            if not gone.size:
                break
            refused += gone.size
            verified.difference_update(gone.tolist())
            matched = matched & ~docsets.from_ids(searcher, gone)
            want = stop + 2 * refused  # room for more refusals without another round
            order = _order(searcher, q, qtext, matched, sort, near, want)
        order = [d for d in order[:stop] if d in verified]  # never show what was not checked
        total = docsets.count(matched)
    docs = [searcher.stored_fields(d) for d in order[start:stop]]
    words = {text for field, text in q.iter_all_terms() if field in ("title", "body")} if qtext else set()
    hits = []
    for fields in docs:
        item = {k: fields.get(k) for k in ("key", "kind", "type", "dbid", "ref", "group_id", "subtitle", "lat", "lon")}
        item["title"] = fields.get("title") or fields.get("subtitle") or ""
        item["title_html"] = highlight(item["title"], words, limit=300)
        item["snippet_html"] = highlight(fields.get("snippet", ""), words)
        if sort == "distance" and item["lat"] is not None and item["lon"] is not None:
            item["distance_km"] = round(_distance(near[0], near[1], item["lat"], item["lon"]), 1)
        hits.append(item)
    found = {}
    if facets:
        for name in (list(FACETS[types[0]]) if len(types) == 1 else ["type"]):
            found[name] = docsets.facet_counts(searcher, name, matched)
    suggestion = did_you_mean(searcher, qtext) if spelling and qtext and total < 3 else None
    return {"total": total, "hits": hits, "facets": found, "suggestion": suggestion, "page": page,
            "query": qtext, "sort": sort, "note": note, "total_exact": exact}


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
    cache = docsets.cache(searcher)
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

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
from contextlib import contextmanager
from functools import lru_cache
from itertools import combinations

from markupsafe import Markup, escape
from whoosh import query as Q
from whoosh.qparser import AndGroup, MultifieldParser, plugins

from app.search import docsets, synonyms
from app.search.schema import ANALYZER, FACETS, current_name, make_schema, open_index, stem_word

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


def _ranked(searcher, q, matched, start: int, stop: int, plain=None) -> list[dict]:
    """The page's hits, best first, without scoring every match.

    Whoosh's BM25 walks every posting of every word in Python: hundreds of milliseconds for a
    broad query at 100k trials. The ranking here keeps what BM25 rewards most, as set algebra on
    cached term sets: documents are tiered by which query words their *title* holds, each word
    weighted by its rarity (BM25's idf), so all words in the title beat the rare word alone,
    which beats the common word alone, which beats body-only matches. Within a tier, shorter
    titles come first (what BM25 prefers for a word that occurs once), then newer documents.
    Only the documents shown are ever looked at one by one."""
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
    return [searcher.stored_fields(d) for d in picked[start:stop]]


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
    matched = docsets.match(searcher, q)
    if allowed is not None:
        matched = matched & allowed
    total = docsets.count(matched)  # exact, after the access filter
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
        rows = [searcher.stored_fields(d) for d in docsets.smallest(matched, docsets.newest_keys(searcher), total)]
        rows.sort(key=lambda f: _distance(lat, lon, f["lat"], f["lon"]) if f.get("lat") is not None else 1e9)
        docs = rows[start:stop]
    elif sort == "date":
        docs = [searcher.stored_fields(d) for d in docsets.smallest(matched, docsets.newest_keys(searcher), stop)[start:stop]]
    else:
        docs = _ranked(searcher, q, matched, start, stop, plain=_parse(qtext) if qtext else None)
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
            found[name] = docsets.facet_counts(searcher, name, matched)
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

"""Sets of documents as numpy boolean arrays, one slot per document number of a searcher.

Whoosh answers "which documents match" by walking postings in Python, one document at a time:
fine for 20 hits, hundreds of milliseconds for the exact counts, facets and ranking tiers of a
broad query over 100k trials. Here each term's documents are read once per searcher into an
array; after that AND / OR / NOT, counts, facet counts and "the k best by some key" are single
numpy operations over 100k bytes (microseconds). Phrases are checked on each word's
occurrences (document and position, decoded in bulk and cached per segment), in the documents
where all their words occur.

Two levels of cache. Per segment (process-wide, LRU by bytes): term arrays, word occurrences,
phrase matches, facet pairs and rank columns of one segment, keyed by its id. Segments never
change, except that documents in them get deleted, and a result computed before a deletion is a
superset of the right one, so it stays valid once ANDed with the searcher's live-document mask.
After a commit only the new, small segment is read; the big ones keep their arrays. Per searcher
(``cache(searcher)``, until the next commit): the joined arrays, filters and the like.
"""
from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from itertools import accumulate

import numpy as np
from whoosh import query as Q
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.columns import NumericColumn
from whoosh.formats import _INT_SIZE

MAX_CACHED_BYTES = 128 * 2**20  # joined term arrays kept per searcher (1,300 terms at 100k docs)
MAX_SEGMENT_BYTES = 192 * 2**20  # per-segment arrays kept by the process, least recently used out
DOC_BITS = 24  # keys are (rank << DOC_BITS) | docnum: unique, so top-k is stable across pages
NO_ORDER = 2**36  # documents indexed before the ``order`` column existed rank last


def cache(searcher) -> dict:
    found = getattr(searcher, "oncollab_cache", None)
    if found is None:
        found = searcher.oncollab_cache = {}
    return found


def size(searcher) -> int:
    return searcher.reader().doc_count_all()


def from_ids(searcher, ids) -> np.ndarray:
    return _from_ids(size(searcher), ids)


def _from_ids(n: int, ids) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    ids = ids if isinstance(ids, np.ndarray) else np.fromiter(ids, dtype=np.int64)
    if len(ids):
        out[ids] = True
    return out


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False  # cached arrays are shared: an in-place change would corrupt them
    return arr


_SEGMENTS: OrderedDict = OrderedDict()
_SEGMENTS_LOCK = threading.Lock()
_segment_bytes = 0


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value) + 64
    if isinstance(value, list):
        return 64 * len(value)
    return 64


def _per_segment(sub, key: tuple, compute):
    """``compute(sub)`` for one segment's searcher, cached by the segment's id."""
    global _segment_bytes
    try:
        segment_id = sub.reader().segment().segment_id()
    except Exception:  # an empty index has no segment: nothing to share
        return compute(sub)
    full = (segment_id,) + key
    with _SEGMENTS_LOCK:
        found = _SEGMENTS.get(full)
        if found is not None:
            _SEGMENTS.move_to_end(full)
            return found
    value = compute(sub)
    with _SEGMENTS_LOCK:
        if full not in _SEGMENTS:
            _SEGMENTS[full] = value
            _segment_bytes += _nbytes(value)
            while _segment_bytes > MAX_SEGMENT_BYTES and len(_SEGMENTS) > 1:
                _old, dropped = _SEGMENTS.popitem(last=False)
                _segment_bytes -= _nbytes(dropped)
    return value


def _joined(searcher, key: tuple, compute) -> np.ndarray:
    """One array over the whole index from the per-segment arrays, in document-number order."""
    parts = [_per_segment(sub, key, compute) for sub, _offset in searcher.leaf_searchers()]
    if not parts:
        return np.zeros(0, dtype=bool)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def live(searcher) -> np.ndarray:
    """The documents not deleted (deletions are the one thing that changes inside a segment)."""
    found = cache(searcher)
    if "live" not in found:
        parts = []
        for sub, _offset in searcher.leaf_searchers():
            reader = sub.reader()
            part = np.ones(reader.doc_count_all(), dtype=bool)
            if reader.has_deletions():
                try:  # the segment's own deleted set: small, where all_doc_ids walks every document
                    part[np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)] = False
                except AttributeError:
                    part = _from_ids(len(part), reader.all_doc_ids())
            parts.append(part)
        found["live"] = _frozen(np.concatenate(parts) if parts else np.zeros(0, dtype=bool))
    return found["live"]


def posting_ids(reader, fieldname: str, text) -> np.ndarray:
    """Every document number in one segment's posting list of a term, deleted ones included
    (``live`` masks them). Whoosh's ``all_ids()`` makes three Python calls per posting; here
    each block of 128 ids is decoded at once (W3 blocks hold delta-coded ids). Any other
    matcher (a term inlined in the term index) goes the ordinary way."""
    try:
        btext = reader._text_to_bytes(fieldname, text)
        matcher = reader._terms.matcher(fieldname, btext, reader.schema[fieldname].format)
    except Exception:  # TermNotFound, or a field without postings
        return np.zeros(0, dtype=np.int64)
    if not isinstance(matcher, W3LeafMatcher):
        return np.fromiter(matcher.all_ids(), dtype=np.int64)
    blocks = []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        blocks.append(np.cumsum(np.asarray(matcher._data[0], dtype=np.int64)))
        matcher._next_block()
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)


def _term_ids(fieldname: str, text):
    def compute(sub):
        reader = sub.reader()
        return _frozen(_from_ids(reader.doc_count_all(), posting_ids(reader, fieldname, text)))
    return compute


def term(searcher, fieldname: str, text) -> np.ndarray:
    """The live documents holding one indexed term."""
    found = cache(searcher)
    key = ("term", fieldname, text)
    arr = found.get(key)
    if arr is None:
        arr = _joined(searcher, key, _term_ids(fieldname, text)) & live(searcher)
        used = found.get("term_bytes", 0) + arr.nbytes
        if used > MAX_CACHED_BYTES:
            for old in [k for k in found if isinstance(k, tuple) and k[0] == "term"]:
                del found[old]
            used = arr.nbytes
        found["term_bytes"] = used
        found[key] = arr = _frozen(arr)
    return arr


def every(searcher) -> np.ndarray:
    return live(searcher)


def match(searcher, q) -> np.ndarray:
    """Every document matching ``q``, unscored."""
    if isinstance(q, Q.Term):
        return term(searcher, q.fieldname, q.text)
    if isinstance(q, Q.Every):
        return every(searcher)
    if q is Q.NullQuery or isinstance(q, Q.NullQuery.__class__):
        return np.zeros(size(searcher), dtype=bool)
    if isinstance(q, Q.AndNot):
        return match(searcher, q.a) & ~match(searcher, q.b)
    if isinstance(q, Q.AndMaybe):
        return match(searcher, q.a)
    if isinstance(q, Q.Not):
        return every(searcher) & ~match(searcher, q.query)
    if isinstance(q, Q.And):
        parts = [match(searcher, sub) for sub in q.subqueries]
        return np.logical_and.reduce(parts) if parts else np.zeros(size(searcher), dtype=bool)
    if isinstance(q, Q.Or) and not getattr(q, "minmatch", 0):
        parts = [match(searcher, sub) for sub in q.subqueries]
        return np.logical_or.reduce(parts) if parts else np.zeros(size(searcher), dtype=bool)
    if isinstance(q, Q.Phrase):
        return _phrase(searcher, q)
    return from_ids(searcher, searcher.docs_for_query(q))


def _phrase(searcher, q) -> np.ndarray:
    found = cache(searcher)
    key = ("phrase", q.fieldname, tuple(q.words), q.slop)
    if key not in found:
        words = [w for w in q.words if w]
        parts = []
        for sub, _offset in searcher.leaf_searchers():
            n = sub.reader().doc_count_all()
            parts.append(_per_segment(sub, key, lambda s: _frozen(_from_ids(n, _phrase_ids(s, q, words))))
                         if words else np.zeros(n, dtype=bool))
        joined = np.concatenate(parts) if len(parts) > 1 else parts[0] if parts else np.zeros(0, dtype=bool)
        found[key] = _frozen(joined & live(searcher))
    return found[key]


def _phrase_ids(sub, q, words):
    """Documents of one segment where ``words`` follow each other, each at most ``q.slop``
    positions after the previous one (Whoosh's Phrase rule).

    Each word's occurrences are keys ``document << 32 | position``, read once per segment (the
    documents holding every word come from them too, so the posting lists are read only once).
    A chain of occurrences is followed for all documents at once by shifting the keys that
    reached word k by 1..slop and keeping those that are occurrences of word k+1. At 100k
    trials, a new phrase found in half of them takes about 10 ms once its words' occurrences
    are cached, and a few hundred milliseconds when they must first be read from disk, against
    seconds one document at a time."""
    n = sub.reader().doc_count_all()
    occurrences = []
    for word in words:
        keys = _per_segment(sub, ("occurrences", q.fieldname, word),
                            lambda s: _occurrences(s.reader(), q.fieldname, word))
        if keys is None:  # a posting list not in W3 blocks: Whoosh decides
            return sub.docs_for_query(q)
        if not keys.size:
            return []
        occurrences.append(keys)
    together = np.ones(n, dtype=bool)
    for keys in occurrences:
        holds = np.zeros(n, dtype=bool)
        holds[keys >> 32] = True
        together &= holds
    reached = None
    slop = max(1, q.slop)
    for keys in occurrences:
        keys = keys[together[keys >> 32]]
        if reached is None:
            reached = keys
        else:
            follows = np.zeros(keys.size, dtype=bool)
            for gap in range(1, slop + 1):  # keys and reached are both sorted
                steps = reached + gap
                at = np.minimum(np.searchsorted(steps, keys), steps.size - 1)
                follows |= steps[at] == keys
            reached = keys[follows]
        if not reached.size:
            return []
    docs = reached >> 32  # sorted
    return docs[np.r_[True, docs[1:] != docs[:-1]]].tolist()


def _occurrences(reader, fieldname: str, word):
    """Sorted keys ``document << 32 | position`` of every occurrence of a word in one segment
    (cached per segment, so the next phrase with this word reads nothing); None when the
    posting list is not in W3 blocks."""
    try:
        btext = reader._text_to_bytes(fieldname, word)
        matcher = reader._terms.matcher(fieldname, btext, reader.schema[fieldname].format)
    except Exception:
        return _frozen(np.zeros(0, dtype=np.int64))
    if not isinstance(matcher, W3LeafMatcher):
        return None
    docs, values = [], []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        docs.append(np.cumsum(np.asarray(matcher._data[0], dtype=np.int64)))
        values += matcher._data[2]
        matcher._next_block()
    if not values:
        return _frozen(np.zeros(0, dtype=np.int64))
    doc_ids, positions = decode_positions(values, np.concatenate(docs))
    return _frozen((doc_ids << 32) | positions)


def decode_positions(values: list[bytes], docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(documents, positions), one entry per occurrence, from Whoosh's encoded position lists.

    A value is a 4-byte count, then a protocol-2 pickle of the position deltas. Nearly all
    deltas are below 256, and a list made only of those has a fixed layout (``K`` and one byte
    per delta), recognised by its length and its last byte; those are read in one numpy gather
    for every value at once. Any other value (a delta of 256 or more, a list of over 1,000) goes through
    ``pickle.loads``, as Whoosh's own ``decode_positions`` does."""
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    buf = np.frombuffer(b"".join(values), dtype=np.uint8)
    starts = np.cumsum(lengths) - lengths
    counts = ((buf[starts].astype(np.int64) << 24) | (buf[starts + 1].astype(np.int64) << 16)
              | (buf[starts + 2].astype(np.int64) << 8) | buf[starts + 3])
    # 4-byte count, PROTO 2, EMPTY_LIST, BINPUT 0; then "K d APPEND" for one delta, or
    # "MARK (K d)* APPENDS" for several; then STOP. Any wider delta or a second APPENDS batch
    # makes the value longer, and one without its STOP ends in another byte.
    single = counts == 1
    simple = (lengths == np.where(single, 13, 12 + 2 * counts)) & (buf[starts + lengths - 1] == ord("."))
    n = counts[simple]
    first = starts[simple] + np.where(single[simple], 10, 11)
    total = int(n.sum())
    group = np.repeat(np.arange(len(n)), n)
    within = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
    deltas = buf[first[group] + 2 * within].astype(np.int64)
    running = np.cumsum(deltas)
    before = np.cumsum(n) - n  # each list's deltas add up from its own start
    positions = running - np.repeat(np.where(before > 0, running[before - 1], 0), n) if total else running
    out_docs, out_pos = [docs[simple][group]], [positions]
    for i in np.flatnonzero(~simple).tolist():
        value = values[i]
        found = list(accumulate(pickle.loads(value[_INT_SIZE:] if value.endswith(b".") else value[_INT_SIZE:] + b".")))
        out_docs.append(np.full(len(found), docs[i], dtype=np.int64))
        out_pos.append(np.asarray(found, dtype=np.int64))
    if len(out_docs) == 1:  # already in (document, position) order
        return out_docs[0], out_pos[0]
    doc_ids, positions = np.concatenate(out_docs), np.concatenate(out_pos)
    order = np.lexsort((positions, doc_ids))
    return doc_ids[order], positions[order]


def count(arr: np.ndarray) -> int:
    return int(np.count_nonzero(arr))


def _ranks(searcher) -> np.ndarray:
    """Each document's ``order`` value (documents.compact), read as one array per segment."""
    def compute(sub):
        reader = sub.reader()
        n = reader.doc_count_all()
        if not reader.has_column("order"):  # an index from before the column: all tie
            return _frozen(np.full(n, NO_ORDER, dtype=np.uint64))
        column = reader.column_reader("order", translate=False)
        if isinstance(column, NumericColumn.Reader):  # fixed-size big-endian values, in one read
            raw = column._dbfile.get(column._basepos, column._count * column._fixedlen)
            values = np.frombuffer(raw, dtype=">" + column._typecode).astype(np.uint64)
            values = np.concatenate([values, np.full(n - len(values), column._default, dtype=np.uint64)])
        else:
            values = np.fromiter(column, dtype=np.uint64, count=n)
        return _frozen(np.minimum(values, NO_ORDER))
    return _joined(searcher, ("column", "order"), compute)


def _keys(searcher, name: str, rank) -> np.ndarray:
    """Unique sort keys, smaller first: (rank << DOC_BITS) | document number."""
    found = cache(searcher)
    if name not in found:
        ranks = rank(_ranks(searcher))
        found[name] = _frozen((ranks << np.uint64(DOC_BITS)) | np.arange(len(ranks), dtype=np.uint64))
    return found[name]


def order_keys(searcher) -> np.ndarray:
    """The relevance tie-break: short titles, then newest (documents.compact)."""
    return _keys(searcher, "order", lambda ranks: ranks)


def newest_keys(searcher) -> np.ndarray:
    """Newest first: the date part of the same column (99,999,999 - YYYYMMDD)."""
    return _keys(searcher, "newest", lambda ranks: ranks % np.uint64(10**8))


def smallest(arr: np.ndarray, keys: np.ndarray, k: int) -> list[int]:
    """The ``k`` documents of ``arr`` with the smallest keys, in key order."""
    if k <= 0:
        return []
    docs = np.flatnonzero(arr)
    if len(docs) > k:
        docs = docs[np.argpartition(keys[docs], k - 1)[:k]]
    return docs[np.argsort(keys[docs])].tolist()


def facet_counts(searcher, fieldname: str, matched: np.ndarray, limit: int = 12) -> list[tuple[str, int]]:
    """The ``limit`` most frequent values of a facet field among ``matched`` (ties by value).
    One gather and one bincount over every (document, value) pair of the field."""
    values, pair_doc, pair_value = _facet_pairs(searcher, fieldname)
    if not values:
        return []
    counts = np.bincount(pair_value[matched[pair_doc]], minlength=len(values))
    present = np.flatnonzero(counts)
    if len(present) > limit:
        threshold = np.partition(counts[present], len(present) - limit)[len(present) - limit]
        present = present[counts[present] >= threshold]
    ranked = sorted(((values[i], int(counts[i])) for i in present), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:limit]


def _facet_pairs(searcher, fieldname: str):
    """(values, document of each pair, value index of each pair) over the whole index."""
    found = cache(searcher)
    key = ("facet", fieldname)
    if key not in found:
        def compute(sub):
            reader = sub.reader()
            values, docs, codes = [], [], []
            if fieldname in reader.schema:
                for value in reader.lexicon(fieldname):
                    ids = posting_ids(reader, fieldname, value)
                    codes.append(np.full(len(ids), len(values), dtype=np.int64))
                    docs.append(ids)
                    values.append(value.decode("utf-8") if isinstance(value, bytes) else value)
            empty = np.zeros(0, dtype=np.int64)
            return values, np.concatenate(docs) if docs else empty, np.concatenate(codes) if codes else empty
        per_segment = [(_per_segment(sub, ("facet", fieldname), compute), offset)
                       for sub, offset in searcher.leaf_searchers()]
        values = sorted({v for (seg_values, _d, _c), _o in per_segment for v in seg_values})
        position = {v: i for i, v in enumerate(values)}
        docs, codes = [], []
        for (seg_values, seg_docs, seg_codes), offset in per_segment:
            if seg_values:
                docs.append(seg_docs + offset)
                codes.append(np.array([position[v] for v in seg_values], dtype=np.int64)[seg_codes])
        empty = np.zeros(0, dtype=np.int64)
        found[key] = (values, np.concatenate(docs) if docs else empty, np.concatenate(codes) if codes else empty)
    return found[key]


KINDS = ("trial", "centre", "guideline", "group", "topic", "post", "event", "blogpost")
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}


def identities(searcher, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kind code, database id, lat, lon) of each document number in ``docs`` (kind -1: unknown).

    What the database re-check and the distance sort need, read from stored fields the first
    time a document is asked about and kept per segment (so a commit costs only its new segment).
    The caller bounds ``docs``: nothing here ever walks a whole index."""
    docs = np.asarray(docs, dtype=np.int64)
    kinds = np.full(len(docs), -1, dtype=np.int8)
    ids = np.zeros(len(docs), dtype=np.int64)
    lats = np.full(len(docs), np.nan)
    lons = np.full(len(docs), np.nan)
    if not len(docs):
        return kinds, ids, lats, lons
    for sub, offset in searcher.leaf_searchers():
        n = sub.reader().doc_count_all()
        inside = (docs >= offset) & (docs < offset + n)
        if not inside.any():
            continue
        local = docs[inside] - offset
        known, seg_kinds, seg_ids, seg_lats, seg_lons = _per_segment(
            sub, ("identities",), lambda s, n=n: (np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int8),
                                                  np.zeros(n, dtype=np.int64), np.full(n, np.nan), np.full(n, np.nan)))
        for d in local[~known[local]].tolist():  # filled in place: the arrays belong to this segment
            fields = sub.stored_fields(d) or {}
            seg_kinds[d] = _KIND_CODE.get(fields.get("kind"), -1)
            try:
                seg_ids[d] = int(fields.get("dbid"))
            except (TypeError, ValueError):
                seg_kinds[d] = -1
            for column, name in ((seg_lats, "lat"), (seg_lons, "lon")):
                value = fields.get(name)
                column[d] = float(value) if isinstance(value, (int, float)) else np.nan
            known[d] = True
        kinds[inside], ids[inside] = seg_kinds[local], seg_ids[local]
        lats[inside], lons[inside] = seg_lats[local], seg_lons[local]
    return kinds, ids, lats, lons

"""Sets of documents as numpy boolean arrays, one slot per document number of a searcher.

Whoosh answers "which documents match" by walking postings in Python, one document at a time:
fine for 20 hits, hundreds of milliseconds for the exact counts, facets and ranking tiers of a
broad query over 100k trials. Here each term's documents are read once per searcher into an
array; after that AND / OR / NOT, counts, facet counts and "the k best by some key" are single
numpy operations over 100k bytes (microseconds). Only positional queries (phrases) still go
through Whoosh, once per searcher, and only when their words occur together at all.

Everything is cached on the searcher (``cache(searcher)``), which lives until the index changes.
"""
from __future__ import annotations

import numpy as np
from whoosh import query as Q

MAX_CACHED_BYTES = 128 * 2**20  # term arrays kept per searcher (1,300 terms at 100k documents)
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
    out = np.zeros(size(searcher), dtype=bool)
    ids = np.fromiter(ids, dtype=np.int64)
    if len(ids):
        out[ids] = True
    return out


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False  # cached arrays are shared: an in-place change would corrupt them
    return arr


def term(searcher, fieldname: str, text) -> np.ndarray:
    """The documents holding one indexed term (deleted ones excluded by Whoosh's reader)."""
    found = cache(searcher)
    key = ("term", fieldname, text)
    arr = found.get(key)
    if arr is None:
        try:
            arr = from_ids(searcher, searcher.reader().postings(fieldname, text).all_ids())
        except Exception:  # TermNotFound, or a field without postings
            arr = np.zeros(size(searcher), dtype=bool)
        used = found.get("term_bytes", 0) + arr.nbytes
        if used > MAX_CACHED_BYTES:
            for old in [k for k in found if isinstance(k, tuple) and k[0] == "term"]:
                del found[old]
            used = arr.nbytes
        found["term_bytes"] = used
        found[key] = arr = _frozen(arr)
    return arr


def every(searcher) -> np.ndarray:
    found = cache(searcher)
    if "every" not in found:
        found["every"] = _frozen(from_ids(searcher, searcher.docs_for_query(Q.Every())))
    return found["every"]


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
        together = match(searcher, Q.And([Q.Term(q.fieldname, w) for w in words])) if words else None
        # Positions are read (by Whoosh, in Python) only when the words occur together at all.
        if together is None or not together.any():
            found[key] = _frozen(np.zeros(size(searcher), dtype=bool))
        else:
            found[key] = _frozen(from_ids(searcher, searcher.docs_for_query(q)))
    return found[key]


def count(arr: np.ndarray) -> int:
    return int(np.count_nonzero(arr))


def _keys(searcher, name: str, values) -> np.ndarray:
    found = cache(searcher)
    if name not in found:
        ranks = np.fromiter(values, dtype=np.uint64, count=size(searcher))
        found[name] = _frozen((ranks << np.uint64(DOC_BITS)) | np.arange(len(ranks), dtype=np.uint64))
    return found[name]


def order_keys(searcher) -> np.ndarray:
    """The relevance tie-break per document (documents.compact: short titles, then newest)."""
    reader = searcher.reader()
    if not reader.has_column("order"):
        return newest_keys(searcher)
    return _keys(searcher, "order", (min(int(v), NO_ORDER) for v in reader.column_reader("order")))


def newest_keys(searcher) -> np.ndarray:
    """Newest first, from the date column (YYYYMMDD; no date = oldest)."""
    dates = searcher.reader().column_reader("date")
    return _keys(searcher, "newest", (99_999_999 - (int(d) if str(d).isdigit() else 0) for d in dates))


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
    found = cache(searcher)
    key = ("facet", fieldname)
    if key not in found:
        reader = searcher.reader()
        values, docs, codes = [], [], []
        if fieldname in reader.schema:
            for value in reader.lexicon(fieldname):
                ids = np.fromiter(reader.postings(fieldname, value).all_ids(), dtype=np.int64)
                codes.append(np.full(len(ids), len(values), dtype=np.int64))
                docs.append(ids)
                values.append(value.decode("utf-8") if isinstance(value, bytes) else value)
        empty = np.zeros(0, dtype=np.int64)
        found[key] = (values, np.concatenate(docs) if docs else empty, np.concatenate(codes) if codes else empty)
    return found[key]

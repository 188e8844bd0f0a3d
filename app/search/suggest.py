"""Prefix suggestions as you type, from the ``phrases`` field: titles, conditions, centre names
and cities. Only the public databases (trials, centres, guidelines) feed that field, so a
suggestion can never carry words from a group's content, whoever asks."""
from __future__ import annotations

import re

from app.search.query import checkout, clean

MIN_PREFIX = 2
SCAN = 400


def _norm(text: str) -> str:
    return re.sub(r"[\s\-_/,]+", " ", text.lower()).lstrip()


def suggest(base: str, qtext, limit: int = 8) -> list[str]:
    text = _norm(clean(qtext)[:100])
    if len(text.strip()) < MIN_PREFIX:
        return []
    with checkout(base) as searcher:
        if searcher is None:
            return []
        found = _complete(searcher, text, limit)
        words = text.split(" ")
        if len(found) < limit and len(words) > 1 and len(words[-1]) >= MIN_PREFIX:
            head = " ".join(words[:-1])
            found += [f"{head} {c}" for c in _complete(searcher, words[-1], limit) if f"{head} {c}" not in found]
        return found[:limit]


def _complete(searcher, prefix: str, limit: int) -> list[str]:
    """Completions of ``prefix``, the most frequent first (bounded scan of the term list)."""
    reader = searcher.reader()
    candidates = []
    for n, term in enumerate(reader.expand_prefix("phrases", prefix)):
        if n >= SCAN:
            break
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        candidates.append((-reader.doc_frequency("phrases", text), len(text), text))
    candidates.sort()
    return [c[2] for c in candidates[:limit]]

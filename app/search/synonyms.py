"""Medical abbreviations, expanded at query time from the curated ``synonyms.txt``.

Expanding queries (not documents) keeps the index unchanged when the list grows, and lets a
term match both its abbreviation and the spelled-out phrase (NSCLC OR "non small cell lung cancer").
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from app.search.schema import ANALYZER

SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")


def _tokens(text: str) -> list[str]:
    return [t.text for t in ANALYZER(text)]


@lru_cache(maxsize=4)
def load(path: str = str(SYNONYMS_FILE)) -> tuple[dict, list]:
    """(stemmed single word -> [token lists of its alternatives]), and [(multi-word form, its
    replacement)] for forms a single query term cannot carry (phrases, "PD-L1")."""
    by_term: dict[str, list[list[str]]] = {}
    rewrites: list[tuple[str, str]] = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if "=" not in line:
            continue
        head, tail = line.split("=", 1)
        alternatives = [head.strip()] + [p.strip() for p in tail.split(";") if p.strip()]
        token_lists = [t for t in (_tokens(a) for a in alternatives) if t]
        for alternative in alternatives:
            norm = normalise(alternative)
            if not norm:
                continue
            if " " not in norm:
                tokens = _tokens(alternative)
                if len(tokens) == 1:
                    entry = by_term.setdefault(tokens[0], [])
                    entry.extend(o for o in token_lists if o != tokens and o not in entry)
            else:
                # A spelled-out phrase reads as its abbreviation; "PD-L1" as its first phrase.
                target = alternatives[0] if alternative != alternatives[0] else alternatives[1]
                rewrites.append((norm, target))
    rewrites.sort(key=lambda p: -len(p[0]))
    return by_term, rewrites


def normalise(text: str) -> str:
    return re.sub(r"[\s\-_/]+", " ", text.lower()).strip()


def alternatives(qtext: str, limit: int = 3) -> list[str]:
    """Other spellings of the whole query: a phrase swapped for its abbreviation or back."""
    _by_term, rewrites = load()
    norm = normalise(qtext)
    found, matched = [], []
    for form, target in rewrites:
        if any(form in longer for longer in matched):
            continue  # "small cell lung cancer" inside "non small cell lung cancer"
        pattern = r"(?<![\w])" + re.escape(form) + r"(?![\w])"
        if re.search(pattern, norm):
            matched.append(form)
            alternative = re.sub(pattern, lambda _m: target, norm, count=1)
            if alternative not in found:
                found.append(alternative)
            if len(found) >= limit:
                break
    return found

"""Deciding when two registry facility names are the same centre.

The same hospital reaches us under many spellings ("Centre Francois Baclesse" / "Centre François
Baclesse", "Hunan cancer hospital" / "The Hunan Cancer Hospital"), and sponsors hide others behind
"Research Site". Both importers (sites CSV and trial locations) use this one module, so a trial
location always links to the centre the directory made of it.

Merging is deliberately conservative: only names in the same city and country are compared, and
every merge carries the rule that justified it so the import report can be reviewed by a person.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Normalisation steps, in order; each is independent of the others' results so that the report can
# say which ones were *needed* for two names to meet.
STEPS = ("case", "accents", "punctuation", "filler words", "abbreviations", "spacing")

ABBREVIATIONS = {
    "univ": "university", "uni": "university", "hosp": "hospital", "ctr": "centre", "cntr": "centre",
    "center": "centre", "inst": "institute", "st": "saint", "ste": "sainte", "dept": "department",
    "natl": "national", "mt": "mount", "gen": "general", "med": "medical",
}
FILLER = {"the", "of"}

# Words that may trail a centre's own name without making it a different place ("Gustave Roussy
# Oncology Institute, Department of Medical Oncology" is still Gustave Roussy).
QUALIFIERS = {
    "department", "division", "unit", "service", "of", "for", "and", "the", "medical", "medicine",
    "clinical", "oncology", "hematology", "haematology", "thoracic", "pulmonology", "pneumology",
    "respiratory", "internal", "irccs", "institute", "research", "a", "b", "1", "2", "3",
}

_SITE_ID = r"(?:[\w-]*\d[\w-]*|x{2,})"  # "0049", "A12", "XXX": a number, not a name
_ANONYMISED = re.compile(
    rf"""^(?:
        (?:[\w.&'-]+\s+){{0,3}}(?:investigational|investigative|research|study|clinical|trial|clinical\ research)\s+site
        (?:\s*[-#:/]?\s*{_SITE_ID})?
      | local\s+institution(?:\s*[-#:]?\s*{_SITE_ID})?
      | site\s*[-#:]?\s*{_SITE_ID}
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_CREDENTIALS = re.compile(
    r",?\s*\b(?:m\.?\s?d\.?|ph\.?\s?d\.?|prof(?:essor)?\.?|dr\.?|msc|mph|mba|rn|bsc|frcp\w*)\b\.?", re.IGNORECASE)
_SEGMENT_SPLIT = re.compile(r"\s+[-–—]\s+|[,;()\[\]]|\s+dba\s+", re.IGNORECASE)


def is_anonymised(facility: str) -> bool:
    """Sponsor-anonymised rows ("Research Site", "Local Institution - 0049") are trial sites but
    not centres anyone can find."""
    name = " ".join((facility or "").split())
    return not name or bool(_ANONYMISED.match(name))


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _tokens(name: str, skip: frozenset | str | None = None) -> list[str]:
    """Apply every step except those in ``skip``; a token list (spacing is applied by key())."""
    skip = frozenset([skip]) if isinstance(skip, str) else (skip or frozenset())
    text = unicodedata.normalize("NFKC", name or "")
    if "case" not in skip:
        text = text.casefold()
    if "accents" not in skip:
        text = _strip_accents(text)
    if "punctuation" not in skip:
        text = text.replace("&", " and ")
        text = re.sub(r"[^\w\s]|_", " ", text)
    tokens = text.split()
    if "filler words" not in skip:
        tokens = [t for t in tokens if t.casefold() not in FILLER]
    if "abbreviations" not in skip:
        tokens = [_expand(t, keep_case="case" in skip) for t in tokens]
    return tokens


def _expand(token: str, keep_case: bool) -> str:
    full = ABBREVIATIONS.get(token.casefold())
    if full is None:
        return token
    return full.capitalize() if keep_case and token[:1].isupper() else full


def _joined(name: str, skip: frozenset | str | None = None) -> str:
    skip = frozenset([skip]) if isinstance(skip, str) else (skip or frozenset())
    tokens = _tokens(name, skip)
    return " ".join(tokens) if "spacing" in skip else "".join(tokens)


def key(name: str) -> str:
    """The natural key of a name: all steps applied (spaces dropped, so "Health care" meets
    "Healthcare")."""
    return _joined(name)


def tokens(name: str) -> list[str]:
    return _tokens(name)


def place_key(text: str) -> str:
    """Cities and states compare the same way as names ("Créteil" / "Creteil")."""
    return key(text)


def steps_needed(a: str, b: str) -> list[str]:
    """Which normalisation steps two equal-keyed names need to meet (for the report)."""
    if key(a) != key(b):
        return []
    single = [step for step in STEPS if _joined(a, skip=step) != _joined(b, skip=step)]
    if single:
        return single
    for i, first in enumerate(STEPS):  # two steps that each cover for the other ("A,B" / "A, B")
        for second in STEPS[i + 1:]:
            if _joined(a, skip=frozenset({first, second})) != _joined(b, skip=frozenset({first, second})):
                return [first, second]
    return ["identical"]


def segments(name: str) -> list[str]:
    """Parts of a name that stand for the place alone: "Netherlands Cancer Institute - Antoni van
    Leeuwenhoek Ziekenhuis (NKI-AVL)" has three."""
    parts = [p for p in _SEGMENT_SPLIT.split(name or "") if p and p.strip()]
    return [k for k in (key(p) for p in parts) if k]


def _meaningful_segment(name_part: str) -> bool:
    toks = _tokens(name_part)
    return (len(toks) >= 2 or len("".join(toks)) >= 5) and not set(toks) <= QUALIFIERS


@dataclass(frozen=True)
class Match:
    rule: str
    detail: str


def same_centre(a: str, b: str, place_words: set[str]) -> Match | None:
    """Are two facility names *in the same city* the same centre? Returns the rule, or None.

    Rules, most certain first:
    1. normalised: equal after case, accents, punctuation, "the"/"of", abbreviations, spacing;
    2. segments: every part of one name is a part of the other ("CHU Toulouse - Hopital Larrey" and
       "Hopital Larrey, CHU Toulouse, Unité d'Oncologie"; "NKI-AVL" and "... (NKI-AVL)");
    3. prefix: one name (at least two words) starts the other, and what follows is only department
       or place words ("Istituto Oncologico Veneto" / "Istituto Oncologico Veneto IRCCS").
    """
    if key(a) == key(b):
        return Match("normalised", ", ".join(steps_needed(a, b)))
    seg_a, seg_b = segments(a), segments(b)
    short, long_, short_name = (seg_a, seg_b, a) if len(seg_a) <= len(seg_b) else (seg_b, seg_a, b)
    if len(short) < len(long_) and set(short) <= set(long_):
        parts = [p for p in _SEGMENT_SPLIT.split(short_name) if p and p.strip()]
        if all(_meaningful_segment(p) for p in parts):
            return Match("segments", "every part of the shorter name is a part of the longer one")
    tok_a, tok_b = _tokens(a), _tokens(b)
    short_t, long_t = (tok_a, tok_b) if len(tok_a) <= len(tok_b) else (tok_b, tok_a)
    if len(short_t) >= 2 and len(short_t) < len(long_t) and long_t[:len(short_t)] == short_t:
        rest = long_t[len(short_t):]
        if all(t in QUALIFIERS or t in place_words for t in rest):
            return Match("prefix", "followed only by department or place words: " + " ".join(rest))
    return None


def person_key(name: str) -> str:
    """An investigator's name without credentials ("Shugeng Gao, MD" -> key of "Shugeng Gao")."""
    return key(_CREDENTIALS.sub(" ", name or ""))


_PARTICLES = {"of", "de", "di", "da", "del", "della", "delle", "dello", "degli", "la", "le", "les", "des", "du",
              "et", "y", "i", "and", "the", "am", "an", "der", "für", "van", "von", "e", "d", "l"}
_SLOPPY = re.compile(r"[,;](?=\S)|[,;:\-]\s*$|\s[,;]")


def display_quality(name: str, trial_count: int = 0) -> tuple:
    """Sort key choosing the name a merged centre keeps: one part (no department tail), not an
    acronym, tidy punctuation and capitals, fewest words, then with its accents, then the name
    most trials use."""
    parts = [p for p in _SEGMENT_SPLIT.split(name) if p and p.strip()]
    letters = [ch for ch in name if ch.isalpha()]
    acronym = len(_tokens(name)) <= 2 and sum(ch.isupper() for ch in letters) >= max(1, len(letters) - 1)
    words = re.findall(r"[^\W\d_]+", name)
    lowercase_words = sum(1 for w in words if w[0].islower() and w.lower() not in _PARTICLES)
    shouting = name == name.upper() and not acronym
    accents = sum(1 for ch in name if ord(ch) > 127 and ch.isalpha())
    return (len(parts) > 1, acronym, name.count('"') % 2, bool(_SLOPPY.search(name)), lowercase_words + shouting,
            len(key(name)), -accents, -trial_count, len(name), name)

"""The one Whoosh schema for every searchable thing, and where its index lives on disk.

Every document carries its access fields (``scope``, ``group_id``) so the search filter never
needs a database look-up; facets are KEYWORD fields of codes (labels are applied when shown).

The live index is ``<SEARCH_INDEX_DIR>/<name>`` where ``name`` is read from the ``CURRENT`` file:
a rebuild writes a sibling directory and swaps ``CURRENT`` with one ``os.replace`` so a crash
half-way leaves the previous index in service.
"""
from __future__ import annotations

import os
from pathlib import Path
from pickle import dumps

from whoosh import columns, index
from whoosh.analysis import StemmingAnalyzer
from whoosh.analysis.acore import Token
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.system import pack_uint

# Community kinds share one search page; the others each have their own.
TYPE_OF_KIND = {"trial": "trial", "centre": "centre", "guideline": "guideline",
                "group": "community", "topic": "community", "post": "community",
                "event": "community", "blogpost": "community"}
TYPES = ("trial", "centre", "guideline", "community")
FACETS = {
    "trial": ("status", "phase", "country", "condition", "itype", "age"),
    "centre": ("country", "ckind", "network"),
    "guideline": ("publisher", "tumour", "year"),
    "community": ("kind", "group_id", "month"),
}
FACET_FIELDS = sorted({f for fields in FACETS.values() for f in fields})


class FastStemmingAnalyzer(CompositeAnalyzer):
    """Whoosh's StemmingAnalyzer (tokenizer, lowercase, stop words, Porter stems) with indexing
    done in one loop instead of four chained generators: the same tokens, positions and
    boosts (tests/test_search_index.py compares them on the test corpora), in about half the
    time. Every other use (queries, character offsets) goes through the chain unchanged.

    The schema, and so this class, is pickled into the index: keep its name and module."""

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        if (mode != "index" or chars or keeporiginal or not removestops or start_pos or not tokenize
                or set(kwargs) - {"boosts"} or not isinstance(value, str)):
            return super().__call__(value, positions=positions, chars=chars, keeporiginal=keeporiginal,
                                    removestops=removestops, start_pos=start_pos, start_char=start_char,
                                    tokenize=tokenize, mode=mode, **kwargs)
        return self._index_tokens(value, positions)

    def _index_tokens(self, value, positions):
        tokenizer, _lowercase, stop, stemmer = self.items
        words, minsize, maxsize, renumber = stop.stops, stop.min, stop.max, stop.renumber
        stems, ignore = _STEMS, stemmer.ignore
        token = Token(positions, False, removestops=True, mode="index")
        token.boost, token.stopped = 1.0, False
        pos = None
        for number, match in enumerate(tokenizer.expression.finditer(value)):
            text = match.group(0).lower()
            if len(text) < minsize or (maxsize is not None and len(text) > maxsize) or text in words:
                continue
            if positions:
                if not renumber:
                    pos = number
                else:
                    pos = number if pos is None else pos + 1
                token.pos = pos
            token.text = text if text in ignore else stems.get(text) or stem_word(text)
            yield token


STEM_CACHE = 200_000  # words; the default 50,000 thrashes on a 100k-trial vocabulary
_STEMS: dict[str, str] = {}  # a plain dict: Whoosh's LFU wrapper cost more than the stemming


def stem_word(text: str) -> str:
    """The analyser's stem of one lower-cased word, kept in the shared cache (indexing, and
    the highlighter, which stems every word of every snippet shown)."""
    found = _STEMS.get(text)
    if found is None:
        found = ANALYZER.items[3].stemfn(text)
        if len(_STEMS) < STEM_CACHE:
            _STEMS[text] = found
    return found


def _analyzer() -> FastStemmingAnalyzer:
    chain = StemmingAnalyzer(cachesize=STEM_CACHE)
    analyzer = FastStemmingAnalyzer()
    analyzer.items = list(chain.items)
    return analyzer


ANALYZER = _analyzer()


class FastPositions(Positions):
    """Whoosh's Positions format with the body's postings built in one pass over the one-loop
    analyser's tokens, without the generator chain around it: the same (word, frequency,
    weight, encoded positions) items (tests/test_search_engine.py compares them), for the field
    that holds four fifths of the postings. Pickled into the index: keep its name and module."""

    def word_values(self, value, analyzer, **kwargs):
        if (not isinstance(analyzer, FastStemmingAnalyzer) or set(kwargs) - {"mode"}
                or kwargs.get("mode") != "index" or not isinstance(value, str)):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        poses: dict[str, list[int]] = {}
        for token in analyzer._index_tokens(value, True):
            found = poses.get(token.text)
            if found is None:
                poses[token.text] = [token.pos]
            else:
                found.append(token.pos)
        boost = self.field_boost
        for word, poslist in poses.items():
            deltas = [poslist[0], *(b - a for a, b in zip(poslist, poslist[1:]))]
            yield word, len(poslist), len(poslist) * boost, pack_uint(len(deltas)) + dumps(deltas, 2)


class Codec(W3Codec):
    """Whoosh's codec without per-posting length statistics: they only serve Whoosh's BM25
    block skipping, which nothing here uses (query.py ranks with its own tiers), and looking
    a length up for every posting was a fifth of the indexing time. Pickled into the index:
    keep its name and module."""
    length_stats = False


def writer(ix, **kwargs):
    """Every index writer of the app: the codec above, plus the caller's options."""
    return ix.writer(codec=Codec(), **kwargs)


def _facet() -> KEYWORD:
    # Codes are matched exactly; no scoring or positions needed for a filter or a count.
    return KEYWORD(commas=True, lowercase=False, scorable=False)


def _body() -> TEXT:
    field = TEXT(analyzer=ANALYZER)  # positions kept: phrase queries
    field.format = FastPositions(field_boost=field.format.field_boost)
    return field


def make_schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),          # "trial:12"
        kind=ID(stored=True),                      # trial centre guideline group topic post
        type=ID(stored=True),                      # trial centre guideline community
        dbid=STORED(),
        ref=STORED(),                              # NCT id, slug or id used in the URL
        scope=ID(),                                # policy.scope_of(obj)
        group_id=ID(stored=True),
        topic=ID(),                                # a topic and its replies, deleted together
        # No positions on the title: phrases are matched in the body, which repeats the title.
        title=TEXT(analyzer=ANALYZER, stored=True, field_boost=3.0, phrase=False),
        body=_body(),
        snippet=STORED(),                          # a short plain-text excerpt to highlight
        # Titles, conditions, names, cities of the PUBLIC databases only: prefix suggestions and
        # the words "did you mean" may propose (so neither can leak a group's content).
        phrases=KEYWORD(commas=True, lowercase=True, scorable=False),
        date=ID(sortable=True),                    # YYYYMMDD, for sorting by date
        # Tie-break order within a relevance tier, smaller first: short titles (what BM25 prefers
        # when the words are in the title), then newest. Missing = last.
        order=COLUMN(columns.NumericColumn("Q", default=2**36)),
        lat=STORED(), lon=STORED(), subtitle=STORED(),
        status=_facet(), phase=_facet(), country=_facet(), condition=_facet(), itype=_facet(),
        age=_facet(), ckind=_facet(), network=_facet(), publisher=_facet(), tumour=_facet(),
        year=_facet(), month=_facet(),
    )


def current_name(base: str) -> str | None:
    try:
        return (Path(base) / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def current_dir(base: str) -> Path | None:
    name = current_name(base)
    return Path(base) / name if name else None


def set_current(base: str, name: str) -> None:
    """The atomic swap: readers and writers see either the old or the new name, never neither."""
    tmp = Path(base) / f"CURRENT.tmp{os.getpid()}"
    tmp.write_text(name)
    os.replace(tmp, Path(base) / "CURRENT")


def open_index(base: str, create: bool = False):
    """The live index, or None when none was built yet (unless ``create``)."""
    path = current_dir(base)
    if path is not None and index.exists_in(str(path)):
        return index.open_dir(str(path))
    if not create:
        return None
    Path(base).mkdir(parents=True, exist_ok=True)
    name = "ix-0"
    (Path(base) / name).mkdir(exist_ok=True)
    ix = index.create_in(str(Path(base) / name), make_schema())
    set_current(base, name)
    return ix

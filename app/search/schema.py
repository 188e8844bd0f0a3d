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

from whoosh import index
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

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

# A large stem cache: the default (50,000 words) thrashes on a 100k-trial vocabulary.
ANALYZER = StemmingAnalyzer(cachesize=200_000)


def _facet() -> KEYWORD:
    # Codes are matched exactly; no scoring or positions needed for a filter or a count.
    return KEYWORD(commas=True, lowercase=False, scorable=False)


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
        body=TEXT(analyzer=ANALYZER),              # positions kept: phrase queries
        snippet=STORED(),                          # a short plain-text excerpt to highlight
        # Titles, conditions, names, cities of the PUBLIC databases only: prefix suggestions and
        # the words "did you mean" may propose (so neither can leak a group's content).
        phrases=KEYWORD(commas=True, lowercase=True, scorable=False),
        date=ID(sortable=True),                    # YYYYMMDD, for sorting by date
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

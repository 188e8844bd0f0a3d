"""The fast paths of the search engine, each against Whoosh's own answer on the same index.

The speed work (app/search/docsets.py, the one-loop analyser, the ranking tiers, the bulk
writer) must not change what is found: counts, facets, phrases and analysed tokens are compared
with what plain Whoosh computes; the ranking rules and pagination are checked on a hand-built
index where the right order is known."""
import json
from pathlib import Path

import numpy as np
import pytest
from whoosh import index
from whoosh.analysis import StemmingAnalyzer

from app.search import docsets, indexer
from app.search.documents import compact, trial_document
from app.search.query import build_query, matched_spans, search
from app.search.schema import ANALYZER, FACETS, make_schema, open_index, set_current

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = frozenset({"public"})


def _texts() -> list[str]:
    records = json.loads((ROOT / "data" / "ctgov_v2_nsclc_studies.json").read_text())[:25]
    texts = [json.dumps(r) for r in records]
    for name in ("blns.txt", "xss_payloadbox.txt"):
        texts += (ROOT / "tests" / "data" / name).read_text(errors="replace").splitlines()
    return texts


def test_the_one_loop_analyser_gives_whoosh_tokens():
    reference = StemmingAnalyzer()
    for options in ({"positions": True}, {"boosts": True}, {}):
        for text in _texts():
            want = [(t.text, getattr(t, "pos", None), t.boost, t.stopped)
                    for t in reference(text, mode="index", **options)]
            got = [(t.text, getattr(t, "pos", None), t.boost, t.stopped)
                   for t in ANALYZER(text, mode="index", **options)]
            assert got == want, text[:80]


def test_the_body_postings_are_whoosh_postings():
    """FastPositions (the body's format) against Whoosh's Positions over the same analyser."""
    from whoosh.formats import Positions
    body = make_schema()["body"]
    reference = Positions(field_boost=body.format.field_boost)
    for text in _texts():
        want = list(reference.word_values(text, ANALYZER, mode="index"))
        assert list(body.format.word_values(text, ANALYZER, mode="index")) == want, text[:80]
        assert [(w.decode(), f, wt, v) for w, f, wt, v in body.index(text)] == want


def test_snippet_marks_fall_on_the_analysed_words():
    for text in _texts():
        tokens = [(t.text, t.startchar, t.endchar) for t in StemmingAnalyzer()(text, chars=True, mode="index")]
        words = {t[0] for t in tokens}
        assert matched_spans(text, words) == [(a, b) for _w, a, b in tokens], text[:80]
        some = set(list(words)[:3])
        assert matched_spans(text, some) == [(a, b) for w, a, b in tokens if w in some]


@pytest.fixture(scope="module")
def trials_index(tmp_path_factory):
    """600 synthetic trials from the real records (bench/search_bench.py's generator)."""
    from bench.search_bench import corpus
    base = tmp_path_factory.mktemp("engine")
    (base / "ix-0").mkdir()
    set_current(str(base), "ix-0")
    ix = index.create_in(str(base / "ix-0"), make_schema())
    writer = indexer.bulk_writer(ix, 600)
    for fields in corpus(600):
        writer.add_document(**trial_document(fields))
    writer.commit()
    return str(base)


QUERIES = ["lung", "lung cancer", '"lung cancer"', '"non small cell"', "nsclc", "egfr OR alk",
           "carcinoma NOT melanoma", "osimertinib (lung OR breast)", "small cell lung cancer", "zzzunknown"]


@pytest.mark.parametrize("qtext", QUERIES)
def test_counts_equal_whoosh(trials_index, qtext):
    ix = open_index(trials_index)
    with ix.searcher() as searcher:
        want = set(searcher.docs_for_query(build_query(qtext)))
    assert search(trials_index, qtext, scopes=PUBLIC)["total"] == len(want)
    filtered = search(trials_index, qtext, scopes=PUBLIC, filters={"status": ["RECRUITING"]})["total"]
    with ix.searcher() as searcher:
        recruiting = set(searcher.reader().postings("status", "RECRUITING").all_ids())
    assert filtered == len(want & recruiting)


@pytest.mark.parametrize("qtext", ["cancer", "lung", '"overall survival"'])
def test_facet_counts_equal_a_count_by_hand(trials_index, qtext):
    found = search(trials_index, qtext, types=("trial",), scopes=PUBLIC)
    ix = open_index(trials_index)
    with ix.searcher() as searcher:
        matched = set(searcher.docs_for_query(build_query(qtext)))
        reader = searcher.reader()
        for name in FACETS["trial"]:
            counts = []
            for value in reader.lexicon(name):
                n = len(matched & set(reader.postings(name, value).all_ids()))
                if n:
                    counts.append((value.decode() if isinstance(value, bytes) else value, n))
            counts.sort(key=lambda kv: (-kv[1], kv[0]))
            assert found["facets"][name] == counts[:12], name


def _hand_index(tmp_path, docs):
    base = tmp_path / "hand"
    (base / "ix-0").mkdir(parents=True)
    set_current(str(base), "ix-0")
    ix = index.create_in(str(base / "ix-0"), make_schema())
    writer = ix.writer()
    for n, (title, body, date) in enumerate(docs):
        writer.add_document(**compact({"key": f"guideline:{n}", "kind": "guideline", "type": "guideline",
                                       "dbid": str(n), "ref": str(n), "scope": "public", "title": title,
                                       "body": f"{title} {body}", "date": date}))
    writer.commit()
    return str(base)


def test_ranking_tiers(tmp_path):
    docs = [
        ("A study of something else", "lung cancer in the body only", "20240101"),  # 0: body only
        ("Cancer care pathways", "lung mentioned in the body", "20240101"),          # 1: common word in title
        ("Lung function", "cancer mentioned in the body", "20240101"),               # 2: rare word in title
        ("Lung cancer screening with a much longer title than the other", "", "20240101"),  # 3: both, long
        ("Lung cancer screening", "", "20200101"),                                   # 4: both, short, old
        ("Lung cancer surgery", "", "20250101"),                                     # 5: both, short, newest
    ] + [(f"Cancer registry {i}", "cancer", "20240101") for i in range(12)]      # make "cancer" common
    base = _hand_index(tmp_path, docs)
    hits = search(base, "lung cancer", scopes=PUBLIC, per_page=6, facets=False)["hits"]
    assert [h["dbid"] for h in hits] == ["5", "4", "3", "2", "1", "0"]
    # Sorting by date ignores the tiers.
    dated = search(base, "lung", scopes=PUBLIC, sort="date", per_page=3, facets=False)["hits"]
    assert [h["dbid"] for h in dated] == ["5", "0", "1"]  # newest; equal dates in index order


def test_pages_do_not_overlap_when_everything_ties(tmp_path):
    base = _hand_index(tmp_path, [("Same title", "same body", "20240101")] * 45)
    seen = []
    for page in (1, 2, 3):
        seen += [h["dbid"] for h in search(base, "same", scopes=PUBLIC, page=page, facets=False)["hits"]]
    assert len(seen) == 45 and len(set(seen)) == 45


def test_the_bulk_writer_uses_every_core_and_loses_nothing(tmp_path, monkeypatch):
    from bench.search_bench import corpus
    monkeypatch.setattr(indexer.os, "cpu_count", lambda: 2)
    records = list(corpus(300, seed=3))
    built = {}
    for name, total in (("multi", 300), ("single", 0)):
        base = tmp_path / name
        (base / "ix-0").mkdir(parents=True)
        set_current(str(base), "ix-0")
        ix = index.create_in(str(base / "ix-0"), make_schema())
        monkeypatch.setattr(indexer, "BULK_PROCS_FROM", 1 if name == "multi" else 10**9)
        writer = indexer.bulk_writer(ix, total)
        assert getattr(writer, "procs", 1) == (2 if name == "multi" else 1)
        for fields in records:
            writer.add_document(**trial_document(fields))
        writer.commit()
        built[name] = str(base)
    for qtext in ("lung cancer", '"non small cell"', "osimertinib", "nsclc"):
        a = search(built["multi"], qtext, scopes=PUBLIC, types=("trial",), per_page=1000)
        b = search(built["single"], qtext, scopes=PUBLIC, types=("trial",), per_page=1000)
        assert a["total"] == b["total"] > 0 and a["facets"] == b["facets"]
        # Equal ranks may come in another order (document numbers differ between segments).
        assert sorted(h["key"] for h in a["hits"]) == sorted(h["key"] for h in b["hits"])


def test_cached_segments_follow_new_and_deleted_documents(trials_index, tmp_path):
    """Arrays cached per segment stay right after commits: a deleted document never comes back,
    a new one (in a new segment) is found, and the old segment's arrays are reused."""
    import shutil
    from bench.search_bench import corpus
    base = tmp_path / "copy"
    shutil.copytree(trials_index, base)
    before = search(str(base), "osimertinib", scopes=PUBLIC, types=("trial",))
    key = before["hits"][0]["key"]
    indexer.write(str(base), {key: None})
    after = search(str(base), "osimertinib", scopes=PUBLIC, types=("trial",))
    assert after["total"] == before["total"] - 1 and key not in {h["key"] for h in after["hits"]}
    assert sum(n for _v, n in after["facets"]["status"]) < sum(n for _v, n in before["facets"]["status"])
    new = dict(next(corpus(1, seed=11)), id=99999, nct_id="NCT99999999", brief_title="Osimertinib wombat study")
    cached = len(docsets._SEGMENTS)
    indexer.write(str(base), {"trial:99999": trial_document(new)})
    found = search(str(base), "osimertinib wombat", scopes=PUBLIC)
    assert [h["key"] for h in found["hits"]] == ["trial:99999"]
    assert search(str(base), "osimertinib", scopes=PUBLIC)["total"] == after["total"] + 1
    assert len(docsets._SEGMENTS) > cached  # the new segment's arrays were added, the old ones kept
    ix = open_index(str(base))
    with ix.searcher() as searcher:
        assert docsets.count(docsets.term(searcher, "body", "osimertinib")) == before["total"]


def test_block_decoded_postings_equal_whoosh_all_ids(trials_index):
    ix = open_index(trials_index)
    with ix.searcher() as searcher:
        checked = 0
        for sub, _offset in searcher.leaf_searchers():
            reader = sub.reader()
            for fieldname in ("body", "title", "status", "condition", "scope", "key"):
                for n, term in enumerate(reader.lexicon(fieldname)):
                    if n % 7:
                        continue  # a sample of every size of posting list
                    want = list(reader.postings(fieldname, term).all_ids())
                    assert docsets.posting_ids(reader, fieldname, term).tolist() == want, (fieldname, term)
                    checked += 1
        assert checked > 300
        assert docsets.posting_ids(searcher.leaf_searchers()[0][0].reader(), "body", "zzznothing").size == 0


def test_positions_are_decoded_as_whoosh_decodes_them():
    """The vectorised decoder against Whoosh's decode_positions, on the fixed layout (deltas
    below 256) and on every other one: larger deltas, huge positions, lists of over 1,000."""
    import random
    from whoosh.formats import Positions
    rng = random.Random(11)
    fmt = Positions()
    lists = [[0], [5], [255], [256], [3, 4, 5], [300, 301, 70_000], [2**31 - 5], list(range(0, 2600, 2)),
             sorted(rng.sample(range(400), 30)), list(range(1200))]
    lists += [sorted(rng.sample(range(rng.choice((200, 5000, 100_000))), rng.randint(1, 40))) for _ in range(300)]
    values = [fmt.encode(positions) for positions in lists]
    values = [v if i % 3 else v[:-1] for i, v in enumerate(values)]  # stored with or without STOP
    docs = np.arange(len(lists), dtype=np.int64) * 7
    got_docs, got_positions = docsets.decode_positions(values, docs)
    want = [(int(d), p) for d, value in zip(docs, values) for p in fmt.decode_positions(value)]
    assert list(zip(got_docs.tolist(), got_positions.tolist())) == want


def test_phrases_match_exactly_what_whoosh_matches(trials_index):
    """Word runs taken from the documents themselves (so they do occur), plus shuffled ones
    (which mostly do not), with Whoosh's adjacency and with the synonym slop of 2."""
    import random
    from whoosh import query as Q
    rng = random.Random(5)
    ix = open_index(trials_index)
    with ix.searcher() as searcher:
        texts = [searcher.stored_fields(d).get("snippet", "") for d in range(0, 600, 9)]
    phrases = []
    for text in texts:
        words = [t.text for t in ANALYZER(text, mode="index")]
        if len(words) > 6:
            start = rng.randrange(len(words) - 4)
            run = words[start:start + rng.choice((2, 3, 4))]
            phrases += [run, list(reversed(run)), run[:1] + run[2:]]
    assert len(phrases) > 60
    matched = 0
    for words in phrases:
        for slop in (1, 2):
            q = Q.Phrase("body", words, slop=slop)
            with ix.searcher() as searcher:
                want = sorted(searcher.docs_for_query(q))
                got = np.flatnonzero(docsets.match(searcher, q)).tolist()
            assert got == want, (words, slop)
            matched += bool(want)
    assert matched > 40

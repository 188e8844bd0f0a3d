"""Search speed: our index and queries against a naive Whoosh baseline, same corpus, one run.

    .venv/bin/python -m bench.search_bench --docs 100000     # make bench (a few minutes)
    .venv/bin/python -m bench.search_bench --docs 2000       # smoke run, seconds

The corpus: the real ClinicalTrials.gov records in data/ as templates (parsed by the app's own
importer), varied in NCT id, title, conditions, site countries, status and phase. Ours: the app's
schema and documents (app/search/documents.py), a multiprocess writer, and the app's query path
(app/search/query.py: one long-lived searcher, cached access filter, our own snippets). Naive:
a default schema (StandardAnalyzer TEXT fields, stored), one ``ix.searcher()`` per query,
``search(limit=20)`` and ``hit.highlights()`` on each hit.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from whoosh import index  # noqa: E402
from whoosh.fields import ID, KEYWORD, TEXT, Schema  # noqa: E402
from whoosh.qparser import QueryParser  # noqa: E402
from whoosh import query as Q  # noqa: E402

from app.search import query as ours  # noqa: E402
from app.search.documents import trial_document  # noqa: E402
from app.search.indexer import bulk_writer  # noqa: E402
from app.search.schema import make_schema, set_current  # noqa: E402

COUNTRIES = ["FR", "DE", "IT", "ES", "NL", "BE", "PL", "SE", "US", "CN", "GB", "AT", "CZ", "PT", "IE", "DK"]
STATUSES = ["RECRUITING", "COMPLETED", "ACTIVE_NOT_RECRUITING", "NOT_YET_RECRUITING", "TERMINATED", "UNKNOWN"]
PHASES = ["PHASE1", "PHASE2", "PHASE3", "PHASE2|PHASE3", "PHASE4", "NA", ""]
DRUGS = ["osimertinib", "pembrolizumab", "nivolumab", "durvalumab", "atezolizumab", "alectinib", "lorlatinib",
         "carboplatin", "pemetrexed", "docetaxel", "sotorasib", "amivantamab", "brigatinib", "savolitinib"]
CONDITIONS = ["Non-Small Cell Lung Cancer", "Small Cell Lung Cancer", "Breast Cancer", "Colorectal Cancer",
              "Melanoma", "Mesothelioma", "Prostate Cancer", "Lymphoma", "Ovarian Cancer", "Glioblastoma"]
SINGLE = ["osimertinib", "pembrolizumab", "melanoma", "carboplatin", "mesothelioma", "radiotherapy", "biomarker",
          "glioblastoma", "nivolumab", "docetaxel"]
TWO = ["lung cancer", "egfr mutation", "breast cancer", "advanced carcinoma", "nivolumab melanoma",
       "chemotherapy survival", "metastatic prostate", "pembrolizumab lung", "stage iv", "docetaxel lung"]
PHRASES = ['"non small cell"', '"lung cancer"', '"breast cancer"', '"overall survival"', '"small cell lung cancer"',
           '"phase 3"', '"metastatic colorectal"', '"progression free survival"']
FILTERED = [("cancer", {"status": ["RECRUITING"], "country": ["FR"]}), ("lung", {"phase": ["PHASE3"]}),
            ("osimertinib", {"country": ["DE"]}), ("carcinoma", {"status": ["COMPLETED"]}),
            ("melanoma", {"country": ["IT"], "status": ["RECRUITING"]})]


def templates() -> list[dict]:
    from app.trials.importer import parse_study
    records = json.loads((ROOT / "data" / "ctgov_v2_nsclc_studies.json").read_text())
    out = []
    for record in records:
        fields, sites = parse_study(record)
        fields["sites"] = sites[:20]
        out.append(fields)
    return out


def corpus(n: int, seed: int = 7):
    """Yield ``n`` varied trial field dicts (deterministic for a seed)."""
    from app.trials.models import STATUS_LABELS, phase_label
    base = templates()
    rng = random.Random(seed)
    for i in range(n):
        t = base[i % len(base)]
        drug = rng.choice(DRUGS)
        conditions = list(t["conditions"][:3])
        if rng.random() < 0.6:
            conditions.append(rng.choice(CONDITIONS))
        countries = rng.sample(COUNTRIES, rng.randint(1, 4))
        sites = [{"facility": "", "city": s.get("city", ""), "country": s.get("country", ""),
                  "country_code": countries[k % len(countries)]} for k, s in enumerate(t["sites"][:8])] or \
                [{"facility": "", "city": "", "country": "", "country_code": c} for c in countries]
        status, phases = rng.choice(STATUSES), rng.choice(PHASES)
        yield dict(
            id=i + 1, nct_id=f"NCT{10000000 + i:08d}", brief_title=f"{t['brief_title']} with {drug}",
            official_title=t["official_title"], acronym=t["acronym"], conditions=conditions,
            interventions=list(t["interventions"]) + [{"name": drug, "type": "DRUG"}], keywords=t["keywords"],
            brief_summary=t["brief_summary"], sponsor=t["sponsor"], sites=sites, status=status,
            phases=phases, std_ages=t["std_ages"], date=f"20{rng.randint(10, 25)}{rng.randint(1, 12):02d}15",
            status_label=STATUS_LABELS.get(status, status), phase_label=phase_label(phases))


def naive_doc(f: dict) -> dict:
    doc = trial_document(f)
    return {"id": doc["dbid"], "title": doc["title"], "body": doc["body"], "status": f["status"],
            "phase": f["phases"], "country": doc["country"]}


def build_ours(path: Path, records: list) -> tuple[float, int]:
    """Timed: the app's document builder and the writer (the synthetic records exist already,
    as rows would in the database)."""
    (path / "ix-0").mkdir(parents=True)
    set_current(str(path), "ix-0")
    ix = index.create_in(str(path / "ix-0"), make_schema())
    start = time.perf_counter()
    writer = bulk_writer(ix, len(records))
    for fields in records:
        writer.add_document(**trial_document(fields))
    writer.commit()
    return time.perf_counter() - start, getattr(writer, "procs", 1)


def build_naive(path: Path, records: list) -> float:
    schema = Schema(id=ID(stored=True), title=TEXT(stored=True), body=TEXT(stored=True),
                    status=ID(stored=True), phase=ID(stored=True), country=KEYWORD(stored=True, commas=True))
    path.mkdir(parents=True)
    ix = index.create_in(str(path), schema)
    start = time.perf_counter()
    writer = ix.writer()
    for fields in records:
        writer.add_document(**naive_doc(fields))
    writer.commit()
    return time.perf_counter() - start


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def timed(fn, items, rounds):
    times = []
    for _ in range(rounds):
        for item in items:
            start = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - start)
    return times


def run_ours(base: str, facets: bool):
    scopes = frozenset({"public"})

    def one(item):
        text, filters = item if isinstance(item, tuple) else (item, {})
        return ours.search(base, text, types=("trial",), scopes=scopes, filters=filters, facets=facets,
                           spelling=False)
    return one


def run_naive(path: str):
    ix = index.open_dir(path)
    parser = QueryParser("body", ix.schema)

    def one(item):
        text, filters = item if isinstance(item, tuple) else (item, {})
        with ix.searcher() as searcher:
            flt = Q.And([Q.Term(k, v) for k, vals in filters.items() for v in vals]) if filters else None
            results = searcher.search(parser.parse(text), limit=20, filter=flt)
            for hit in results:
                hit.highlights("body")
            return len(results)
    return one


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--naive-docs", type=int, default=None,
                        help="index fewer documents for the naive baseline (default: the same number)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        n_naive = args.naive_docs or args.docs
        records = list(corpus(args.docs))
        ours_s, procs = build_ours(work / "ours", records)
        print(f"index  ours : {args.docs} docs in {ours_s:.1f} s ({args.docs / ours_s:.0f} docs/s, procs={procs})")
        naive_s = build_naive(work / "naive", records[:n_naive])
        del records
        print(f"index  naive: {n_naive} docs in {naive_s:.1f} s ({n_naive / naive_s:.0f} docs/s)")
        base = str(work / "ours")
        runs = {"single term": SINGLE, "two-term AND": TWO, "phrase": PHRASES, "term + facet filter": FILTERED}
        ours_plain, ours_page, naive = run_ours(base, False), run_ours(base, True), run_naive(str(work / "naive"))
        cold = {}
        for label, fn in (("ours", ours_plain), ("+facets", ours_page), ("naive", naive)):
            # The first pass is the cold figure (empty caches); then the caches are warm, the
            # way a running server's are for the queries people repeat.
            cold[label] = {name: timed(fn, items, 1) for name, items in runs.items()}
        print(f"\n{'COLD query (ms)':22} {'ours p50':>9} {'ours p95':>9} {'naive p50':>10} {'naive p95':>10}")
        for name in runs:
            a, c = cold["ours"][name], cold["naive"][name]
            print(f"{name:22} {pct(a, 50):9.1f} {pct(a, 95):9.1f} {pct(c, 50):10.1f} {pct(c, 95):10.1f}")
        print(f"\n{'WARM query (ms)':22} {'ours p50':>9} {'ours p95':>9} {'+facets p95':>12} {'naive p50':>10} {'naive p95':>10} {'x p95':>6}")
        for name, items in runs.items():
            a = timed(ours_plain, items, args.rounds)
            b = timed(ours_page, items, args.rounds)
            c = timed(naive, items, args.rounds)
            print(f"{name:22} {pct(a, 50):9.1f} {pct(a, 95):9.1f} {pct(b, 95):12.1f} {pct(c, 50):10.1f} "
                  f"{pct(c, 95):10.1f} {pct(c, 95) / max(pct(a, 95), 0.001):6.1f}")
        # A live site commits all the time (every reply re-indexes its topic): the first query
        # after a commit runs on a new searcher. Only the new segment is read; the arrays of the
        # big segments are reused (app/search/docsets.py).
        from app.search.indexer import write
        extra = next(corpus(1, seed=99))
        write(base, {"trial:999999999": trial_document(dict(extra, id=999999999, nct_id="NCT99999999"))})
        after = {name: timed(ours_page, items, 1) for name, items in runs.items()}
        print(f"\n{'AFTER ONE COMMIT (ms)':22} {'ours p50':>9} {'ours p95':>9}   (first run of each query, with facets)")
        for name in runs:
            print(f"{name:22} {pct(after[name], 50):9.1f} {pct(after[name], 95):9.1f}")
        print("\nours = app/search/query.py search(): 20 hits with escaped <mark> snippets, access filter;"
              " +facets = also the six trial facets with counts (a whole search page's data).")
        print(f"total bench time {time.perf_counter() - START:.0f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


START = time.perf_counter()

if __name__ == "__main__":
    raise SystemExit(main())

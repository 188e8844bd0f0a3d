"""Data for the directory, trial and guideline tests (no tests here): the project's real data/
files, parsed once per run and imported into each test's fresh app. HTTP helpers are in
tests/factories.py."""
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
TRIALS_FILE = DATA / "ctgov_v2_nsclc_studies.json"
SITES_FILE = DATA / "oncology_trial_sites.csv"
GUIDELINES_FILE = DATA / "nccn_guidelines_index.csv"
_cache: dict = {}


def studies() -> list:
    """The parsed trial file, read once per run (each test still imports into its own database)."""
    if "studies" not in _cache:
        _cache["studies"] = json.loads(TRIALS_FILE.read_bytes())
    return _cache["studies"]


def sites_text() -> str:
    if "sites" not in _cache:
        _cache["sites"] = SITES_FILE.read_text(encoding="utf-8")
    return _cache["sites"]


def load_all(app, guidelines: bool = True) -> dict:
    """Import trials, then sites, then guidelines, as the demo does; return the reports."""
    from app.directory.importer import import_sites
    from app.guidelines.importer import import_guidelines
    from app.trials.importer import import_trials
    with app.app_context():
        reports = {"trials": import_trials(studies()), "sites": import_sites(sites_text())}
        if guidelines:
            reports["guidelines"] = import_guidelines(GUIDELINES_FILE.read_text(encoding="utf-8"))
    return reports

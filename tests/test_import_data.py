"""The three importers on the project's real data/ files: counts, the merge report, sites that are
not centres, idempotence, malformed records, the CLI interface and the demo loader."""
import copy
import json

from sqlalchemy import func, select

from app.directory.models import Centre
from app.extensions import db
from app.guidelines.models import Guideline
from app.trials.models import Trial, TrialSite
from tests.factories import text
from tests.test_import_support import GUIDELINES_FILE, SITES_FILE, TRIALS_FILE, load_all, studies


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_real_files_import_with_counts_and_a_merge_report(app):
    reports = load_all(app)
    trials, sites, guidelines = reports["trials"], reports["sites"], reports["guidelines"]
    assert (len(trials.added), len(trials.updated), trials.unchanged, trials.rejected) == (100, 0, 0, [])
    assert trials.sites == 959
    assert sites.rows == 848 and sites.rejected == []
    assert sites.anonymised == 363  # 355 "Research Site" + 8 "Local Institution - 00xx"
    assert len(sites.persons) == 7  # sites the registry names after an investigator
    assert sites.centres == sites.added == 448
    assert len(sites.merges) == 848 - 363 - 7 - 448 == 30
    for kept, merged, rule in sites.merges:  # every merge says which rule joined the names
        assert kept and merged and rule.split(":")[0] in ("normalised", "segments", "prefix"), rule
    merges = {(kept.split(" [")[0], merged): rule for kept, merged, rule in sites.merges}
    assert merges[("Centre François Baclesse", "Centre Francois Baclesse")] == "normalised: accents"
    assert merges[("Hunan Cancer Hospital", "The Hunan Cancer Hospital")] == "normalised: filler words"
    assert merges[("Hunan Cancer Hospital", "Hunan cancer hospital")] == "normalised: case"
    assert merges[("Pius Hospital Oldenburg", "Pius-Hospital Oldenburg")] == "normalised: punctuation"
    assert merges[("Gustave Roussy", "Gustave Roussy Oncology Institute, Department of Medical Oncology")] \
        .startswith("prefix: followed only by department or place words")
    assert merges[("The Netherlands Cancer Institute", "NKI-AVL")].startswith("segments")
    assert guidelines.added == 68 and guidelines.rejected == []
    with app.app_context():
        assert _count(Trial) == 100 and _count(Guideline) == 68 and _count(Centre) == 448
        assert _count(Centre, Centre.name == "Research Site") == 0
        assert _count(Centre, Centre.name.like("Local Institution%")) == 0
        assert _count(Centre, Centre.name == "Shugeng Gao") == 0
        # Anonymised rows stay trial sites, linked to no centre.
        anonymous = _count(TrialSite, TrialSite.facility == "Research Site")
        assert anonymous >= 355 and _count(TrialSite, TrialSite.facility == "Research Site",
                                           TrialSite.centre_id.is_not(None)) == 0
        roussy = db.session.scalar(select(Centre).where(Centre.name == "Gustave Roussy"))
        assert roussy.country == "FR" and roussy.city == "Villejuif" and roussy.trial_count == 3
        assert roussy.aliases == ["Gustave Roussy Oncology Institute, Department of Medical Oncology"]
        assert _count(TrialSite, TrialSite.centre_id == roussy.id) == 3
        # Every site that is neither anonymised nor named after a person found its centre.
        assert _count(TrialSite, TrialSite.centre_id.is_not(None)) == 522
        unlinked = db.session.scalars(select(TrialSite.facility).where(TrialSite.centre_id.is_(None))).all()
        from app.directory.matching import is_anonymised
        assert sorted(f for f in unlinked if not is_anonymised(f)) == sorted(
            ["Shugeng Gao", "Xiaomin Niu", "Xiaomin Niu", "Junfeng Liu", "lejie Cao", "Jing Wang", "Zhuang Yu",
             "Jianya Zhou"])
        codes = set(db.session.scalars(select(Centre.country).distinct()))
        assert None not in codes and {"FR", "TR", "IL", "CZ", "KR", "US"} <= codes


def test_second_run_changes_nothing(app):
    load_all(app)
    again = load_all(app)
    assert (len(again["trials"].added), len(again["trials"].updated), again["trials"].unchanged) == (0, 0, 100)
    assert (again["sites"].added, again["sites"].updated, again["sites"].unchanged) == (0, 0, 448)
    assert again["sites"].linked_sites == 0
    assert (again["guidelines"].added, again["guidelines"].updated, again["guidelines"].unchanged) == (0, 0, 68)
    with app.app_context():
        assert _count(Centre) == 448 and _count(Trial) == 100 and _count(TrialSite) == 959


def test_sites_before_trials_links_later_and_keeps_corrections(app):
    """Either order links every site; a moderator's correction survives a re-import."""
    from app.directory.importer import import_sites
    from app.trials.importer import import_trials
    from tests.test_import_support import sites_text
    with app.app_context():
        first = import_sites(sites_text())
        assert not first.trials_known and first.added == 455  # investigators not recognisable yet
        roussy = db.session.scalar(select(Centre).where(Centre.name == "Gustave Roussy"))
        roussy.website, roussy.lat = "https://www.gustaveroussy.fr", 48.79
        db.session.commit()
        report = import_trials(studies())
        assert report.sites_linked > 500
        import_sites(sites_text())
        roussy = db.session.scalar(select(Centre).where(Centre.name == "Gustave Roussy"))
        assert (roussy.website, roussy.lat) == ("https://www.gustaveroussy.fr", 48.79)
        assert _count(TrialSite, TrialSite.centre_id == roussy.id) == 3


def test_malformed_trial_records_are_rejected_alone(app, tmp_path):
    from app.trials.importer import import_trials
    good = copy.deepcopy(studies()[:3])
    no_id = copy.deepcopy(studies()[3])
    del no_id["protocolSection"]["identificationModule"]["nctId"]
    bad_id = copy.deepcopy(studies()[4])
    bad_id["protocolSection"]["identificationModule"]["nctId"] = "NCT123"
    wrong_type = copy.deepcopy(studies()[5])
    wrong_type["protocolSection"]["conditionsModule"]["conditions"] = "lung cancer"
    bad_geo = copy.deepcopy(studies()[6])
    bad_geo["protocolSection"]["contactsLocationsModule"]["locations"] = [{"facility": "X", "geoPoint": {"lat": "north"}}]
    nul = copy.deepcopy(studies()[7])
    nul["protocolSection"]["identificationModule"]["briefTitle"] = "Trial\x00"
    duplicate = copy.deepcopy(studies()[0])
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps({"studies": good + [no_id, bad_id, "not an object", 42, None, wrong_type,
                                                   bad_geo, nul, duplicate, {"protocolSection": []}]}))
    with app.app_context():
        report = import_trials(path)
        assert len(report.added) == 3 and _count(Trial) == 3
        reasons = [reason for _, _, reason in report.rejected]
        assert len(reasons) == 10
        assert "identificationModule.nctId is missing" in reasons[0]
        assert "not an NCT id" in reasons[1]
        assert "record is not an object (got str)" in reasons[2] and "(got int)" in reasons[3]
        assert "(got NoneType)" in reasons[4]
        assert "conditionsModule.conditions: expected list[string], got str" in reasons[5]
        assert "locations[0].geoPoint.lat: not a coordinate" in reasons[6]
        assert "NUL" in reasons[7] and "duplicate" in reasons[8] and "protocolSection" in reasons[9]
        assert [nct for _, nct, _ in report.rejected][1] == "NCT123"


def test_whole_file_errors_are_reported_not_raised(app, tmp_path):
    from app.trials.importer import ImportFailure, import_trials
    for content in ("{not json", '{"items": []}', '"studies"'):
        path = tmp_path / "bad.json"
        path.write_text(content)
        with app.app_context():
            try:
                import_trials(path)
            except ImportFailure as exc:
                assert str(exc)
            else:
                raise AssertionError(content)


def test_bad_csv_rows_are_rejected_with_reasons(app):
    from app.directory.importer import import_sites
    from app.guidelines.importer import import_guidelines
    header = "facility,city,state,zip,country,in_europe,lat,lon,trial_count,nct_ids\n"
    rows = ("Hospital A,Lyon,,,France,yes,45.7,4.8,1,NCT00000001\n"
            ",Lyon,,,France,yes,,,1,NCT00000001\n"
            "Hospital B,Lyon,,,Atlantis,yes,,,1,NCT00000001\n"
            "Hospital C,Lyon,,,France,yes,abc,4.8,1,NCT00000001\n"
            "Hospital D,Lyon,,,France,yes,45.7,,1,NCT00000001\n"
            "Hospital E,Lyon,,,France,yes,,,1,not-an-id\n")
    with app.app_context():
        report = import_sites(header + rows)
        assert report.added == 1 and len(report.rejected) == 5
        assert [r for _, r in report.rejected] == [
            "facility is empty", "unknown country 'Atlantis' (add it to app/directory/countries.py)",
            "lat is not a number: 'abc'", "lat and lon must both be given or both be empty", "not NCT ids: not-an-id"]
        assert import_sites("facility,city\nX,Y\n").rejected[0][1].startswith("missing columns")
        g = import_guidelines("nccn_id,title,version,version_year,category,url\n"
                              "1,Breast,1.2025,2025,Cat,https://www.nccn.org/x\n"
                              "2,Lung,1.2025,2025,Cat,javascript:alert(1)\n"
                              "3,,1.2025,2025,Cat,https://www.nccn.org/y\n")
        assert g.added == 1 and [r for _, r in g.rejected] == [
            "url is not an http(s) link: 'javascript:alert(1)'", "title is empty"]


def test_cli_import_commands(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import", "trials", str(TRIALS_FILE)])
    assert result.exit_code == 0, result.output
    assert "100 records read; 100 added, 0 updated, 0 unchanged, 0 rejected." in result.output
    result = runner.invoke(args=["import", "sites", str(SITES_FILE)])
    assert result.exit_code == 0, result.output
    assert "Centres: 448 from this file after 30 merges (448 added" in result.output
    assert "Gustave Roussy [Villejuif, FR] <- Gustave Roussy Oncology Institute" in result.output
    result = runner.invoke(args=["import", "guidelines", str(GUIDELINES_FILE)])
    assert result.exit_code == 0 and "68 rows read; 68 added" in result.output
    again = runner.invoke(args=["import", "trials", str(TRIALS_FILE)])
    assert "0 added, 0 updated, 100 unchanged" in again.output
    missing = runner.invoke(args=["import", "trials", "/nonexistent.json"])
    assert missing.exit_code != 0


def test_demo_load_imports_data_idempotently(app):
    from app.demo import load_demo
    with app.app_context():
        first = next(line for line in load_demo() if line.startswith("data "))
        assert first.startswith("data      trials +100 ~0 =0; centres +448 ~0 =0 (30 names merged); guidelines +68")
        second = next(line for line in load_demo() if line.startswith("data "))
        assert "trials +0 ~0 =100; centres +0 ~0 =448" in second and "guidelines +0 ~0 =68" in second
        assert _count(Centre) == 448


def test_no_page_reads_outside_the_project(app):
    """data/ is the project's own copy, documented with sources and licences."""
    readme = (TRIALS_FILE.parent / "README.md").read_text(encoding="utf-8")
    for name in ("ctgov_v2_nsclc_studies.json", "oncology_trial_sites.csv", "nccn_guidelines_index.csv",
                 "01845dcffc43f18812259c517347840a14fbacdc", "fae69a4ce5b07153fd4f69cb7bc637ca3c472bc1", "Licence"):
        assert name in readme
    assert text(app.test_client().get("/trials")).count("Source:") == 1

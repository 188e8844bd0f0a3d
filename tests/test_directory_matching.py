"""The name matcher behind centre merging and trial-site linking: what it merges, what it must
not merge, and which rows are not centres at all."""
import csv

import pytest

from app.directory import matching
from app.directory.countries import code_for, in_europe, name_for
from tests.test_import_support import SITES_FILE


@pytest.mark.parametrize("a, b, steps", [
    ("Centre Francois Baclesse", "Centre François Baclesse", ["accents"]),
    ("Hunan cancer hospital", "Hunan Cancer Hospital", ["case"]),
    ("The Ohio State University", "Ohio State University", ["filler words"]),
    ("Pius-Hospital Oldenburg", "Pius Hospital Oldenburg", ["punctuation"]),
    ("Univ Hosp Ctr of Nantes", "University Hospital Center Nantes", ["filler words", "abbreviations"]),
    ("St. Luc Hosp", "Saint Luc Hospital", ["punctuation", "abbreviations"]),
    ("Sichuan Cancer Hospital & Institute", "Sichuan Cancer Hospital and Institute", ["punctuation"]),
    ("Rambam Healthcare Campus", "Rambam Health care Campus", ["spacing"]),
])
def test_normalised_names_meet_and_say_why(a, b, steps):
    assert matching.key(a) == matching.key(b)
    assert matching.steps_needed(a, b) == steps
    assert matching.same_centre(a, b, set()).rule == "normalised"


def test_segment_and_prefix_rules():
    place = {"villejuif", "france", "singapore"}
    match = matching.same_centre("Gustave Roussy", "Gustave Roussy Oncology Institute, Department of Medical Oncology", place)
    assert match.rule == "prefix"
    assert matching.same_centre("National University Hospital", "National University Hospital Singapore", place).rule == "prefix"
    assert matching.same_centre("NKI-AVL", "Netherlands Cancer Institute - Antoni van Leeuwenhoek Ziekenhuis (NKI-AVL)",
                                set()).rule == "segments"
    assert matching.same_centre("CHU Toulouse - Hopital Larrey",
                                "Hopital Larrey, CHU Toulouse, Unité d'Oncologie des Voies Respiratoires", set()).rule == "segments"


@pytest.mark.parametrize("a, b", [
    ("Jiangsu Province Hospital", "Jiangsu Province Hospital of Chinese Medicine"),  # another hospital
    ("Kaiser Permanente Medical Center", "Kaiser Permanente Vallejo Medical Center"),
    ("Istituto Nazionale Tumori \"Regina Elena\"", "Istituto Tumori Regina Elena"),
    ("Sun Yat-sen University Cancer Center", "Sun Yet-sen University Cancer Center"),  # a typo is not a rule
    ("Hospital", "Hospital Clinic Barcelona"),  # one word never prefixes
    ("Department of Medical Oncology", "Hospital X, Department of Medical Oncology"),  # a department alone
    ("Fujian Cancer Hospital", "Fujian Provincial Cancer Hospital"),
])
def test_conservative_no_merge(a, b):
    assert matching.same_centre(a, b, {"barcelona", "spain"}) is None


@pytest.mark.parametrize("name, anonymised", [
    ("Research Site", True), ("Local Institution - 0049", True), ("Site 123", True), ("Site XXX", True),
    ("Investigational Site", True), ("GSK Investigational Site", True), ("Novartis Investigative Site", True),
    ("Clinical Research Site 12", True), ("", True),
    ("Gustave Roussy", False), ("Site Hospitalier de Rangueil", False), ("Research Institute of Oncology", False),
    ("The Research Institute of the McGill University", False), ("Hospital Research Site Building", False),
])
def test_anonymised_sites(name, anonymised):
    assert matching.is_anonymised(name) is anonymised


def test_person_names_without_credentials():
    assert matching.person_key("Shugeng Gao, MD") == matching.key("Shugeng Gao")
    assert matching.person_key("Junfeng Liu, Professor") == matching.key("Junfeng Liu")
    assert matching.person_key("Frank Weinberg, MD, PhD") == matching.key("frank weinberg")


def test_every_country_in_the_data_has_an_iso_code():
    with open(SITES_FILE, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        code = code_for(row["country"])
        assert code and len(code) == 2, row["country"]
        assert in_europe(code) == (row["in_europe"] == "yes"), row["country"]
    assert code_for("Turkey (Türkiye)") == "TR" and name_for("TR") == "Türkiye"
    assert code_for("Korea, Republic of") == "KR" and code_for("czech republic") == "CZ"
    assert code_for("Atlantis") is None and code_for("") is None


def test_kept_name_is_the_tidy_one():
    names = ["Hunan cancer hospital", "The Hunan Cancer Hospital", "Hunan Cancer hospital", "Hunan Cancer Hospital"]
    assert min(names, key=matching.display_quality) == "Hunan Cancer Hospital"
    assert min(["Centre Francois Baclesse", "Centre François Baclesse"], key=matching.display_quality) == \
        "Centre François Baclesse"
    assert min(["NKI-AVL", "The Netherlands Cancer Institute"], key=matching.display_quality) == \
        "The Netherlands Cancer Institute"

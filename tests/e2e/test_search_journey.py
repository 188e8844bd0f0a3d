"""Search journeys in a real browser over the real data/ files, axe on every page.

The issue's journey ends at a recruiting phase 3 trial with a French site, and the real data has
none (its French sites are in phase 2 trials and observational studies). So the fixture also
imports one obviously synthetic record, tests/data/ctgov_synthetic_phase3_france.json (NCT99000001,
sites at Gustave Roussy, Villejuif, and Centre Léon Bérard, Lyon), through the app's own trial
importer, the code behind ``flask import trials FILE``."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

SYNTHETIC_TRIALS = Path(__file__).resolve().parents[1] / "data" / "ctgov_synthetic_phase3_france.json"
SYNTHETIC_NCT = "NCT99000001"


@pytest.fixture
def data_server(live_server):
    app = live_server.app
    with app.app_context():
        from app.demo import load_public_data
        from app.search.indexer import rebuild
        from app.trials.importer import import_trials
        load_public_data()
        # After the directory exists, so the synthetic record's sites link to its centres on import.
        report = import_trials(SYNTHETIC_TRIALS)
        assert report.added == [SYNTHETIC_NCT] and not report.rejected, report.lines()
        assert report.sites_linked == report.sites == 2, report.lines()
        rebuild(app.config["SEARCH_INDEX_DIR"])
    return live_server


def test_visitor_finds_a_trial_and_its_centre(data_server, new_page, axe):
    base = data_server.url
    page = new_page()
    page.goto(base + "/")
    axe(page)
    box = page.locator("#header-q")
    box.click()
    box.press_sequentially("non small cell lung", delay=20)
    option = page.locator("#header-suggestions [role=option]", has_text="non small cell lung cancer").first
    expect(option).to_be_visible()
    axe(page)
    option.click()
    page.wait_for_url(re.compile(r"/search\?q=non\+small\+cell\+lung\+cancer"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    axe(page)

    page.locator(".search-types").get_by_role("link", name="Trials").click()
    page.wait_for_url(re.compile(r"/search/trials"))
    axe(page)
    for facet, value, arg in (("Status", "Recruiting", "status=RECRUITING"), ("Phase", "Phase 3", "phase=PHASE3"),
                              ("Country", "France", "country=FR")):
        section = page.locator(".facet", has=page.get_by_role("heading", name=facet, exact=True))
        section.get_by_role("link", name=value, exact=True).click()
        page.wait_for_url(re.compile(arg))
    for arg in (r"q=non\+small\+cell\+lung\+cancer", "status=RECRUITING", "phase=PHASE3", "country=FR"):
        expect(page).to_have_url(re.compile(arg))
    axe(page)
    hits = page.locator(".search-hit-title")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text("Synthetic test record")
    hits.first.click()
    page.wait_for_url(re.compile(rf"/trials/{SYNTHETIC_NCT}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Synthetic test record")
    axe(page)
    locations = page.locator("section[aria-labelledby=locations-heading]")
    locations.get_by_role("link", name="Gustave Roussy", exact=True).click()
    page.wait_for_url(re.compile(r"/centres/gustave-roussy-villejuif$"))
    trials = page.locator("section[aria-labelledby=trials-heading]")
    expect(trials.get_by_role("heading", name="Clinical trials at this centre")).to_be_visible()
    expect(trials).to_contain_text(SYNTHETIC_NCT)
    expect(trials.get_by_role("link", name=re.compile("^Synthetic test record"))).to_have_attribute(
        "href", f"/trials/{SYNTHETIC_NCT}")
    axe(page)


def test_patient_searches_nsclc_villejuif(data_server, new_page, axe):
    base = data_server.url
    page = new_page()
    page.goto(base + "/search")
    axe(page)
    page.locator("#search-q").fill("nsclc Villejuif")
    page.locator("#search-q").press("Enter")
    page.wait_for_url(re.compile(r"q=nsclc\+Villejuif"))
    axe(page)
    centre = page.locator(".search-hit-centre a", has_text="Gustave Roussy")
    expect(centre).to_be_visible()
    expect(page.locator(".search-hit-trial").first).to_be_visible()
    centre.click()
    page.wait_for_url(re.compile(r"/centres/gustave-roussy-villejuif$"))
    expect(page.locator("body")).to_contain_text("NCT")
    axe(page)


def test_search_works_without_javascript(data_server, new_page):
    page = new_page(javascript=False)
    page.goto(data_server.url + "/search")
    page.locator("#search-q").fill("osimertinib")
    page.locator("form.search-form button[type=submit]").click()
    expect(page.locator(".search-hit").first).to_be_visible()
    expect(page.locator("#search-count")).to_contain_text("result")

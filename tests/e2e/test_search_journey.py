"""Search journeys in a real browser over the real data/ files, axe on every page.

The data has no recruiting phase 3 trial with a French site (checked: the French sites are in
phase 2 trials and observational studies), so the visitor filters to recruiting phase 2 trials
in France, which the data supports."""
import re

import pytest
from playwright.sync_api import expect


@pytest.fixture
def data_server(live_server):
    app = live_server.app
    with app.app_context():
        from app.demo import load_public_data
        from app.search.indexer import rebuild
        load_public_data()
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
    for facet, value in (("Status", "Recruiting"), ("Phase", "Phase 2"), ("Country", "France")):
        section = page.locator(".facet", has=page.get_by_role("heading", name=facet, exact=True))
        section.get_by_role("link", name=value, exact=True).click()
        page.wait_for_load_state()
    for arg in ("status=RECRUITING", "phase=PHASE2", "country=FR"):
        expect(page).to_have_url(re.compile(arg))
    axe(page)
    hits = page.locator(".search-hit-title")
    expect(hits.first).to_be_visible()
    hits.first.click()
    page.wait_for_url(re.compile(r"/trials/NCT\d{8}$"))
    nct = page.url.rsplit("/", 1)[1]
    axe(page)
    page.locator("a[href^='/centres/']").first.click()
    page.wait_for_url(re.compile(r"/centres/[a-z0-9-]+$"))
    expect(page.get_by_role("heading", name="Clinical trials at this centre")).to_be_visible()
    expect(page.locator("body")).to_contain_text(nct)
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

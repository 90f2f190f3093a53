"""A patient's path through the public pages on a phone, accessibility of every public page,
and the site working with nothing but our own server (no CDNs, no third-party requests)."""

import re

import pytest
from playwright.sync_api import Page, expect

from demo import content as demo_content
from tests.browser.conftest import DESKTOP, assert_accessible

PUBLIC_PAGES = [
    "/",
    "/services/",
    *[f"/services/{service['slug']}/" for service in demo_content.SERVICES],
    "/practitioners/",
    *[f"/practitioners/{practitioner['slug']}/" for practitioner in demo_content.PRACTITIONERS],
    "/conditions/",
    *[f"/conditions/{condition['slug']}/" for condition in demo_content.CONDITIONS],
]
NOT_FOUND_PAGE = "/services/no-such-treatment/"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def main_nav_link(page: Page, name: str):
    """The main navigation's link; on a phone the nav is folded into the Menu disclosure."""
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.locator("details.site-menu")
    if menu.is_visible() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
        expect(menu).to_have_attribute("open", "")
    link = nav.get_by_role("link", name=name, exact=True)
    expect(link).to_be_visible()
    return link


def test_a_patient_finds_a_treatment_a_practitioner_and_a_condition_on_a_phone(page: Page, demo_clinic):
    main = page.get_by_role("main")
    page.goto("/")
    expect(heading(page)).to_have_text("Relief for sciatica, back and muscle pain")

    main_nav_link(page, "Treatments").click()
    expect(page).to_have_url(re.compile(r"/services/$"))
    expect(heading(page)).to_have_text("Treatments")

    main.get_by_role("link", name="Initial assessment + dry needling", exact=True).click()
    expect(page).to_have_url(re.compile(r"/services/dry-needling-initial-assessment/$"))
    expect(heading(page)).to_have_text("Initial assessment + dry needling")

    main.get_by_role("link", name="Maya Lindqvist", exact=True).click()
    expect(page).to_have_url(re.compile(r"/practitioners/maya-lindqvist/$"))
    expect(heading(page)).to_have_text("Maya Lindqvist")

    her_treatments = main.get_by_role("heading", name="Treatments", exact=True).locator(
        "xpath=following-sibling::ul[1]"
    )
    expect(her_treatments.get_by_role("link")).to_have_text(
        ["Initial assessment + dry needling", "Dry needling follow-up", "Cupping", "Free discovery call"]
    )
    her_treatments.get_by_role("link", name="Cupping", exact=True).click()
    expect(page).to_have_url(re.compile(r"/services/cupping/$"))
    expect(heading(page)).to_have_text("Cupping")

    main_nav_link(page, "Conditions").click()
    expect(page).to_have_url(re.compile(r"/conditions/$"))
    expect(heading(page)).to_have_text("Conditions we treat")

    main.get_by_role("link", name="Sciatica", exact=True).click()
    expect(page).to_have_url(re.compile(r"/conditions/sciatica/$"))
    expect(heading(page)).to_have_text("Sciatica")

    dry_needling = main.get_by_role("link", name="Initial assessment + dry needling", exact=True)
    expect(dry_needling).to_have_attribute("href", "/services/dry-needling-initial-assessment/")
    dry_needling.click()
    expect(page).to_have_url(re.compile(r"/services/dry-needling-initial-assessment/$"))
    expect(heading(page)).to_have_text("Initial assessment + dry needling")


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, NOT_FOUND_PAGE])
def test_public_page_has_no_serious_accessibility_violations_on_a_phone(page: Page, demo_clinic, path):
    response = page.goto(path)
    assert response is not None
    assert response.status == (404 if path == NOT_FOUND_PAGE else 200)
    expect(heading(page)).to_have_count(1)
    assert_accessible(page)


@pytest.mark.parametrize("viewport", [DESKTOP], ids=["desktop"])
def test_home_has_no_serious_accessibility_violations_on_a_desktop(page: Page, demo_clinic):
    page.goto("/")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Treatments")).to_be_visible()
    assert_accessible(page)


def test_pages_need_nothing_but_our_own_server(page: Page, live_server, demo_clinic):
    """Works offline: no CDN, web font or analytics request; foreign requests are also cut off."""
    origin = f"{live_server.url}/"
    requested: list[str] = []
    failed: list[str] = []

    def on_response(response) -> None:
        if response.status >= 400:
            failed.append(f"{response.url}: {response.status}")

    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(f"{request.url}: {request.failure}"))
    page.on("response", on_response)
    page.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(origin) else route.abort("blockedbyclient"),
    )

    page.goto("/", wait_until="networkidle")
    book_now = page.get_by_role("main").get_by_role("link", name="Book now")
    styles = book_now.evaluate(
        "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.color, s.display, s.borderRadius]; }"
    )
    main_nav_link(page, "Treatments").click()  # the menu works (a disclosure: no script to fetch)
    expect(heading(page)).to_have_text("Treatments")
    page.wait_for_load_state("networkidle")

    assert requested, "the page made no requests at all"
    foreign = [url for url in requested if not url.startswith(origin)]
    assert not foreign, f"requests outside {live_server.url}: {foreign}"
    assert not failed, f"failed requests: {failed}"
    assert any(url.endswith("/bootstrap.min.css") for url in requested)

    background, color, display, radius = styles
    assert background not in {"rgba(0, 0, 0, 0)", "transparent"}, f"Bootstrap's .btn-primary is not applied: {styles}"
    assert color == "rgb(255, 255, 255)", styles
    assert display != "inline", styles  # a plain link is inline; .btn makes it a (inline-)block
    assert radius not in {"", "0px"}, styles

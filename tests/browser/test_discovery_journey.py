"""A free discovery call asked for from the home page on a phone in Vancouver: no medical
question beyond "what is going on", and the promise on the caller's own clock, which the
browser told the page."""

import os

import pytest
from playwright.sync_api import expect

from booking.models import Appointment
from discovery.models import DiscoveryCallRequest
from tests.browser.conftest import PHONE, TIMEOUT_MS, assert_accessible

MEDICAL_QUESTIONS = ("Date of birth", "pregnant", "blood thinners", "fear of needles", "treatment consent")


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1366, "height": 900}], ids=["phone", "desktop"])
def test_a_call_back_from_the_home_page_asks_nothing_medical_and_promises_the_callers_time(
    browser, live_server, demo_clinic, viewport
):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, timezone_id="America/Vancouver")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("main").get_by_role("link", name="Ask us to call you back for a free 15-minute chat").click()
        form = page.locator("#call-back-form")
        expect(form).to_be_visible()
        for question in MEDICAL_QUESTIONS:
            expect(form.get_by_text(question, exact=False)).to_have_count(0)
        assert_accessible(page)
        form.get_by_label("Your name").fill("Grace Hopper")
        form.get_by_label("Phone number").fill("(614) 555-0188")  # a Columbus number, on a phone in Vancouver
        form.locator("#id_email").fill("grace.vancouver@example.com")
        form.get_by_label("Weekday afternoon", exact=False).check()
        form.get_by_label("I agree that the clinic may call and email me about this request.").check()
        form.get_by_role("button", name="Ask for a call back").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: we will call you")
        expect(page.get_by_role("main")).to_contain_text("between 12 and 5 pm (Vancouver time)")
        assert_accessible(page)
        assert DiscoveryCallRequest.objects.get().caller_timezone == "America/Vancouver"
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1366, "height": 900}], ids=["phone", "desktop"])
def test_a_call_booked_from_the_home_page_asks_only_the_urgent_now_check_on_the_callers_clock(
    browser, live_server, demo_clinic, viewport, request
):
    context = browser.new_context(base_url=live_server.url, viewport=viewport, timezone_id="America/Vancouver")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/")
        page.get_by_role("main").get_by_role("link", name="Free discovery call").first.click()
        # The browser's clock: the page shows itself again on Vancouver's (caller_zone.js).
        expect(page.get_by_role("main")).to_contain_text("Times are on your clock: Vancouver time")
        expect(page.get_by_role("heading", name="Where?")).to_have_count(0)
        assert_accessible(page)
        if folder := os.environ.get("SCREENSHOTS"):
            page.screenshot(path=f"{folder}/call-times-{request.node.callspec.id}.png", full_page=False)
        page.locator("a[href*='start=']").first.click()

        form = page.locator("form[method=post]")
        expect(page.get_by_role("heading", level=1)).to_have_text("Book your free call")
        expect(page.get_by_role("main")).to_contain_text("(your time, Vancouver time)")
        for question in (*MEDICAL_QUESTIONS, "needling"):
            expect(form.get_by_text(question, exact=False)).to_have_count(0)
        assert_accessible(page)
        form.get_by_label("First name").fill("Grace")
        form.get_by_label("Last name").fill("Hopper")
        form.get_by_label("Phone number").fill("(614) 555-0188")  # a Columbus number, on a phone in Vancouver
        form.locator("#id_email").fill("grace.call@example.com")
        form.get_by_label("What is going on? (optional)").fill("Sciatica since March")
        form.get_by_label("No, none of these").check()
        form.get_by_label("I agree that the clinic may call me at this time and email me about it.").check()
        if folder := os.environ.get("SCREENSHOTS"):
            page.screenshot(path=f"{folder}/call-details-{request.node.callspec.id}.png", full_page=True)
        form.get_by_role("button", name="Book this call").click()

        expect(page.get_by_role("heading", name="You're booked")).to_be_visible()
        expect(page.get_by_role("main")).to_contain_text("(Vancouver time)")
        expect(page.get_by_role("main")).to_contain_text("We call you at that time")
        assert_accessible(page)
        if folder := os.environ.get("SCREENSHOTS"):
            page.screenshot(path=f"{folder}/call-booked-{request.node.callspec.id}.png", full_page=False)
        booked = Appointment.objects.get(patient__email="grace.call@example.com")
        assert booked.caller_timezone == "America/Vancouver" and booked.consent is None
        assert booked.patient.date_of_birth is None
    finally:
        context.close()

"""A patient books, downloads the calendar file and cancels on a phone; every wizard page is axe-clean;
a red-flag answer books nothing; and the whole wizard works with JavaScript turned off."""

import os
import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from booking.models import Appointment
from patients.models import Patient, Screening
from tests.browser.conftest import PHONE, TIMEOUT_MS, assert_accessible

SERVICE = "Initial assessment + dry needling"
REFERENCE = re.compile(r"^[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{4}$")
# The demo hours are weekdays only, so a single week may in principle show nothing: go on, but not forever.
MAX_WEEKS_AHEAD = 4
PATIENT = {
    "First name": "Ada",
    "Last name": "Okonkwo-Smith",
    "Email": "ada.okonkwo@example.com",
    "Mobile phone": "(614) 555-0100",
    "Date of birth": "1980-05-17",
}


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def choose(page: Page, name: str) -> None:
    """Follow one of the wizard's choice links (their names also carry the price, address or title)."""
    page.get_by_role("main").get_by_role("link", name=re.compile(rf"^{re.escape(name)}")).click()


def later(page: Page) -> None:
    weeks = page.get_by_role("navigation", name="Weeks")
    first_day = page.get_by_role("main").get_by_role("region").first
    shown = first_day.get_attribute("aria-labelledby")
    weeks.get_by_role("link", name="Later", exact=True).click()
    expect(first_day).not_to_have_attribute("aria-labelledby", shown or "")


def first_time(page: Page):
    """The first time link in the days shown, going a week later while a week has none."""
    expect(page.get_by_role("main").get_by_role("heading", name="When?")).to_be_visible()
    times = page.get_by_role("main").get_by_role("region").get_by_role("link")
    for _ in range(MAX_WEEKS_AHEAD):
        if times.count():
            break
        later(page)
    expect(times.first).to_be_visible()
    return times.first


def start_in(href: str | None) -> datetime:
    """The `start` a time link carries: an ISO 8601 instant with an offset."""
    assert href is not None
    starts = parse_qs(urlsplit(href).query)["start"]
    assert len(starts) == 1
    return datetime.fromisoformat(starts[0])


def fill_details(page: Page, **overrides: str) -> None:
    for label, value in {**PATIENT, **overrides}.items():
        page.get_by_label(label).fill(value)


def consent(page: Page):
    return page.get_by_role("checkbox", name="I have read and agree to the treatment consent above")


def book_this_time(page: Page):
    return page.get_by_role("button", name="Book this time")


def reference_on(page: Page) -> str:
    reference = page.get_by_role("main").get_by_role("definition").first
    expect(reference).to_have_text(REFERENCE)
    return reference.inner_text().strip()


def test_a_new_patient_books_dry_needling_and_cancels_on_a_phone(page: Page, demo_clinic):
    main = page.get_by_role("main")
    page.goto("/")
    main.get_by_role("link", name="Book now").click()

    expect(page).to_have_url(re.compile(r"/book/$"))
    expect(main.get_by_role("heading", name="Which treatment?")).to_be_visible()
    assert_accessible(page)
    choose(page, SERVICE)

    expect(main.get_by_role("heading", name="Where?")).to_be_visible()
    assert_accessible(page)
    choose(page, "Riverside Pain & Needling Clinic — Westerville")

    # No step of its own for the practitioner: anyone qualified's times, narrowed on the same page.
    expect(main.get_by_role("heading", name="When?")).to_be_visible()
    with_whom = main.get_by_role("navigation", name="With whom")
    expect(with_whom.get_by_role("link", name="Anyone qualified")).to_have_attribute("aria-current", "true")
    expect(with_whom.get_by_role("link", name="Maya Lindqvist")).to_be_visible()
    expect(main.get_by_role("region")).to_have_count(7)
    assert_accessible(page)
    # A week ahead, so the appointment is outside the 24 h cancellation window and can be cancelled online.
    later(page)
    expect(page.get_by_role("navigation", name="Weeks").get_by_role("link", name="Earlier")).to_be_visible()
    time = first_time(page)
    time_text = time.inner_text()
    chosen_start = start_in(time.get_attribute("href"))
    time.click()

    expect(page).to_have_url(re.compile(r"/book/details/\?"))
    expect(main.get_by_text(time_text).first).to_be_visible()
    expect(book_this_time(page)).to_be_visible()
    assert_accessible(page)

    fill_details(page, **{"Mobile phone": "12"})
    page.get_by_role("checkbox", name="I have a strong fear of needles").check()
    consent(page).check()
    book_this_time(page).click()

    expect(main.get_by_text("Please check the answers marked below.")).to_be_visible()
    expect(main.get_by_text("Enter a valid phone number")).to_be_visible()
    expect(page.get_by_label("Mobile phone")).to_have_value("12")
    expect(page.get_by_label("Last name")).to_have_value(PATIENT["Last name"])
    expect(page.get_by_label("Date of birth")).to_have_value(PATIENT["Date of birth"])
    expect(page.get_by_role("checkbox", name="I have a strong fear of needles")).to_be_checked()
    assert Appointment.objects.count() == 0
    assert_accessible(page)

    expect(consent(page)).to_be_checked()
    page.get_by_label("Mobile phone").fill(PATIENT["Mobile phone"])
    book_this_time(page).click()

    expect(page).to_have_url(re.compile(r"/appointments/[^/]+/\?booked=1$"))
    expect(heading(page)).to_have_text("You're booked")
    reference = reference_on(page)
    expect(main.get_by_text("You told us needles worry you.")).to_be_visible()
    expect(main.get_by_role("link", name="cupping", exact=True)).to_be_visible()
    expect(main.get_by_text(SERVICE)).to_be_visible()
    assert_accessible(page)

    calendar_link = main.get_by_role("link", name="Phone or Apple calendar (.ics)")
    with page.expect_download() as download_info:
        calendar_link.click()
    download = download_info.value
    assert download.suggested_filename == f"appointment-{reference}.ics"
    ics = download.path().read_bytes()
    assert b"BEGIN:VEVENT" in ics
    assert reference.encode() in ics
    events = Calendar.from_ical(ics).walk("VEVENT")
    assert len(events) == 1
    assert events[0]["STATUS"] == "CONFIRMED"
    assert events[0].decoded("DTSTART") == chosen_start
    assert reference in str(events[0]["DESCRIPTION"])
    assert SERVICE.encode() not in ics  # calendar files carry no health data

    appointment = Appointment.objects.get(reference=reference)
    assert appointment.status == Appointment.Status.CONFIRMED
    assert appointment.start == chosen_start
    assert appointment.practitioner.slug in {"maya-lindqvist", "daniel-okafor"}
    assert appointment.patient.last_name == PATIENT["Last name"]
    assert appointment.patient.phone.as_e164 == "+16145550100"
    assert appointment.screening.needle_fear is True

    main.get_by_role("link", name="Cancel", exact=True).click()
    expect(heading(page)).to_have_text("Cancel your appointment")
    expect(main.get_by_text(reference)).to_be_visible()
    assert_accessible(page)
    main.get_by_role("button", name="Cancel this appointment").click()

    expect(page).to_have_url(re.compile(rf"/appointments/{re.escape(appointment.manage_token)}/$"))
    expect(heading(page)).to_have_text("Your appointment")
    expect(main.get_by_text("Your appointment is cancelled.")).to_be_visible()
    expect(main.get_by_text("This appointment was cancelled.")).to_be_visible()
    expect(main.get_by_role("link", name="Cancel", exact=True)).to_have_count(0)
    assert_accessible(page)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert Appointment.objects.filter(reference=reference, status=Appointment.Status.CANCELLED).count() == 1


def test_a_red_flag_answer_sends_the_patient_to_urgent_care_and_books_nothing(page: Page, demo_clinic):
    page.goto("/book/")
    choose(page, SERVICE)
    choose(page, "Riverside Pain & Needling Clinic — Westerville")
    details_url = first_time(page).get_attribute("href")
    start_in(details_url)  # a real start, read from the time picker

    page.goto(details_url)
    expect(page).to_have_url(re.compile(r"/book/details/\?"))
    fill_details(page)
    page.get_by_role("checkbox", name="Symptoms in both legs at once").check()
    consent(page).check()
    book_this_time(page).click()

    expect(heading(page)).to_have_text("Please get urgent care now")
    expect(page.get_by_role("alert")).to_contain_text("We have not booked an appointment")
    assert_accessible(page)
    assert Appointment.objects.count() == 0
    assert Screening.objects.count() == 0
    assert Patient.objects.count() == 0


def test_a_patient_books_and_cancels_with_javascript_turned_off(browser, live_server, demo_clinic):
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        java_script_enabled=False,
        reduced_motion="reduce",
        service_workers="block",
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        main = page.get_by_role("main")
        page.goto("/")
        main.get_by_role("link", name="Book now").click()
        choose(page, SERVICE)
        choose(page, "Riverside Pain & Needling Clinic — Calgary")
        # He is the one who gives it in Calgary: no choice to make, and the page says so.
        expect(main.locator("#only-practitioner")).to_contain_text("your appointment will be with Dr. Daniel Okafor")
        later(page)  # outside the cancellation window
        first_time(page).click()

        fill_details(page)
        consent(page).check()
        book_this_time(page).click()

        expect(heading(page)).to_have_text("You're booked")
        reference = reference_on(page)
        expect(main.get_by_text("You told us needles worry you.")).to_have_count(0)
        expect(main.get_by_text("Dr. Daniel Okafor, Chiropractor")).to_be_visible()
        appointment = Appointment.objects.get(reference=reference)
        assert appointment.practitioner.slug == "daniel-okafor"
        assert appointment.location.slug == "calgary"

        main.get_by_role("link", name="Cancel", exact=True).click()
        main.get_by_role("button", name="Cancel this appointment").click()
        expect(main.get_by_text("This appointment was cancelled.")).to_be_visible()
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CANCELLED
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1366, "height": 900}], ids=["phone", "desktop"])
@pytest.mark.parametrize("place", ["Westerville", "Calgary"])
def test_from_a_condition_page_to_a_confirmed_booking_in_five_taps(page: Page, demo_clinic, viewport, place):
    """Someone who searched "sciatica" lands on its page: every tap from there is counted (typing
    into the fields is not a tap)."""
    taps = []

    def tap(locator, name: str) -> None:
        taps.append(name)
        locator.click()

    main = page.get_by_role("main")
    page.goto("/conditions/sciatica/")
    treatments = main.locator("#treatments")
    tap(treatments.get_by_role("link", name=f"Book {SERVICE}"), "Book")
    tap(main.get_by_role("link", name=re.compile(rf"^Riverside Pain & Needling Clinic — {place}")), place)
    tap(first_time(page), "a time")
    fill_details(page, Email=f"ada.{place.lower()}@example.com")
    tap(consent(page), "consent")
    tap(book_this_time(page), "Book this time")

    expect(heading(page)).to_have_text("You're booked")
    assert_accessible(page)
    assert len(taps) <= 5, taps
    appointment = Appointment.objects.get(patient__email=f"ada.{place.lower()}@example.com")
    assert appointment.service.name == SERVICE and place in appointment.location.name


def test_a_new_patient_who_picked_a_follow_up_books_the_first_visit_without_retyping(page: Page, demo_clinic):
    main = page.get_by_role("main")
    page.goto("/book/")
    choose(page, "Dry needling follow-up")
    choose(page, "Riverside Pain & Needling Clinic — Westerville")
    expect(main.get_by_role("heading", name="Have you been treated here before?")).to_be_visible()
    assert_accessible(page)
    choose(page, "Yes, I have been treated here")  # they think so: the booking will find no first visit
    first_time(page).click()
    fill_details(page, Email="ada.newcomer@example.com")
    consent(page).check()
    book_this_time(page).click()

    instead = main.locator("#first-visit-instead")
    expect(instead).to_contain_text("Book Initial assessment + dry needling")
    expect(page.get_by_label("Last name")).to_have_value(PATIENT["Last name"])
    expect(page.get_by_label("Date of birth")).to_have_value(PATIENT["Date of birth"])
    assert_accessible(page)
    if folder := os.environ.get("SCREENSHOTS"):
        page.screenshot(path=f"{folder}/first-visit-instead.png", full_page=True)
    expect(consent(page)).to_be_checked()
    book_this_time(page).click()  # one tap: the nearest free time is already picked

    expect(heading(page)).to_have_text("You're booked")
    appointment = Appointment.objects.get(patient__email="ada.newcomer@example.com")
    assert appointment.service.name == SERVICE
    assert appointment.patient.last_name == PATIENT["Last name"]

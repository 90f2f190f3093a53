"""Reception's day, in Chromium: a call-back request left on the public page (on a phone) is found
in the admin, a call is logged, the caller is converted to a patient and booked for a dry needling
initial assessment by phone, and the day sheet shows the booking. Every page is axe-scanned."""

import re

import pytest
from playwright.sync_api import Page, expect

from booking.models import Appointment
from discovery.models import CallAttempt, DiscoveryCallRequest
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible

CALLER = {"Your name": "Grace Okafor-Lee", "Phone number": "(614) 555-0199", "Email": "grace.ol@example.com"}
SERVICE = "Initial assessment + dry needling"
LOCATION = "Riverside Pain & Needling Clinic — Westerville"


def leave_a_call_back_request(page: Page) -> str:
    page.set_viewport_size(PHONE)
    page.goto("/discovery-call/")
    assert_accessible(page)
    for label, value in CALLER.items():
        page.get_by_role("textbox", name=re.compile(rf"^{label}")).fill(value)
    page.get_by_label("Weekday morning").check()
    page.get_by_label("What is going on?").fill("Pain down my left leg for three weeks.")
    page.get_by_label("I agree that the clinic may call and email me").check()
    page.get_by_role("button", name="Ask for a call back").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: we will call you")
    assert_accessible(page)
    reference = page.locator("strong.font-monospace").inner_text()
    assert re.fullmatch(r"DC-[2-9A-HJ-NP-Z]+", reference), reference
    return reference


def choose_option(select, text: str) -> None:
    """Select the option whose text starts with `text` (option texts may add a duration or address)."""
    option = select.locator("option").filter(has_text=re.compile(rf"^{re.escape(text)}"))
    select.select_option(option.first.get_attribute("value"))


def log_in_as_reception(page: Page) -> None:
    page.set_viewport_size(DESKTOP)
    page.goto("/admin/")
    page.get_by_label("Username").fill("reception")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Front desk")).to_be_visible()
    assert_accessible(page)


def test_a_call_back_request_becomes_a_phone_booking_on_the_day_sheet(page: Page, demo_clinic):
    reference = leave_a_call_back_request(page)
    log_in_as_reception(page)

    # Find it: the front desk's "Call-back requests" opens the open ones; search by the number as heard.
    page.get_by_role("link", name="Call-back requests").click()
    page.locator("#searchbar").fill("614 555 0199")
    page.keyboard.press("Enter")
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_have_count(1)
    assert_accessible(page)

    # Log a call: reached on the first try.
    row.get_by_role("link", name="Log a call").click()
    page.get_by_label("Reached").check()
    page.get_by_label("Note (optional)").fill("Happy to come in; mornings suit.")
    page.get_by_role("button", name="Log this call").click()
    expect(page.locator(".messagelist")).to_contain_text(reference)
    call_request = DiscoveryCallRequest.objects.get(reference=reference)
    assert call_request.status == DiscoveryCallRequest.Status.CONTACTED
    assert call_request.attempts.get().outcome == CallAttempt.Outcome.REACHED

    # Convert: names prefilled from the request; the date of birth is asked on the call.
    page.goto(f"/admin/discovery/discoverycallrequest/{call_request.pk}/convert/")
    assert_accessible(page)
    expect(page.get_by_label("First name")).to_have_value("Grace")
    page.get_by_label("Date of birth").fill("1975-03-09")
    page.get_by_role("button", name="Convert and book by phone").click()

    # The phone booking form opens for that patient: service, location, anyone, a free time.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Book for a caller")
    expect(page.get_by_text(f"Answering call-back request {reference}")).to_be_visible()
    choose_option(page.get_by_label("Service"), SERVICE)
    page.get_by_role("button", name="Next").click()
    choose_option(page.get_by_label("Location"), LOCATION)
    page.get_by_role("button", name=re.compile("Next|Show free times")).click()
    expect(page.get_by_role("heading", name=re.compile("^Free times on"))).to_be_visible()
    times = page.locator("#phone-booking-form input[name='start']")
    if not times.count():  # today is a weekend, full or over: the first day of the week with free times
        page.get_by_role("list", name="Days").get_by_role("link", name=re.compile(r"\([1-9]\d* free\)")).first.click()
    expect(times.first).to_be_visible()
    assert_accessible(page)
    times.first.check()
    page.get_by_label("Consent read to the patient and given (on the phone or at the desk)").check()
    page.get_by_role("button", name="Book this time").click()

    expect(page.locator(".messagelist")).to_contain_text("Booked")
    appointment = Appointment.objects.select_related("patient", "location", "service").get(
        patient__email="grace.ol@example.com"
    )
    assert appointment.source == Appointment.Source.PHONE
    assert appointment.service.name == SERVICE
    assert appointment.location.name == LOCATION
    call_request.refresh_from_db()
    assert call_request.status == DiscoveryCallRequest.Status.BOOKED
    assert call_request.appointment == appointment
    assert appointment.history.latest().history_user.username == "reception"

    # The day sheet of that day shows the new patient, badge and all.
    day = appointment.local_start.date().isoformat()
    page.goto(f"/admin/booking/appointment/day-sheet/?location={appointment.location.slug}&date={day}")
    sheet = page.get_by_role("main")
    entry = sheet.get_by_role("link", name=re.compile("Grace Okafor-Lee"))
    expect(entry).to_be_visible()
    expect(sheet).to_contain_text("New patient")
    assert_accessible(page)


def test_a_call_back_request_with_mistakes_keeps_what_was_typed(page: Page, demo_clinic):
    page.set_viewport_size(PHONE)
    page.goto("/discovery-call/")
    page.get_by_role("textbox", name=re.compile("^Your name")).fill("Grace Okafor-Lee")
    page.get_by_role("textbox", name=re.compile("^Phone number")).fill("555")
    page.get_by_role("button", name="Ask for a call back").click()
    expect(page.get_by_role("alert").first).to_contain_text("Everything you typed is still here")
    expect(page.get_by_role("textbox", name=re.compile("^Your name"))).to_have_value("Grace Okafor-Lee")
    expect(page.get_by_text("Please agree to be contacted")).to_be_visible()
    assert_accessible(page)
    assert not DiscoveryCallRequest.objects.exists()


@pytest.fixture
def viewport() -> dict:
    return DESKTOP

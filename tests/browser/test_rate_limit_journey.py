"""A patient past the per-connection limit on bookings and changes (booking/throttling.py): the
page says so with the clinic's number, keeps what they chose or typed, and is axe-clean; nothing
changes."""

import re
from datetime import time, timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking import throttling
from booking.availability import available_slots
from booking.models import Appointment
from booking.services import book_appointment
from clinic.models import Location, Practitioner, Service
from clinic.throttling import REFUSED
from patients.services import ScreeningAnswers
from tests.browser.conftest import assert_accessible
from tests.factories import patient_details


@pytest.fixture
def appointment(demo_clinic) -> Appointment:
    """An initial assessment with Maya at 10:00 on a day she works, more than a week ahead."""
    westerville = Location.objects.get(slug="westerville")
    service = Service.objects.get(slug="dry-needling-initial-assessment")
    maya = Practitioner.objects.get(slug="maya-lindqvist")
    today = timezone.localtime(timezone.now(), westerville.zone).date()
    slots = available_slots(
        service=service,
        location=westerville,
        practitioner=maya,
        first_day=today + timedelta(days=8),
        last_day=today + timedelta(days=14),
    )
    ten = next(slot for slot in slots if timezone.localtime(slot.start, westerville.zone).time() == time(10))
    return book_appointment(
        service=service,
        location=westerville,
        practitioner=maya,
        start=ten.start,
        patient_details=patient_details(),
        screening=ScreeningAnswers(),
        consent_given=True,
    )


@pytest.fixture
def limit_used_up(monkeypatch):
    """One booking or change an hour, already made from this browser's address."""
    monkeypatch.setattr(throttling, "RATE", "1/h")
    assert not throttling.over_the_limit(RequestFactory().post("/", REMOTE_ADDR="127.0.0.1"))


def test_a_refused_move_and_cancellation_keep_the_choice_and_the_reason(page: Page, appointment, limit_used_up):
    main = page.get_by_role("main")
    refusal = main.get_by_role("alert").filter(has_text=REFUSED)

    page.goto(f"/appointments/{appointment.manage_token}/reschedule/")
    choice = main.get_by_role("radio").nth(2)
    choice.check()
    chosen = choice.get_attribute("value")
    main.get_by_role("button", name="Move my appointment").click()
    expect(refusal).to_be_visible()
    expect(refusal.get_by_role("link", name="(614) 555-0142")).to_have_attribute("href", "tel:+16145550142")
    expect(main.locator(f'input[name="start"][value="{chosen}"]')).to_be_checked()
    assert_accessible(page)

    page.goto(f"/appointments/{appointment.manage_token}/cancel/")
    main.get_by_label("Reason (optional)").fill("My back feels much better")
    main.get_by_role("button", name="Cancel this appointment").click()
    expect(refusal).to_be_visible()
    expect(main.get_by_label("Reason (optional)")).to_have_value("My back feels much better")
    expect(page).to_have_title(re.compile(r"^Cancel appointment"))
    assert_accessible(page)

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    assert appointment.history.count() == 1  # created, never changed

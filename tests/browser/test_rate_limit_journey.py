"""A patient past the per-connection limit on bookings and changes (booking/throttling.py): the
page says so with the clinic's number, keeps what they chose or typed, and is axe-clean; nothing
changes."""

import re

import pytest
from playwright.sync_api import Page, expect

from booking import throttling
from booking.models import Appointment
from clinic.throttling import REFUSED
from tests.booking.test_rate_limits import LIMIT, use_up_the_limit
from tests.browser.conftest import assert_accessible, book_maya_at_ten_next_week


@pytest.fixture
def appointment(demo_clinic) -> Appointment:
    return book_maya_at_ten_next_week()


@pytest.fixture
def limit_used_up(monkeypatch):
    """The limit of tests/booking/test_rate_limits.py, already reached from this browser's address."""
    monkeypatch.setattr(throttling, "RATE", f"{LIMIT}/h")
    use_up_the_limit("127.0.0.1")


def test_a_refused_move_and_cancellation_keep_the_choice_and_the_reason(page: Page, appointment, limit_used_up):
    main = page.get_by_role("main")
    refusal = main.get_by_role("alert").filter(has_text=REFUSED)

    page.goto(f"/appointments/{appointment.manage_token}/reschedule/")
    main.locator("section a.btn-outline-primary").nth(2).click()  # a free time, asked about once
    chosen = main.locator('#confirm-move input[name="start"]').get_attribute("value")
    main.get_by_role("button", name="Move my appointment").click()
    expect(refusal).to_be_visible()
    expect(refusal.get_by_role("link", name="(614) 555-0142")).to_have_attribute("href", "tel:+16145550142")
    # Refused, the same time is still the one asked about: one tap to try again later.
    expect(main.locator(f'#confirm-move input[name="start"][value="{chosen}"]')).to_have_count(1)
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

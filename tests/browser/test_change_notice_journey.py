"""Book, move on the manage page, cancel, in Chromium on a phone: the mailbox (Django's file
backend, as a real mail server would hold it) then holds the confirmation, the move notice and
the cancellation, in that order, each with a calendar file that parses and updates one event."""

import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from booking.models import Appointment
from tests.browser.conftest import assert_accessible
from tests.browser.test_booking_journey import (
    SERVICE,
    book_this_time,
    choose,
    consent,
    fill_details,
    first_time,
    heading,
    later,
    reference_on,
)
from tests.helpers import worker_round


def mailbox(folder: Path) -> list:
    """Every message the file backend wrote, oldest first, parsed as a mail app would."""
    messages = []
    for log in sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime_ns):
        for chunk in log.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(message_from_bytes(chunk.strip(), policy=policy.default))
    return messages


def calendar_of(message):
    (part,) = [part for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    return str(calendar["method"]), part.get_param("method"), event


@pytest.fixture
def file_mailbox(settings, tmp_path):
    backend = "django.core.mail.backends.filebased.EmailBackend"
    settings.MAILERS = {"default": {"BACKEND": backend, "OPTIONS": {"file_path": str(tmp_path)}}}
    settings.CHANGE_NOTICE_SETTLE_SECONDS = 0  # the journey does not wait three minutes
    return tmp_path


def test_book_move_cancel_each_reach_the_mailbox_in_order(page: Page, demo_clinic, file_mailbox):
    main = page.get_by_role("main")
    page.goto("/book/")
    choose(page, SERVICE)
    choose(page, "Riverside Pain & Needling Clinic — Westerville")
    choose(page, "Maya Lindqvist")
    later(page)  # a week ahead: outside the cancellation window
    first_time(page).click()
    fill_details(page, Email="ada.moves@example.com")
    consent(page).check()
    book_this_time(page).click()
    expect(heading(page)).to_have_text("You're booked")
    reference = reference_on(page)
    expect(main.get_by_role("link", name="Google Calendar")).to_be_visible()
    expect(main.get_by_role("link", name="Outlook.com")).to_be_visible()
    assert_accessible(page)
    worker_round()

    main.get_by_role("link", name="Change the time").click()
    expect(heading(page)).to_have_text("Change the time")
    assert_accessible(page)
    # The latest time offered (days ahead: still changeable online); the last day shown may have
    # none (a Sunday's page ends on a Saturday the clinic is closed).
    main.get_by_role("region").get_by_role("link").last.click()
    expect(main.get_by_role("heading", name=re.compile(r"^Move to "))).to_be_visible()
    main.get_by_role("button", name="Move my appointment").click()
    expect(main.get_by_text("Your appointment has been moved.")).to_be_visible()
    moved_to = Appointment.objects.get(reference=reference).start
    worker_round()

    main.get_by_role("link", name="Cancel", exact=True).click()
    main.get_by_role("button", name="Cancel this appointment").click()
    expect(main.get_by_text("This appointment was cancelled.")).to_be_visible()
    worker_round()

    messages = [message for message in mailbox(file_mailbox) if message["To"] == "ada.moves@example.com"]
    subjects = [message["Subject"] for message in messages]
    assert len(messages) == 3, subjects
    assert re.match(rf"^Your appointment at .+ \({reference}\)$", subjects[0])
    assert "has moved to" in subjects[1]
    assert "is cancelled" in subjects[2]

    files = [calendar_of(message) for message in messages]
    assert [method for method, _, _ in files] == ["REQUEST", "REQUEST", "CANCEL"]
    assert [content_type_method for _, content_type_method, _ in files] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({str(event["uid"]) for _, _, event in files}) == 1  # one event, updated in place
    assert [int(event["sequence"]) for _, _, event in files] == [0, 1, 2]
    assert [str(event["status"]) for _, _, event in files] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert files[1][2].decoded("dtstart") == moved_to
    for message in messages:
        assert message["Reply-To"] and message["Auto-Submitted"] == "auto-generated"
        assert SERVICE not in message["Subject"]

"""The waiting list, end to end on a phone: a patient books the first free day, asks to be told if
an earlier time opens, another patient cancels that earlier time, and the link in the waiting-list
email books exactly the freed time. Every page of it is axe-clean."""

import re
from datetime import date, time, timedelta
from urllib.parse import urlsplit

from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.availability import local_instant
from booking.models import Appointment, TimeOff
from clinic.models import Location, Practitioner, Service
from tests.browser.conftest import assert_accessible
from tests.helpers import book
from waitlist.models import WaitlistEntry, WaitlistOffer

SERVICE_SLUG = "dry-needling-initial-assessment"
PLACE_LINK = re.compile(r"https?://[^/\s]+(/waitlist/[A-Za-z0-9_\-]+/)")
OFFER_LINK = re.compile(r"https?://\S+(/waitlist/offers/[A-Za-z0-9_\-]+/)")


def _next_weekday_a_week_ahead(zone) -> date:
    """A Monday to Thursday at least a week ahead: Maya works it and the day after (weekdays)."""
    day = timezone.localtime(timezone.now(), zone).date() + timedelta(days=7)
    while day.weekday() > 3:
        day += timedelta(days=1)
    return day


def test_a_freed_earlier_time_is_offered_and_booked_from_the_email(page: Page, browser, live_server, demo_clinic):
    westerville = Location.objects.get(slug="westerville")
    maya = Practitioner.objects.get(slug="maya-lindqvist")
    service = Service.objects.get(slug=SERVICE_SLUG)
    zone = westerville.zone
    day = _next_weekday_a_week_ahead(zone)
    ten_am = local_instant(day, time(10), zone)
    # Maya's day is full: away but for 10:00-11:00, which another patient has.
    TimeOff.objects.create(practitioner=maya, start=local_instant(day, time(0), zone), end=ten_am)
    TimeOff.objects.create(
        practitioner=maya, start=ten_am + timedelta(hours=1), end=local_instant(day + timedelta(days=1), time(0), zone)
    )
    other_patient = book(service, westerville, ten_am, practitioner=maya, n=5)
    main = page.get_by_role("main")

    # The patient looks at Maya's week starting that day: nothing that day, so they book the next.
    page.goto(f"/book/?service={SERVICE_SLUG}&location=westerville&practitioner=maya-lindqvist&from={day}")
    first_day = main.get_by_role("region", name=re.compile(day.strftime("%A")))
    expect(first_day.get_by_text("No free times.")).to_be_visible()
    later_time = main.get_by_role("region").nth(1).get_by_role("link").first
    later_time.click()
    page.get_by_label("First name").fill("Wanda")
    page.get_by_label("Last name").fill("Waitwell")
    page.get_by_label("Email").fill("wanda.waitwell@example.com")
    page.get_by_label("Mobile phone").fill("(614) 555-0177")
    page.get_by_label("Date of birth").fill("1985-04-02")
    page.get_by_role("checkbox", name="I have read and agree to the treatment consent above").check()
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")

    # ...and asks to be told if something opens on the earlier day.
    page.goto(f"/book/?service={SERVICE_SLUG}&location=westerville&practitioner=maya-lindqvist&from={day}")
    main.get_by_role("link", name="Tell me if an earlier time opens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell me if an earlier time opens")
    expect(page.get_by_label("With")).to_have_value("maya-lindqvist")
    assert_accessible(page)
    page.get_by_label("Earliest day").fill(day.isoformat())
    page.get_by_label("Latest day").fill(day.isoformat())
    page.get_by_role("checkbox", name="Evenings (from 17:00)").uncheck()
    page.get_by_label("First name").fill("Wanda")
    page.get_by_label("Last name").fill("Waitwell")
    page.get_by_label("Email").fill("wanda.waitwell@example.com")
    page.get_by_label("Mobile phone").fill("(614) 555-0177")
    page.get_by_role("button", name="Join the waiting list").click()

    # The same answer whoever's email it is: the place's link goes to the inbox only.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_accessible(page)
    entry = WaitlistEntry.objects.get()
    assert (entry.first_day, entry.last_day, entry.evenings) == (day, day, False)
    mail.outbox.clear()
    call_command("send_due_notifications")
    [joined_email] = [message for message in mail.outbox if "waiting list" in message.subject]
    page.goto(PLACE_LINK.search(joined_email.body).group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your place on the waiting list")
    expect(main.get_by_text("Maya Lindqvist").first).to_be_visible()
    page.get_by_text("Change the days or times").click()
    expect(page.get_by_label("Latest day")).to_have_value(day.isoformat())
    assert_accessible(page)

    # The other patient cancels from their own link, in their own browser.
    other = browser.new_context(base_url=live_server.url)
    other_page = other.new_page()
    other_page.goto(f"/appointments/{other_patient.manage_token}/cancel/")
    other_page.get_by_role("button", name="Cancel this appointment").click()
    expect(other_page.get_by_text("Your appointment is cancelled.")).to_be_visible()
    other.close()

    # The worker offers the freed time; the email's link books exactly it.
    mail.outbox.clear()
    call_command("send_due_notifications")
    [offer_email] = [message for message in mail.outbox if message.subject.startswith("A time has opened")]
    assert offer_email.to == ["wanda.waitwell@example.com"]
    assert "10:00 AM" in offer_email.body
    page.goto(OFFER_LINK.search(offer_email.body).group(1))

    expect(page.get_by_role("heading", level=1)).to_have_text("A time has opened for you")
    expect(page.get_by_label("Email")).to_have_value("wanda.waitwell@example.com")
    assert_accessible(page)
    page.get_by_label("Date of birth").fill("1985-04-02")
    page.get_by_role("checkbox", name="I have read and agree to the treatment consent above").check()
    page.get_by_role("button", name="Book this time").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
    expect(main.get_by_text("10:00 AM").first).to_be_visible()
    booked = Appointment.objects.get(start=ten_am, status=Appointment.Status.CONFIRMED)
    assert booked.patient.email == "wanda.waitwell@example.com"
    assert booked.practitioner == maya
    assert urlsplit(page.url).path == f"/appointments/{booked.manage_token}/"
    assert WaitlistOffer.objects.get().booked_appointment == booked
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.BOOKED

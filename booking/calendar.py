"""Calendar files: the patient's own .ics (no health data: no service name, no screening), and
the event basics every appointment's calendar entry shares (schedule.feed uses them too)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from booking.models import Appointment


def manage_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse("booking:manage", args=[appointment.manage_token])


def calendar_event_for(appointment: Appointment, *, now) -> Event:
    """The parts of an appointment's event every calendar we publish agrees on: a UID stable
    across fetches and reschedules (so an app updates the event instead of adding one), the
    times in the location's zone (its VTIMEZONE is added by the calendar), the place, and a
    sequence that only grows (every change bumps updated_at)."""
    event = Event()
    event.add("uid", f"appointment-{appointment.reference}@{urlsplit(settings.SITE_URL).hostname}")
    event.add("dtstamp", now)
    zone = appointment.location.zone
    event.add("dtstart", timezone.localtime(appointment.start, zone))
    event.add("dtend", timezone.localtime(appointment.end, zone))
    address = appointment.location.address.replace("\n", ", ")
    event.add("location", f"{appointment.location.name}, {address}")
    event.add("sequence", int(appointment.updated_at.timestamp()) if appointment.updated_at else 0)
    return event


def appointment_ics(appointment: Appointment) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = calendar_event_for(appointment, now=timezone.now())
    event.add("summary", f"Appointment at {settings.CLINIC_NAME} with {appointment.practitioner.name}")
    # No manage link: calendars get shared and synced, and the link controls the booking.
    event.add(
        "description",
        f"Booking reference {appointment.reference}. To change or cancel, use the link in your "
        f"confirmation email or call {appointment.location.phone.as_national}.",
    )
    event.add("status", "CANCELLED" if appointment.status == Appointment.Status.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

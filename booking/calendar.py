"""Calendar files for patients. They carry no health data: no service name, no screening."""

from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from booking.models import Appointment


def manage_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse("booking:manage", args=[appointment.manage_token])


def appointment_ics(appointment: Appointment) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    # Stable across reschedules, so a calendar app updates the event instead of adding one.
    event.add("uid", f"appointment-{appointment.reference}@{urlsplit(settings.SITE_URL).hostname}")
    event.add("dtstamp", timezone.now())
    zone = appointment.location.zone
    event.add("dtstart", timezone.localtime(appointment.start, zone))
    event.add("dtend", timezone.localtime(appointment.end, zone))
    event.add("summary", f"Appointment at {settings.CLINIC_NAME} with {appointment.practitioner.name}")
    address = appointment.location.address.replace("\n", ", ")
    event.add("location", f"{appointment.location.name}, {address}")
    # No manage link: calendars get shared and synced, and the link controls the booking.
    event.add(
        "description",
        f"Booking reference {appointment.reference}. To change or cancel, use the link in your "
        f"confirmation email or call {appointment.location.phone.as_national}.",
    )
    event.add("status", "CANCELLED" if appointment.status == Appointment.Status.CANCELLED else "CONFIRMED")
    event.add("sequence", int(appointment.updated_at.timestamp()) if appointment.updated_at else 0)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

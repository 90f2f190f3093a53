"""Calendar files: the patient's own .ics (no health data: no service name, no screening), the
event basics every appointment's calendar entry shares (schedule.feed uses them too), and the
VTIMEZONE blocks every calendar we publish carries.

A patient's file updates the event it replaces: the same UID for the life of the appointment,
SEQUENCE from the appointment's own counter (0 when booked, one more on every change), and
METHOD:REQUEST with the clinic as ORGANIZER and the patient as ATTENDEE, or METHOD:CANCEL once
cancelled: what calendar apps need to treat a new file as an update, not a second event.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress

from booking.models import Appointment
from clinic.emails import site_host
from clinic.vtimezone import add_time_zones


def manage_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse("booking:manage", args=[appointment.manage_token])


def place(appointment: Appointment) -> str:
    """The location on one line: its name and address, as calendars show it."""
    return f"{appointment.location.name}, {appointment.location.address.replace(chr(10), ', ')}"


def calendar_event_for(appointment: Appointment, *, uid: str, now) -> Event:
    """The parts of an appointment's event every calendar we publish agrees on: the given UID
    (stable across fetches and moves, so an app updates the event instead of adding one), the
    times in the location's zone (its VTIMEZONE is added by the calendar), the place, and the
    appointment's SEQUENCE."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", calendar_time(appointment.start, appointment.location.zone))
    event.add("dtend", calendar_time(appointment.end, appointment.location.zone))
    event.add("location", place(appointment))
    event.add("sequence", appointment.sequence)
    return event


def calendar_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """The location's local time, or UTC where that local time is ambiguous (the repeated hour
    of a fall-back night) or skipped: parsers disagree on which of two 01:30s a local time means
    (RFC 5545 says the first, ical.js takes the second), none on a UTC time."""
    local = timezone.localtime(instant, zone)
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():
        return instant.astimezone(UTC)
    return local


def patient_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.reference}@{site_host()}"


def patient_summary(appointment: Appointment) -> str:
    return f"Appointment at {settings.CLINIC_NAME} with {appointment.practitioner.name}"


def patient_description(appointment: Appointment) -> str:
    phone = appointment.location.phone.as_national
    if appointment.status == Appointment.Status.CANCELLED:
        return f"Booking reference {appointment.reference}, cancelled. To book again, call {phone}."
    return f"Booking reference {appointment.reference}. To change or cancel: {manage_url(appointment)} or call {phone}."


def _patient_event(appointment: Appointment, *, now) -> Event:
    event = calendar_event_for(appointment, uid=patient_uid(appointment), now=now)
    event.add("summary", patient_summary(appointment))
    event.add("description", patient_description(appointment))
    cancelled = appointment.status == Appointment.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{settings.CLINIC_EMAIL}")
    organizer.params["cn"] = settings.CLINIC_NAME
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{appointment.patient.email}")
    attendee.params.update(
        {
            "cn": f"{appointment.patient.first_name} {appointment.patient.last_name}",
            "role": "REQ-PARTICIPANT",
            "partstat": "DECLINED" if cancelled else "ACCEPTED",
            "rsvp": "FALSE",
        }
    )
    event.add("attendee", attendee)
    return event


def ics_method(appointments: list[Appointment]) -> str:
    """One appointment: CANCEL once cancelled, else REQUEST (an invitation its later files
    update). Several (a series booked together): PUBLISH, as iTIP allows a REQUEST or CANCEL
    for one UID only (sabre/vobject, behind Nextcloud and Baikal, refuses more); each visit's
    own later files (a move, a cancellation) are REQUEST or CANCEL with the same UID."""
    if len(appointments) > 1:
        return "PUBLISH"
    return "CANCEL" if appointments[0].status == Appointment.Status.CANCELLED else "REQUEST"


def patient_ics(appointments: list[Appointment]) -> bytes:
    """The patient's file for one appointment, or for the visits of a series booked together."""
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", ics_method(appointments))
    now = timezone.now()
    for appointment in appointments:
        calendar.add_component(_patient_event(appointment, now=now))
    add_time_zones(calendar, [(appointment.location.zone, appointment.start) for appointment in appointments])
    return calendar.to_ical()


def ics_content_type(appointments: list[Appointment]) -> str:
    # Mail apps (Gmail, Outlook) show a file as an invitation update only with its method here.
    return f"text/calendar; method={ics_method(appointments)}; charset=utf-8"


# "Add to calendar" links: plain URLs the calendar sites document, built from the appointment.
# The manage link stays out of them: query strings end up in other servers' logs.


def _link_details(appointment: Appointment) -> str:
    return (
        f"Booking reference {appointment.reference}. To change or cancel, use the link in your "
        f"confirmation email or call {appointment.location.phone.as_national}."
    )


def google_calendar_url(appointment: Appointment) -> str:
    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    query = {
        "action": "TEMPLATE",
        "text": patient_summary(appointment),
        "dates": f"{utc(appointment.start)}/{utc(appointment.end)}",
        "details": _link_details(appointment),
        "location": place(appointment),
        "ctz": appointment.location.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_calendar_url(appointment: Appointment) -> str:
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": patient_summary(appointment),
        "startdt": appointment.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "enddt": appointment.end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "body": _link_details(appointment),
        "location": place(appointment),
    }
    return "https://outlook.live.com/calendar/0/action/compose?" + urlencode(query)

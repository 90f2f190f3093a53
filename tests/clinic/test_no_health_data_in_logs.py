"""Logs hold no patient's identity, no health text and no link token: everything a booking, a
call-back request, the waiting list and the email worker log is captured, at DEBUG, and searched."""

import io
import logging
import logging.config
import smtplib

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.urls import reverse

from booking.models import Appointment
from clinic.models import OutboundMessage
from discovery.models import DiscoveryCallRequest
from schedule.models import CalendarFeed
from waitlist.models import WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db

# Distinctive strings: found in a log only if the value itself was logged.
PATIENT = {
    "first_name": "Xanthippe",
    "last_name": "Marbleworth",
    "email": "xanthippe.marbleworth@example.com",
    "phone": "(614) 555-0187",
    "date_of_birth": "1966-08-23",
}
PHONE_E164 = "+16145550187"
NEEDLING_NOTES = "Bruised-badly-marker-4471"
OTHER_CONDITIONS = "Epilepsy-marker-9083"
CANCELLATION_REASON = "Chemotherapy-marker-5520 this week"
CALLER = {"name": "Quenby Arrowsmith", "email": "quenby.arrowsmith@example.com", "phone": "(614) 555-0166"}
CONCERN = "Numb-foot-marker-3318 since the accident"
WAITING = {"first_name": "Ottoline", "last_name": "Fairweather", "email": "ottoline.f@example.com"}
WAITING_PHONE = "(614) 555-0155"


@pytest.fixture
def captured_logs():
    """The production logging configuration with the root logger (LOG_LEVEL), django.request and
    django.server at DEBUG, its one handler writing here. (The "django" logger stays at INFO, as
    configured: at DEBUG its template and SQL loggers print contexts and query parameters; see
    docs/PRIVACY.md.)"""
    stream = io.StringIO()
    config = {**settings.LOGGING}
    config["handlers"] = {"console": {**config["handlers"]["console"], "stream": stream, "level": "DEBUG"}}
    config["root"] = {**config["root"], "level": "DEBUG"}
    config["loggers"] = {
        **config["loggers"],
        "django.server": {**config["loggers"]["django.server"], "level": "DEBUG"},
        "django.request": {"level": "DEBUG"},
    }
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


def secrets_in(output: str, *values: str) -> list[str]:
    lowered = output.lower()
    return [value for value in values if value.lower() in lowered]


def test_a_whole_booking_journey_logs_nothing_personal(
    client, captured_logs, catalogue, open_all_week, dry_needling, westerville, booking_day, ten_am, sciatica
):
    # The wizard: a first online booking with screening free text.
    booked = client.post(
        reverse("booking:details"),
        {
            "service": dry_needling.slug,
            "location": westerville.slug,
            "practitioner": "any",
            "start": ten_am.isoformat(),
            **PATIENT,
            "needled_before": "on",
            "previous_needling_notes": NEEDLING_NOTES,
            "other_conditions": OTHER_CONDITIONS,
            "consent": "on",
        },
    )
    assert booked.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.screening.other_conditions == OTHER_CONDITIONS
    assert client.get(booked["Location"]).status_code == 200

    # A call-back request with a concern, and a place on the waiting list for the booked morning.
    asked = client.post(
        "/discovery-call/",
        {**CALLER, "best_time": "morning", "concern": CONCERN, "conditions": ["sciatica"], "consent_to_contact": "on"},
    )
    assert asked.status_code == 302 and DiscoveryCallRequest.objects.get().concern == CONCERN
    joined = client.post(
        reverse("waitlist:join") + f"?service={dry_needling.slug}&location={westerville.slug}",
        {
            "practitioner": "any",
            "first_day": booking_day.isoformat(),
            "last_day": booking_day.isoformat(),
            "times_of_day": ["mornings"],
            **WAITING,
            "phone": WAITING_PHONE,
        },
    )
    assert joined.status_code == 302
    entry = WaitlistEntry.objects.get()

    call_command("send_due_notifications")
    # The patient cancels with a reason: the time is offered to the waiting list.
    cancelled = client.post(reverse("booking:cancel", args=[appointment.manage_token]), {"reason": CANCELLATION_REASON})
    assert cancelled.status_code == 302

    call_command("send_due_notifications")
    offer = WaitlistOffer.objects.get()
    subjects = {message.subject for message in mail.outbox}
    assert len(mail.outbox) >= 5, subjects  # confirmation, acknowledgement, clinic notice, joined, offer

    # Private links opened, and the 404s of links that do not (or no longer) work.
    assert client.get(reverse("waitlist:offer", args=[offer.token])).status_code == 200
    missing_token = appointment.manage_token[::-1]
    assert client.get(reverse("booking:manage", args=[missing_token])).status_code == 404
    assert client.get(reverse("waitlist:entry", args=[entry.token[::-1]])).status_code == 404
    feed = CalendarFeed.objects.create(practitioner=appointment.practitioner)
    assert client.get(reverse("schedule:feed", args=[feed.token])).status_code == 200
    assert client.get(reverse("schedule:feed", args=[feed.token[::-1]])).status_code == 404

    output = captured_logs.getvalue()
    assert "email sent for" in output and "Not Found: /appointments/[token]/" in output  # the capture works
    assert (
        secrets_in(
            output,
            *PATIENT.values(),
            PHONE_E164,
            NEEDLING_NOTES,
            OTHER_CONDITIONS,
            CANCELLATION_REASON,
            *CALLER.values(),
            "+16145550166",
            CONCERN,
            *WAITING.values(),
            "+16145550155",
            appointment.manage_token,
            missing_token,
            entry.token,
            offer.token,
        )
        == []
    )


def refuse_the_recipient(backend, email_messages):
    """A mail server that refuses the recipient, as SMTP says it: naming the address."""
    raise smtplib.SMTPRecipientsRefused({email_messages[0].to[0]: (550, b"5.1.1 <mailbox> unknown")})


def test_a_refused_email_is_logged_without_the_address(
    client, captured_logs, catalogue, open_all_week, dry_needling, westerville, ten_am, monkeypatch
):
    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse_the_recipient)
    client.post(
        reverse("booking:details"),
        {
            "service": dry_needling.slug,
            "location": westerville.slug,
            "practitioner": "any",
            "start": ten_am.isoformat(),
            **PATIENT,
            "consent": "on",
        },
    )
    appointment = Appointment.objects.get()

    call_command("send_due_notifications")

    output = captured_logs.getvalue()
    assert f"Confirmation email for booking {appointment.reference} not delivered: the mail server refused it" in output
    assert secrets_in(output, PATIENT["email"], PATIENT["last_name"]) == []
    # A 550 is final: shown to reception as not delivered, not retried.
    refused = OutboundMessage.objects.get()
    assert refused.state == OutboundMessage.State.FAILED
    assert PATIENT["email"] not in refused.last_error

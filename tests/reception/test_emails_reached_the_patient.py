"""Reception sees, on the appointment, whether its emails reached the patient: a confirmation
the worker could not deliver says so beside the calendar and on the record, so someone calls."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from clinic.models import OutboundMessage
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def test_a_confirmation_to_an_address_that_cannot_take_mail_shows_as_not_delivered(client, receptionist):
    appointment = AppointmentFactory(patient__email="moved.away@old-provider.invalid")

    call_command("send_due_notifications")

    assert not mail.outbox
    assert OutboundMessage.objects.get().state == OutboundMessage.State.FAILED
    client.force_login(receptionist)
    panel = client.get(reverse("reception:panel", args=[appointment.pk])).content.decode()
    assert "Confirmation email: <strong>not delivered</strong> (The address cannot be delivered to.)" in panel
    record = client.get(reverse("admin:booking_appointment_change", args=[appointment.pk])).content.decode()
    assert "Confirmation email: <strong>not delivered</strong> The address cannot be delivered to." in record


def test_a_confirmation_waiting_for_the_mail_server_says_so_then_when_it_went(client, receptionist):
    appointment = AppointmentFactory()
    client.force_login(receptionist)
    refused = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    with mock.patch("django.core.mail.backends.locmem.EmailBackend.send_messages", side_effect=refused):
        call_command("send_due_notifications")

    panel = client.get(reverse("reception:panel", args=[appointment.pk])).content.decode()
    assert "Confirmation email: <strong>waiting for the mail server</strong>" in panel

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        call_command("send_due_notifications")

    panel = client.get(reverse("reception:panel", args=[appointment.pk])).content.decode()
    assert "Confirmation email: sent " in panel
    assert len(mail.outbox) == 1


def test_no_email_yet_reads_none_yet(client, receptionist):
    appointment = AppointmentFactory()
    client.force_login(receptionist)
    panel = client.get(reverse("reception:panel", args=[appointment.pk])).content.decode()
    assert "<dt>Emails</dt><dd>None yet</dd>" in panel

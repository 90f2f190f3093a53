"""The acknowledgement and the clinic notice: sent by the worker after commit, once, without health data."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from discovery import notifications
from discovery.services import submit_call_request
from tests.discovery.factories import DiscoveryCallRequestFactory, call_back_details
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

CONCERN = "Numbness in my left foot since the fall"


@pytest.fixture
def submitted(sciatica, westerville):
    call_request, _ = submit_call_request(
        details=call_back_details(0, concern=CONCERN, conditions=(sciatica,), name="Grace Hopper", best_time="evening")
    )
    return call_request


def sent_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def test_nothing_is_sent_by_the_request_itself(submitted):
    assert mail.outbox == []


def test_the_worker_sends_each_email_once(submitted):
    call_command("send_due_notifications")
    assert len(mail.outbox) == 2
    call_command("send_due_notifications")
    assert len(mail.outbox) == 2
    submitted.refresh_from_db()
    assert submitted.acknowledgement_sent_at is not None and submitted.clinic_notified_at is not None


def test_a_repeat_request_from_the_same_address_sends_nothing_more(submitted):
    call_command("send_due_notifications")
    submit_call_request(details=call_back_details(0))
    call_command("send_due_notifications")
    assert len(mail.outbox) == 2


def test_a_claimed_email_is_not_sent_by_a_second_worker(submitted):
    assert notifications.send_acknowledgement(submitted.pk) is True
    assert notifications.send_acknowledgement(submitted.pk) is False
    assert notifications.send_clinic_notice(submitted.pk) is True
    assert notifications.send_clinic_notice(submitted.pk) is False
    assert len(mail.outbox) == 2


def test_the_acknowledgement_says_when_we_call_and_repeats_no_health_data(westerville):
    with time_machine.travel(datetime(2030, 1, 18, 16, tzinfo=ZoneInfo("America/New_York")), tick=False):
        call_request, _ = submit_call_request(
            details=call_back_details(0, concern=CONCERN, name="Grace Hopper", best_time="morning")
        )
        notifications.send_acknowledgement(call_request.pk)
    (message,) = sent_to("grace0@example.com")
    assert call_request.reference in message.subject
    html = message.alternatives[0].content
    for body in (message.body, html):
        assert "Monday 21 January" in body
        assert "in the morning, between 9 am and 12 pm (New York time)" in body
        assert call_request.reference in body
        assert "(614) 555-0000" in body  # the number we will call
        assert CONCERN not in body and "Numbness" not in body and "Sciatica" not in body


def test_the_clinic_notice_names_the_caller_and_links_to_the_admin_without_health_data(submitted, settings):
    notifications.send_clinic_notice(submitted.pk)
    (message,) = sent_to(settings.CLINIC_EMAIL)
    assert message.to == ["reception@example.com"]
    assert submitted.reference in message.subject
    for text in ("Grace Hopper", "+1 614-555-0000", "Weekday evening", submitted.reference):
        assert text in message.body
    assert f"http://testserver/admin/discovery/discoverycallrequest/{submitted.pk}/change/" in message.body
    assert "Numbness" not in message.body and "Sciatica" not in message.body


def test_subjects_carry_the_reference_and_nothing_of_what_was_told(submitted, settings):
    settings.CLINIC_NAME = "Riverside Pain & Needling Clinic"
    call_command("send_due_notifications")
    assert sorted(message.subject for message in mail.outbox) == [
        f"New call-back request {submitted.reference}: Weekday evening (5 – 7 pm)",
        f"We will call you back: Riverside Pain & Needling Clinic ({submitted.reference})",  # not &amp;
    ]


def test_a_failed_send_waits_for_the_mail_server(submitted, monkeypatch, caplog):
    def fail(self, *args, **kwargs):
        raise ConnectionError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", fail)
    call_command("send_due_notifications")  # logged, not raised; the rest waits for the server
    submitted.refresh_from_db()
    assert submitted.clinic_notified_at is None
    assert submitted.reference in caplog.text
    assert "Grace" not in caplog.text and "Numbness" not in caplog.text
    monkeypatch.undo()
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        call_command("send_due_notifications")
    assert len(mail.outbox) == 2


def test_stale_requests_get_no_promise_but_the_clinic_still_hears_of_them(westerville):
    old = DiscoveryCallRequestFactory(created_at=timezone.now() - timedelta(days=3))
    call_command("send_due_notifications")
    assert [message.to for message in mail.outbox] == [["reception@example.com"]]
    old.refresh_from_db()
    assert old.acknowledgement_sent_at is None


def test_one_worker_run_sends_booking_confirmations_and_call_back_emails(submitted):
    appointment = AppointmentFactory()
    output = io.StringIO()
    call_command("send_due_notifications", stdout=output)
    assert output.getvalue() == "Sent 3 email(s).\n"
    assert {tuple(message.to) for message in mail.outbox} == {
        (appointment.patient.email,),
        ("grace0@example.com",),
        ("reception@example.com",),
    }

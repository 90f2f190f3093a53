"""Reminders before a visit and aftercare after it: due when they should be (also across a
clock change), sent by the worker once, with no treatment named in the subject."""

import logging
from datetime import UTC, datetime, timedelta
from smtplib import SMTPException
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django.utils import timezone

from booking.models import Appointment
from booking.notifications import due_aftercare, due_reminders, send_aftercare, send_reminder
from booking.services import mark_completed, reschedule_appointment
from clinic.models import OutboundMessage
from tests.clinic.test_settings import PRODUCTION, _start
from tests.factories import AppointmentFactory
from tests.helpers import race

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
BEFORE = "Eat a light meal & drink water; wear loose clothing <not jeans>."
AFTER = "Walk gently; heat for tight muscles & ice for soreness <as advised>."


@pytest.fixture
def service(dry_needling):
    dry_needling.before_visit_advice = BEFORE
    dry_needling.after_visit_advice = AFTER
    dry_needling.save()
    return dry_needling


@pytest.fixture
def upcoming(physio, westerville, service):
    """Booked long ago for a date fixed by each test; its confirmation went out then."""

    def make(start: datetime, **fields) -> Appointment:
        long_ago = start - timedelta(days=14)
        fields = {"service": service, "created_at": long_ago, "confirmation_sent_at": long_ago, **fields}
        return AppointmentFactory(practitioner=physio, location=westerville, start=start, **fields)

    return make


def reminders() -> list:
    return [message for message in mail.outbox if message.subject.startswith("Reminder:")]


# A Tuesday in January: no clock change anywhere near.
TUESDAY_TEN = datetime(2030, 1, 15, 10, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    "before_start, changes, due",
    [
        pytest.param(timedelta(hours=25), {}, False, id="too early"),
        pytest.param(timedelta(hours=24, seconds=1), {}, False, id="a second too early"),
        pytest.param(timedelta(hours=24), {}, True, id="due at 24 hours"),
        pytest.param(timedelta(hours=3), {}, True, id="still due 3 hours before"),
        pytest.param(timedelta(hours=2), {}, False, id="too close to the start"),
        pytest.param(-timedelta(hours=1), {}, False, id="past"),
        pytest.param(timedelta(hours=20), {"reminder_sent_at": TUESDAY_TEN - timedelta(hours=24)}, False, id="sent"),
        pytest.param(timedelta(hours=20), {"status": Appointment.Status.CANCELLED}, False, id="cancelled"),
        pytest.param(timedelta(hours=20), {"status": Appointment.Status.NO_SHOW}, False, id="no-show"),
        # Booked after the reminder moment: the confirmation just sent says the same.
        pytest.param(timedelta(hours=20), {"created_at": TUESDAY_TEN - timedelta(hours=21)}, False, id="booked late"),
        pytest.param(timedelta(hours=20), {"created_at": TUESDAY_TEN - timedelta(hours=25)}, True, id="booked early"),
    ],
)
def test_a_reminder_is_due_from_24_hours_before_until_2_hours_before(upcoming, before_start, changes, due):
    appointment = upcoming(TUESDAY_TEN, **changes)
    assert (appointment.pk in due_reminders(now=TUESDAY_TEN - before_start)) is due


def test_the_hours_before_come_from_the_setting(upcoming, settings):
    settings.REMINDER_HOURS_BEFORE = 48
    appointment = upcoming(TUESDAY_TEN)
    assert due_reminders(now=TUESDAY_TEN - timedelta(hours=48, minutes=1)) == []
    assert due_reminders(now=TUESDAY_TEN - timedelta(hours=48)) == [appointment.pk]


def test_a_short_setting_still_leaves_a_window_to_send_in(upcoming, settings):
    settings.REMINDER_HOURS_BEFORE = 1
    appointment = upcoming(TUESDAY_TEN)
    assert due_reminders(now=TUESDAY_TEN - timedelta(minutes=45)) == [appointment.pk]
    assert due_reminders(now=TUESDAY_TEN - timedelta(minutes=29)) == []


@pytest.mark.parametrize(
    "start, not_yet, due_from",
    [
        # Spring forward (Sunday 8 March 2026, 02:00 EST -> 03:00 EDT): 09:00 EDT Sunday is 13:00 UTC;
        # the day before at 09:00 EST is 14:00 UTC, 23 real hours before. 24 real hours would be 08:00.
        pytest.param(
            datetime(2026, 3, 8, 9, tzinfo=NEW_YORK),
            datetime(2026, 3, 7, 13, 59, tzinfo=UTC),
            datetime(2026, 3, 7, 14, tzinfo=UTC),
            id="spring forward",
        ),
        # Fall back (Sunday 1 November 2026, 02:00 EDT -> 01:00 EST): 09:00 EST Sunday is 14:00 UTC;
        # the day before at 09:00 EDT is 13:00 UTC, 25 real hours before. 24 real hours would be 10:00.
        pytest.param(
            datetime(2026, 11, 1, 9, tzinfo=NEW_YORK),
            datetime(2026, 10, 31, 12, 59, tzinfo=UTC),
            datetime(2026, 10, 31, 13, tzinfo=UTC),
            id="fall back",
        ),
    ],
)
def test_across_a_clock_change_the_reminder_comes_the_day_before_at_the_same_clock_time(
    upcoming, start, not_yet, due_from
):
    appointment = upcoming(start)
    with time_machine.travel(not_yet, tick=False):
        call_command("send_due_notifications")
    assert reminders() == []
    with time_machine.travel(due_from, tick=False):
        assert timezone.localtime(timezone.now(), NEW_YORK).hour == 9
        call_command("send_due_notifications")
    [message] = reminders()
    # The time as the patient's clock will show it, in the location's zone.
    assert f"{start:%A %-d %B %Y}, 9:00 AM (New York time)" in message.body
    appointment.refresh_from_db()
    assert appointment.reminder_sent_at == due_from


def test_the_reminder_carries_the_advice_the_address_and_the_manage_link(upcoming, westerville, settings):
    settings.CLINIC_NAME = "Pain & Needling"
    appointment = upcoming(TUESDAY_TEN)
    # Two days before, with a 48-hour reminder: online changes are still open.
    settings.REMINDER_HOURS_BEFORE = 48
    with time_machine.travel(TUESDAY_TEN - timedelta(hours=48), tick=False):
        call_command("send_due_notifications")
    [message] = mail.outbox
    assert message.to == [appointment.patient.email]
    assert message.subject == (
        f"Reminder: your appointment at Pain & Needling on Tue 15 Jan, 10:00 AM ({appointment.reference})"
    )
    assert BEFORE in message.body
    assert "  Where:     Westerville\n             1 Main Street\n             Westerville, OH 43081\n" in message.body
    assert westerville.phone.as_national in message.body
    assert f"/appointments/{appointment.manage_token}/" in message.body
    assert "online until Monday 14 January, 10:00 AM" in message.body
    html = message.alternatives[0][0]
    assert "Eat a light meal &amp; drink water; wear loose clothing &lt;not jeans&gt;." in html
    assert "<not jeans>" not in html
    assert "Pain &amp; Needling" in html


def test_once_online_changes_have_closed_the_reminder_says_to_call(upcoming, westerville):
    appointment = upcoming(TUESDAY_TEN)
    with time_machine.travel(TUESDAY_TEN - timedelta(hours=24), tick=False):
        call_command("send_due_notifications")
    [message] = mail.outbox
    assert f"To change or cancel now, please call us on {westerville.phone.as_national}." in message.body
    assert f"/appointments/{appointment.manage_token}/" in message.body


def _ago(**delta) -> datetime:
    return (timezone.now() - timedelta(**delta)).replace(second=0, microsecond=0)


def test_marking_a_visit_completed_sends_aftercare_from_the_worker_once(upcoming, westerville):
    appointment = upcoming(_ago(hours=2))
    mark_completed(appointment=appointment)
    assert mail.outbox == []  # never from the request
    call_command("send_due_notifications")
    call_command("send_due_notifications")
    [message] = mail.outbox
    assert message.to == [appointment.patient.email]
    assert message.subject.startswith("After your visit to ")
    assert appointment.reference in message.subject
    assert AFTER in message.body
    assert "If your pain is still bad two days after your visit, please call us on" in message.body
    assert westerville.phone.as_national in message.body
    html = message.alternatives[0][0]
    assert "heat for tight muscles &amp; ice for soreness &lt;as advised&gt;." in html
    appointment.refresh_from_db()
    assert appointment.aftercare_sent_at is not None


@pytest.mark.parametrize(
    "status",
    [
        Appointment.Status.CONFIRMED,
        Appointment.Status.ARRIVED,
        Appointment.Status.NO_SHOW,
        Appointment.Status.CANCELLED,
    ],
)
def test_no_aftercare_for_a_visit_not_completed(upcoming, status):
    upcoming(_ago(hours=2), status=status)
    call_command("send_due_notifications")
    assert mail.outbox == []


def test_no_aftercare_for_a_visit_long_ago_or_not_yet_over(upcoming, discovery_call):
    long_ago = upcoming(_ago(days=3, minutes=1), status=Appointment.Status.COMPLETED)
    still_on = upcoming(_ago(minutes=10), status=Appointment.Status.COMPLETED)
    call = upcoming(_ago(hours=2), status=Appointment.Status.COMPLETED, service=discovery_call)
    assert due_aftercare() == []
    assert due_aftercare(now=still_on.end) == [still_on.pk]
    assert not send_aftercare(long_ago.pk)
    assert not send_aftercare(call.pk)


def test_no_subject_names_the_treatment_or_the_advice(upcoming, service):
    upcoming(timezone.now() + timedelta(hours=20))
    upcoming(_ago(hours=2), status=Appointment.Status.COMPLETED)
    call_command("send_due_notifications")
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        # The clinic's own name may say "Pain & Needling"; the treatment and the advice never show.
        for health_words in (service.name, "assessment", "dry needling", BEFORE, AFTER, "Eat a light", "Walk"):
            assert health_words.lower() not in message.subject.lower()


def test_one_worker_run_sends_reminders_and_aftercare(upcoming):
    tomorrow = upcoming(timezone.now() + timedelta(hours=20))
    today = upcoming(_ago(hours=2), status=Appointment.Status.COMPLETED)
    call_command("send_due_notifications")
    assert sorted((message.subject.split()[0], message.to[0]) for message in mail.outbox) == [
        ("After", today.patient.email),
        ("Reminder:", tomorrow.patient.email),
    ]
    call_command("send_due_notifications")
    assert len(mail.outbox) == 2


def test_a_failed_send_waits_for_the_mail_server_and_is_retried(upcoming, caplog):
    appointment = upcoming(timezone.now() + timedelta(hours=20))
    with (
        mock.patch.object(EmailMultiAlternatives, "send", side_effect=SMTPException("connection refused")),
        caplog.at_level(logging.ERROR, logger="booking.notifications"),
    ):
        call_command("send_due_notifications")  # the worker carries on
    assert [record.getMessage() for record in caplog.records] == [
        f"Reminder email for booking {appointment.reference} failed; will retry"
    ]
    call_command("send_due_notifications")
    assert reminders() == []  # it waits a minute before the first retry
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        call_command("send_due_notifications")
    assert len(reminders()) == 1
    # The retry is the stored email itself, with the Message-ID it was first written with.
    assert reminders()[0].extra_headers["Message-ID"] == OutboundMessage.objects.get().message_id
    assert OutboundMessage.objects.get().state == OutboundMessage.State.SENT


def test_a_reminder_cancelled_after_it_was_found_due_is_not_sent(upcoming):
    appointment = upcoming(timezone.now() + timedelta(hours=20))
    assert due_reminders() == [appointment.pk]
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    assert send_reminder(appointment.pk) is False
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["reminder", "aftercare"])
def test_two_workers_at_once_send_exactly_one(upcoming, kind):
    if kind == "reminder":
        appointment, send = upcoming(timezone.now() + timedelta(hours=20)), send_reminder
    else:
        appointment, send = upcoming(_ago(hours=2), status=Appointment.Status.COMPLETED), send_aftercare
    results = race(2, lambda _: send(appointment.pk))
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("value", ["0", "169", "a day"])
def test_a_bad_reminder_setting_stops_start_up(value):
    result = _start({**PRODUCTION, "REMINDER_HOURS_BEFORE": value})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Configuration error: REMINDER_HOURS_BEFORE ")


def test_every_appointment_email_shows_the_time_on_the_locations_clock(physio, calgary, service):
    # 10:00 in Calgary is 17:00 UTC, the worker's own zone.
    start = datetime(2030, 1, 15, 10, tzinfo=ZoneInfo("America/Edmonton"))
    physio.locations.add(calgary)
    booked_at = start - timedelta(days=3)
    booked = AppointmentFactory(
        practitioner=physio, location=calgary, service=service, start=start, created_at=booked_at
    )
    with time_machine.travel(booked_at, tick=False):
        call_command("send_due_notifications")  # the confirmation
    with time_machine.travel(start - timedelta(hours=24), tick=False):
        call_command("send_due_notifications")  # the reminder
    Appointment.objects.filter(pk=booked.pk).update(status=Appointment.Status.COMPLETED)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        call_command("send_due_notifications")  # the aftercare
    confirmation, reminder, aftercare = mail.outbox
    for message in (confirmation, reminder):
        assert "10:00 AM" in message.subject
        assert "Tuesday 15 January 2030, 10:00 AM (Edmonton time)" in message.body
        assert "Tuesday 15 January 2030, 10:00 AM (Edmonton time)" in message.alternatives[0][0]
    assert aftercare.subject.startswith("After your visit to ")
    assert "Tuesday 15 January" in aftercare.body


def test_moving_an_appointment_after_its_reminder_went_out_earns_a_new_one(
    physio, westerville, dry_needling, open_all_week, ten_am, receptionist
):
    start = ten_am + timedelta(days=3)
    appointment = AppointmentFactory(
        practitioner=physio, location=westerville, service=dry_needling, start=start, reminder_sent_at=timezone.now()
    )
    moved = reschedule_appointment(appointment=appointment, new_start=start + timedelta(days=1), actor=receptionist)
    assert moved.reminder_sent_at is None


def test_the_confirmation_lists_each_address_line_on_its_own_line(physio, westerville):
    westerville.address = "245 Riverbend Parkway\nWesterville, OH 43081"
    westerville.save()
    AppointmentFactory(practitioner=physio, location=westerville, start=timezone.now() + timedelta(days=5))
    call_command("send_due_notifications")
    body = mail.outbox[0].body
    assert "245 Riverbend Parkway\n" in body and "Parkway Westerville" not in body and "ParkwayWesterville" not in body

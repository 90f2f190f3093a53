"""Follow-up visits booked together get one email ("your next 3 visits") with one calendar file
holding every visit, not one confirmation each; a visit booked later on its own gets its own."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from icalendar import Calendar

from booking.models import Appointment, TimeOff, TreatmentSeries
from booking.notifications import due_confirmations, send_series_confirmation
from booking.services import book_follow_ups, book_series_session
from tests.booking.test_series import week
from tests.helpers import race, worker_round

pytestmark = pytest.mark.django_db


def book_weekly(appointment, sessions=3):
    return book_follow_ups(
        appointment=appointment, sessions=sessions, interval_weeks=1, consent_given=True, consent_version="1"
    )


@pytest.fixture
def confirmed_first_visit(first_visit):
    worker_round()
    mail.outbox.clear()
    return first_visit


def test_one_email_and_one_calendar_file_for_the_visits_booked_together(
    confirmed_first_visit, booking_day, westerville
):
    result = book_weekly(confirmed_first_visit)
    worker_round()
    worker_round()
    (message,) = mail.outbox
    assert message.subject.startswith("Your next 3 visits at ")
    assert "needling" not in message.subject.lower().replace("pain & needling clinic", "")
    visits = list(result.series.appointments.order_by("start"))
    for visit in visits:
        assert visit.reference in message.body
    (name, content, mimetype) = message.attachments[0]
    # PUBLISH: iTIP's REQUEST is for one UID; each visit's later files are REQUEST or CANCEL.
    assert (name, mimetype) == ("follow-up-visits.ics", "text/calendar; method=PUBLISH; charset=utf-8")
    events = Calendar.from_ical(content).walk("VEVENT")
    assert [event.decoded("dtstart") for event in events] == [week(booking_day, westerville, n) for n in (1, 2, 3)]
    assert {str(event["uid"]) for event in events} == {f"appointment-{v.reference}@testserver" for v in visits}
    for visit in visits:
        visit.refresh_from_db()
        assert visit.confirmation_sent_at is not None and visit.told_start == visit.start


def test_not_sent_halfway_through_the_booking(confirmed_first_visit):
    # The worker may run while the visits are still being booked: it waits for the last.
    from booking import services

    real = services._book_series_visit
    seen = []

    def booking_then_the_worker_runs(*args, **kwargs):
        visit = real(*args, **kwargs)
        worker_round()
        seen.append(len(mail.outbox))
        return visit

    services._book_series_visit = booking_then_the_worker_runs
    try:
        book_weekly(confirmed_first_visit)
    finally:
        services._book_series_visit = real
    assert seen == [0, 0, 0]
    worker_round()
    assert len(mail.outbox) == 1


def test_a_series_whose_booking_was_cut_off_is_confirmed_later(confirmed_first_visit):
    result = book_weekly(confirmed_first_visit)
    TreatmentSeries.objects.filter(pk=result.series.pk).update(booked_at=None)  # as if the request died
    worker_round()
    assert mail.outbox == []
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=True):
        worker_round()
    assert len(mail.outbox) == 1


def test_a_week_that_could_not_be_booked_is_named_with_the_link_to_other_times(
    confirmed_first_visit, physio, westerville, booking_day
):
    blocked = week(booking_day, westerville, 2)
    TimeOff.objects.create(practitioner=physio, start=blocked - timedelta(hours=1), end=blocked + timedelta(hours=7))
    book_weekly(confirmed_first_visit)
    worker_round()
    (message,) = mail.outbox
    assert message.subject.startswith("Your next 2 visits at ")
    assert "1 of the weeks you asked for could not be booked" in message.body
    assert f"/appointments/{confirmed_first_visit.manage_token}/follow-ups/" in message.body


def test_a_visit_booked_later_on_its_own_gets_its_own_confirmation(
    confirmed_first_visit, physio, westerville, booking_day
):
    blocked = week(booking_day, westerville, 2)
    time_off = TimeOff.objects.create(
        practitioner=physio, start=blocked - timedelta(hours=1), end=blocked + timedelta(hours=7)
    )
    result = book_weekly(confirmed_first_visit)
    worker_round()
    mail.outbox.clear()
    time_off.delete()
    later = book_series_session(series=result.series, session=2, start=blocked)
    assert due_confirmations() == [later.pk]
    worker_round()
    (message,) = mail.outbox
    assert "You're booked" in message.body and later.reference in message.body


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_series_email(first_visit):
    call_command("send_due_notifications")
    mail.outbox.clear()
    result = book_weekly(first_visit)
    results = race(2, lambda _: send_series_confirmation(result.series.pk))
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    assert Appointment.objects.filter(series=result.series, confirmation_sent_at__isnull=True).count() == 0


def test_visits_cancelled_between_the_check_and_the_claim_leave_nothing_claimed(monkeypatch, confirmed_first_visit):
    from booking import notifications

    result = book_weekly(confirmed_first_visit, sessions=2)
    real = notifications._unconfirmed
    calls = []

    def cancelled_meanwhile(now):
        calls.append(now)
        if len(calls) == 2:  # after the series' claim checked for visits, before they are read
            Appointment.objects.filter(series=result.series).update(status=Appointment.Status.CANCELLED)
        return real(now)

    monkeypatch.setattr(notifications, "_unconfirmed", cancelled_meanwhile)
    assert send_series_confirmation(result.series.pk) is False
    result.series.refresh_from_db()
    assert result.series.confirmation_sent_at is None
    assert mail.outbox == []

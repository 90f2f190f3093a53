"""Cached availability answers: one query on a hit, never stale after a write that changes
them, and still valid after writes that do not (scoped stamps, migration booking 0016)."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment, TimeOff, WorkingHours
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ask(client, dry_needling, westerville, booking_day, open_all_week):
    def ask(practitioner="maya-lindqvist", service=dry_needling):
        response = client.get(
            "/api/v1/availability",
            {
                "service": service.slug,
                "location": westerville.slug,
                "practitioner": practitioner,
                "start": str(booking_day),
                "end": str(booking_day),
            },
        )
        assert response.status_code == 200
        return [datetime.fromisoformat(slot["start"]) for slot in response.json()["slots"]]

    return ask


def test_a_repeated_question_is_answered_from_the_cache_in_one_query(ask, django_assert_num_queries):
    first = ask()
    with django_assert_num_queries(1):
        assert ask() == first


def test_a_booking_by_any_path_invalidates_the_answer(ask, physio, westerville, ten_am):
    assert ten_am in ask()
    AppointmentFactory(practitioner=physio, location=westerville, start=ten_am)  # behind every service's back
    assert ten_am not in ask()


@pytest.mark.parametrize(
    "write",
    [
        lambda physio, westerville, day: WorkingHours.objects.filter(practitioner=physio).delete(),
        lambda physio, westerville, day: TimeOff.objects.create(
            location=westerville,
            start=local_instant(day, time(0), westerville.zone),
            end=local_instant(day, time(23), westerville.zone),
        ),
        lambda physio, westerville, day: physio.qualifications.all().delete(),
        lambda physio, westerville, day: westerville.practitioners.remove(physio),
    ],
    ids=["hours", "closure", "qualification", "location"],
)
def test_schedule_and_catalogue_changes_invalidate_the_answer(ask, physio, westerville, booking_day, write):
    assert ask("any")
    write(physio, westerville, booking_day)
    assert ask("any") == []


def test_a_cached_answer_drops_times_that_fell_inside_the_notice(ask, booking_day, westerville):
    first = ask()
    now = local_instant(booking_day, time(9, 30), westerville.zone) - timedelta(hours=2) + timedelta(minutes=1)
    with time_machine.travel(now, tick=False):
        later = ask()
    assert len(later) < len(first)
    assert all(start >= now + timedelta(hours=2) for start in later)


def test_a_booking_for_one_practitioner_leaves_anothers_answer_cached(
    ask, physio, acupuncturist, acupuncture, dry_needling, westerville, ten_am, django_assert_num_queries
):
    maya, sofia = ask(), ask("sofia-marchetti", acupuncture)
    AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling, start=ten_am)
    with django_assert_num_queries(1):
        assert ask("sofia-marchetti", acupuncture) == sofia
    assert ten_am in maya and ten_am not in ask()


def test_a_reminders_sent_time_changes_no_answer(ask, physio, westerville, ten_am, django_assert_num_queries):
    appointment = AppointmentFactory(practitioner=physio, location=westerville, start=ten_am)
    first = ask()
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=timezone.now())
    appointment.refresh_from_db()
    appointment.save()  # every column written, none the engine reads changed
    with django_assert_num_queries(1):
        assert ask() == first


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        (
            lambda westerville, day, service: TimeOff.objects.create(
                location=westerville,
                start=local_instant(day, time(0), westerville.zone),
                end=local_instant(day, time(23), westerville.zone),
            ),
            lambda before, after: after == [],
        ),
        (
            lambda westerville, day, service: type(service).objects.filter(pk=service.pk).update(duration_minutes=420),
            lambda before, after: 0 < len(after) < len(before),
        ),
        (lambda westerville, day, service: _truncate("booking_timeoff"), lambda before, after: after == before),
    ],
    ids=["the location's closure", "the service's length", "a truncate"],
)
def test_a_write_for_a_location_a_service_or_everything_makes_the_answers_about_it_stale(
    ask, acupuncture, westerville, booking_day, write, expected
):
    before = ask("any", acupuncture)
    write(westerville, booking_day, acupuncture)
    with CaptureQueriesContext(connection) as queries:
        after = ask("any", acupuncture)
    assert len(queries) > 1, "answered from the cache"
    assert expected(before, after)


def _truncate(table):
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table}")


def test_each_stamp_comes_from_the_database_sequence(physio, westerville, open_all_week):
    def stamps():
        with connection.cursor() as cursor:
            cursor.execute("SELECT kind, object_id, version FROM booking_schedule_stamp")
            return {(kind, object_id): version for kind, object_id, version in cursor.fetchall()}

    before = stamps()
    westerville.save()
    WorkingHours.objects.filter(practitioner=physio).update(end_time=time(16))
    after = stamps()
    assert after[("l", westerville.pk)] > before.get(("l", westerville.pk), 0)
    assert after[("p", physio.pk)] > before.get(("p", physio.pk), 0)
    assert after[("c", 0)] > before[("c", 0)]  # a location is part of the catalogue (booking 0019)
    moved = {("l", westerville.pk), ("p", physio.pk), ("c", 0)}
    assert {key: version for key, version in after.items() if key not in moved} == {
        key: version for key, version in before.items() if key not in moved
    }

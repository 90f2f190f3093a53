"""Cached availability answers: one query on a hit, never stale after any write."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import connection

from booking.availability import local_instant
from booking.models import TimeOff, WorkingHours
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ask(client, dry_needling, westerville, booking_day, open_all_week):
    def ask(practitioner="maya-lindqvist"):
        response = client.get(
            "/api/v1/availability",
            {
                "service": dry_needling.slug,
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


def test_the_version_comes_from_the_database_sequence(westerville):
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM booking_schedule_version")
        before = cursor.fetchone()[0]
        westerville.save()
        cursor.execute("SELECT last_value FROM booking_schedule_version")
        assert cursor.fetchone()[0] > before

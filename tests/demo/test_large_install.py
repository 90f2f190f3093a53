"""The large install for measuring (demo/large_install.py), built small: what it makes, that it
keeps the database's invariants, and that the engine's query count does not grow with it."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from booking.availability import MAX_WINDOW_DAYS, available_slots, available_starts
from booking.models import Appointment, WorkingHours
from clinic.models import Location, Practitioner, Service
from patients.models import Patient

pytestmark = pytest.mark.django_db

SMALL = ["--practitioners", "12", "--locations", "4", "--patients", "300", "--days-back", "20", "--days-ahead", "10"]


@pytest.fixture
def large(settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_large_install", *SMALL)
    return capsys.readouterr().out


def test_it_builds_the_install_it_says(large):
    mine = Location.objects.filter(slug__startswith="large-")
    assert mine.count() == 4 and len({location.timezone for location in mine}) == 4
    assert Practitioner.objects.filter(slug__startswith="large-").count() == 12
    assert Patient.objects.filter(email__startswith="large").count() == 300
    ours = Appointment.objects.filter(location__in=mine)
    assert f"{ours.count()} appointments" in large
    now = timezone.now()
    assert not ours.filter(start__gte=now).exclude(status__in=["confirmed", "cancelled"]).exists()
    assert not ours.filter(start__lt=now, status="confirmed").exists()
    assert WorkingHours.objects.filter(location__in=mine).count() == 12 * 5


def test_its_bookings_keep_the_invariants(large):
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*) FROM booking_appointment AS a JOIN booking_appointment AS b
               ON a.id < b.id AND a.status IN ('confirmed', 'arrived', 'completed')
               AND b.status IN ('confirmed', 'arrived', 'completed')
               AND (a.practitioner_id = b.practitioner_id OR a.patient_id = b.patient_id)
               AND a.start < b.blocked_until AND b.start < a.blocked_until"""
        )
        assert cursor.fetchone()[0] == 0


def test_it_refuses_to_run_twice(large):
    with pytest.raises(CommandError, match="already holds"):
        call_command("seed_large_install", *SMALL)


@pytest.mark.parametrize("days", [1, 30, MAX_WINDOW_DAYS])
@pytest.mark.parametrize("practitioners", [1, 3, 12])
def test_the_engine_takes_one_query_whatever_the_window_or_the_team(
    large, django_assert_num_queries, days, practitioners
):
    cupping = Service.objects.get(slug="cupping")
    team = list(Practitioner.objects.filter(slug__startswith="large-").order_by("pk")[:practitioners])
    location = Location.objects.get(slug="large-clinic-1")
    first_day = timezone.localdate() + timedelta(days=1)
    with django_assert_num_queries(1):
        starts = available_starts(
            service=cupping,
            location=location,
            practitioner_ids=[practitioner.pk for practitioner in team],
            one_each=False,
            first_day=first_day,
            last_day=first_day + timedelta(days=days - 1),
        )
    # The first of the team works at this location: a window with a weekday has times.
    assert starts or days == 1
    slots = available_slots(
        service=cupping,
        location=location,
        practitioner=None,
        first_day=first_day,
        last_day=first_day + timedelta(days=days - 1),
        practitioner_ids=[practitioner.pk for practitioner in team],
    )
    assert [int(slot.start.timestamp()) for slot in slots] == [start for start, _ in starts]

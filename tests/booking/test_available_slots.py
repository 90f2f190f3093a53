"""The availability selector against the real database: batched queries, and every slot bookable."""

import random
from contextlib import contextmanager
from datetime import time, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.availability import available_slots, local_instant
from booking.models import Appointment, TimeOff, WorkingHours
from booking.services import book_appointment
from patients.services import ScreeningAnswers
from tests.factories import AppointmentFactory, patient_details

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back():
    """Run a block in a savepoint that is always rolled back."""
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


@pytest.mark.parametrize("days", [1, 31, 62])
@pytest.mark.parametrize("anyone", [True, False])
def test_a_constant_number_of_queries_whatever_the_window_or_bookings(
    dry_needling,
    westerville,
    physio,
    acupuncturist,
    open_all_week,
    booking_day,
    django_assert_max_num_queries,
    days,
    anyone,
):
    acupuncturist.qualifications.create(service=dry_needling)
    start = local_instant(booking_day, time(9), westerville.zone)
    for index in range(300):  # every third hour, both practitioners, for weeks
        AppointmentFactory(
            practitioner=physio if index % 2 else acupuncturist,
            location=westerville,
            start=start + timedelta(hours=3 * (index // 2)),
        )
    with django_assert_max_num_queries(4):
        slots = available_slots(
            service=dry_needling,
            location=westerville,
            practitioner=None if anyone else physio,
            first_day=booking_day,
            last_day=booking_day + timedelta(days=days - 1),
        )
    assert slots


def test_an_appointment_at_another_location_blocks_the_practitioner(
    acupuncture, westerville, calgary, acupuncturist, open_all_week, booking_day, ten_am
):
    AppointmentFactory(
        practitioner=acupuncturist,
        location=calgary,
        start=ten_am,
        end=ten_am + timedelta(hours=1),
        blocked_until=ten_am + timedelta(hours=1),
    )
    starts = {
        slot.start
        for slot in available_slots(
            service=acupuncture,
            location=westerville,
            practitioner=acupuncturist,
            first_day=booking_day,
            last_day=booking_day,
        )
    }
    assert ten_am not in starts and ten_am + timedelta(hours=1) in starts


def test_time_off_and_a_closed_location_come_from_the_database(
    dry_needling, westerville, physio, open_all_week, booking_day, ten_am
):
    TimeOff.objects.create(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=2), reason="Course")
    TimeOff.objects.create(location=westerville, start=ten_am + timedelta(hours=4), end=ten_am + timedelta(hours=5))
    starts = {
        s.start
        for s in available_slots(
            service=dry_needling, location=westerville, practitioner=physio, first_day=booking_day, last_day=booking_day
        )
    }
    assert ten_am not in starts and ten_am + timedelta(hours=1, minutes=30) not in starts
    assert ten_am + timedelta(hours=4) not in starts and ten_am + timedelta(hours=5) in starts
    assert ten_am + timedelta(hours=2) in starts


def test_inactive_or_unqualified_practitioners_offer_nothing(
    dry_needling, westerville, physio, open_all_week, booking_day
):
    physio.is_active = False
    physio.save()
    assert (
        available_slots(
            service=dry_needling, location=westerville, practitioner=None, first_day=booking_day, last_day=booking_day
        )
        == []
    )


def test_a_window_longer_than_62_days_is_refused(dry_needling, westerville, booking_day):
    with pytest.raises(ValueError):
        available_slots(
            service=dry_needling,
            location=westerville,
            practitioner=None,
            first_day=booking_day,
            last_day=booking_day + timedelta(days=62),
        )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000))
def test_every_offered_slot_can_really_be_booked(seed, dry_needling, westerville, physio, acupuncturist, booking_day):
    """Random schedules and bookings; then each offered slot, booked alone, is accepted by the database."""
    rng = random.Random(seed)
    with rolled_back():
        acupuncturist.qualifications.get_or_create(service=dry_needling)
        for practitioner in (physio, acupuncturist):
            for weekday in range(7):
                opening = rng.randint(7, 12)
                WorkingHours.objects.create(
                    practitioner=practitioner,
                    location=westerville,
                    weekday=weekday,
                    start_time=time(opening),
                    end_time=time(opening + rng.randint(2, 8)),
                )
            for _ in range(rng.randint(0, 6)):
                start = local_instant(
                    booking_day + timedelta(days=rng.randint(0, 2)),
                    time(rng.randint(7, 19), rng.choice([0, 5, 20, 45])),
                    westerville.zone,
                )
                if (
                    not Appointment.objects.live()
                    .filter(practitioner=practitioner)
                    .overlapping(start, start + timedelta(minutes=75))
                    .exists()
                ):
                    AppointmentFactory(practitioner=practitioner, location=westerville, start=start)
        slots = available_slots(
            service=dry_needling,
            location=westerville,
            practitioner=None,
            first_day=booking_day,
            last_day=booking_day + timedelta(days=2),
        )
        for index, slot in enumerate(rng.sample(slots, min(len(slots), 8))):
            with rolled_back():
                appointment = book_appointment(
                    service=dry_needling,
                    location=westerville,
                    practitioner=None,
                    start=slot.start,
                    patient_details=patient_details(index),
                    screening=ScreeningAnswers(),
                    consent_given=True,
                )
                assert appointment.start == slot.start

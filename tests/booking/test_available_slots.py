"""The availability selector against the real database: batched queries, and every slot bookable."""

import random
from contextlib import contextmanager
from datetime import time, timedelta

import pytest
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.availability import WeeklyHours, available_slots, local_instant, schedule_inputs
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
    with django_assert_max_num_queries(2):
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


def test_the_inputs_query_reads_what_the_orm_would(
    dry_needling, westerville, calgary, physio, acupuncturist, open_all_week, booking_day
):
    """schedule_inputs' one hand-written statement against the same three reads in the ORM,
    on a schedule with every kind of row in and around the window."""
    zone = westerville.zone
    first_day, last_day = booking_day, booking_day + timedelta(days=2)
    day_start = local_instant(first_day, time(0), zone)
    WorkingHours.objects.create(
        practitioner=physio,
        location=westerville,
        weekday=first_day.weekday(),
        start_time=time(18),
        end_time=time(20),
        effective_to=first_day - timedelta(days=1),
    )
    WorkingHours.objects.create(
        practitioner=physio,
        location=westerville,
        weekday=first_day.weekday(),
        start_time=time(7),
        end_time=time(8),
        effective_from=last_day,
    )
    WorkingHours.objects.create(practitioner=physio, location=calgary, weekday=0, start_time=time(9), end_time=time(10))
    for offset_hours, practitioner, location in [
        (-30, physio, None),
        (5, physio, None),
        (10, None, westerville),
        (12, None, calgary),
        (200, physio, None),
        (20, acupuncturist, None),
    ]:
        TimeOff.objects.create(practitioner=practitioner, location=location,
                               start=day_start + timedelta(hours=offset_hours),
                               end=day_start + timedelta(hours=offset_hours + 2))  # fmt: skip
    moved = None
    for index, status in enumerate(["confirmed", "cancelled", "arrived", "no_show", "completed", "confirmed"]):
        appointment = AppointmentFactory(practitioner=physio, location=calgary if index == 2 else westerville,
                                         start=day_start + timedelta(hours=9 + index * 7), status=status)  # fmt: skip
        moved = moved or appointment
    AppointmentFactory(practitioner=acupuncturist, location=westerville, start=day_start + timedelta(hours=11))

    inputs = schedule_inputs(practitioner_ids=[physio.pk], location=westerville, first_day=first_day,
                             last_day=last_day, ignoring_appointment_id=moved.pk)  # fmt: skip

    window_start = day_start
    window_end = local_instant(last_day + timedelta(days=1), time(0), zone) + timedelta(days=1)
    hours = (
        WorkingHours.objects.filter(practitioner=physio, location=westerville)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=last_day))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=first_day))
    )
    time_off = TimeOff.objects.filter(
        Q(practitioner=physio) | Q(location=westerville, practitioner__isnull=True)
    ).filter(start__lt=window_end, end__gt=window_start)
    appointments = (
        Appointment.objects.live()
        .filter(practitioner=physio)
        .exclude(pk=moved.pk)
        .overlapping(window_start, window_end)
    )
    assert sorted(inputs.weekly_hours, key=repr) == sorted(map(WeeklyHours.of, hours), key=repr)
    assert sorted(inputs.time_off, key=repr) == sorted(
        ((row.practitioner_id, (row.start.timestamp(), row.end.timestamp())) for row in time_off), key=repr
    )
    assert sorted(inputs.appointments, key=repr) == sorted(
        ((row.practitioner_id, (row.start.timestamp(), row.blocked_until.timestamp())) for row in appointments),
        key=repr,
    )
    # arrived (at Calgary: it blocks them anywhere), completed, confirmed; their 05:00 and the closure
    assert len(inputs.appointments) == 3 and len(inputs.time_off) == 2

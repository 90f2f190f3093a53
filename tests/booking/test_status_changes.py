"""Front-desk status changes: arrived, completed, no-show, and correcting a mistaken no-show."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.models import Appointment, TimeOff
from booking.services import BookingError, cancel_appointment, mark_arrived, mark_completed, mark_no_show
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
NEW_YORK = ZoneInfo("America/New_York")
# 10:00 in Westerville on a summer Wednesday.
TEN_AM = datetime(2026, 6, 10, 10, 0, tzinfo=NEW_YORK)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def appointment(physio, westerville, dry_needling):
    return AppointmentFactory(
        practitioner=physio,
        location=westerville,
        service=dry_needling,
        start=TEN_AM,
        end=TEN_AM + timedelta(hours=1),
        blocked_until=TEN_AM + timedelta(hours=1, minutes=15),
    )


def status_of(appointment) -> str:
    return Appointment.objects.get(pk=appointment.pk).status


def test_a_visit_is_marked_arrived_then_completed_and_history_says_by_whom(appointment, receptionist):
    mark_arrived(appointment=appointment, by=receptionist, now=TEN_AM - 10 * MINUTE)
    mark_completed(appointment=appointment, by=receptionist, now=TEN_AM + 70 * MINUTE)

    assert status_of(appointment) == "completed"
    latest, previous = appointment.history.order_by("-history_date", "-history_id")[:2]
    assert (previous.status, previous.history_change_reason, previous.history_user) == (
        "arrived",
        "marked arrived",
        receptionist,
    )
    assert (latest.status, latest.history_change_reason, latest.history_user) == (
        "completed",
        "marked completed",
        receptionist,
    )


def test_a_confirmed_appointment_can_be_completed_without_an_arrival(appointment):
    mark_completed(appointment=appointment, now=TEN_AM + 5 * MINUTE)
    assert status_of(appointment) == "completed"


def test_no_show_only_once_the_start_time_has_passed(appointment):
    with pytest.raises(BookingError) as refused:
        mark_no_show(appointment=appointment, now=TEN_AM - MINUTE)
    assert refused.value.code == "too_early"
    assert status_of(appointment) == "confirmed"

    mark_no_show(appointment=appointment, now=TEN_AM)
    assert status_of(appointment) == "no_show"
    assert appointment.history.latest().history_change_reason == "marked no-show"


def test_completed_only_once_the_start_time_has_passed(appointment):
    mark_arrived(appointment=appointment, now=TEN_AM - 20 * MINUTE)
    with pytest.raises(BookingError) as refused:
        mark_completed(appointment=appointment, now=TEN_AM - 5 * MINUTE)
    assert refused.value.code == "too_early"
    assert status_of(appointment) == "arrived"


def test_arrival_is_refused_before_the_appointments_local_day(appointment):
    # 23:30 the evening before in Westerville is already the appointment's day in UTC (03:30Z):
    # the day that counts is the location's.
    evening_before = datetime(2026, 6, 9, 23, 30, tzinfo=NEW_YORK)
    with pytest.raises(BookingError) as refused:
        mark_arrived(appointment=appointment, now=evening_before)
    assert refused.value.code == "too_early"
    assert "Wed 10 Jun 2026" in refused.value.message

    mark_arrived(appointment=appointment, now=datetime(2026, 6, 10, 0, 5, tzinfo=NEW_YORK))
    assert status_of(appointment) == "arrived"


def test_an_arrived_patient_is_never_a_no_show(appointment):
    mark_arrived(appointment=appointment, now=TEN_AM - MINUTE)
    with pytest.raises(BookingError) as refused:
        mark_no_show(appointment=appointment, now=TEN_AM + 30 * MINUTE)
    assert refused.value.code == "invalid_transition"
    assert refused.value.message == "Cannot mark an arrived appointment as a no-show: the patient came."
    assert status_of(appointment) == "arrived"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (mark_arrived, "Cannot mark a cancelled appointment as arrived."),
        (mark_completed, "Cannot mark a cancelled appointment as completed."),
        (mark_no_show, "Cannot mark a cancelled appointment as a no-show."),
    ],
)
def test_a_cancelled_appointment_is_final(appointment, change, message, receptionist):
    cancel_appointment(
        appointment=appointment, reason="Patient rang", actor=receptionist, now=TEN_AM - timedelta(days=1)
    )
    with pytest.raises(BookingError) as refused:
        change(appointment=appointment, now=TEN_AM + 2 * timedelta(hours=1))
    assert (refused.value.code, refused.value.message) == ("invalid_transition", message)
    assert status_of(appointment) == "cancelled"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (mark_arrived, "Cannot mark a completed appointment as arrived."),
        (mark_completed, "Already marked as completed."),
        (mark_no_show, "Cannot mark a completed appointment as a no-show."),
    ],
)
def test_a_completed_appointment_is_final(appointment, change, message):
    mark_completed(appointment=appointment, now=TEN_AM + timedelta(hours=1))
    with pytest.raises(BookingError) as refused:
        change(appointment=appointment, now=TEN_AM + timedelta(hours=2))
    assert refused.value.message == message
    assert status_of(appointment) == "completed"


def test_marking_twice_is_refused_kindly(appointment):
    mark_arrived(appointment=appointment, now=TEN_AM)
    with pytest.raises(BookingError) as refused:
        mark_arrived(appointment=appointment, now=TEN_AM)
    assert refused.value.message == "Already marked as arrived."


@pytest.mark.parametrize(("change", "status"), [(mark_arrived, "arrived"), (mark_completed, "completed")])
def test_a_mistaken_no_show_can_be_corrected(appointment, receptionist, change, status):
    mark_no_show(appointment=appointment, now=TEN_AM + 10 * MINUTE)
    change(appointment=appointment, by=receptionist, now=TEN_AM + 20 * MINUTE)

    assert status_of(appointment) == status
    assert appointment.history.latest().history_change_reason == f"no-show corrected: marked {status}"


def test_a_no_show_cannot_be_corrected_once_its_time_is_booked_by_someone_else(appointment, physio, westerville):
    mark_no_show(appointment=appointment, now=TEN_AM + 10 * MINUTE)
    # The freed time, given to a walk-in.
    AppointmentFactory(
        practitioner=physio,
        location=westerville,
        start=TEN_AM + 15 * MINUTE,
        end=TEN_AM + 45 * MINUTE,
        blocked_until=TEN_AM + 45 * MINUTE,
        source="walk_in",
    )
    with pytest.raises(BookingError) as refused:
        mark_arrived(appointment=appointment, now=TEN_AM + 20 * MINUTE)
    assert refused.value.code == "slot_unavailable"
    assert "booked for someone else" in refused.value.message
    assert status_of(appointment) == "no_show"


def test_a_status_change_locks_only_the_appointment_row(appointment):
    # Locking the joined location too would make every booking there wait on it (and deadlock
    # with book_appointment): see _lock_for_patient_change.
    with CaptureQueriesContext(connection) as queries:
        mark_arrived(appointment=appointment, now=TEN_AM)
    locking = [query["sql"] for query in queries if "FOR UPDATE" in query["sql"]]
    assert len(locking) == 1
    assert locking[0].endswith('FOR UPDATE OF "booking_appointment"')


def test_a_no_show_cannot_be_corrected_into_time_off_added_since(appointment, physio):
    # "The patient did not come, so I went home ill": the afternoon is time off now.
    mark_no_show(appointment=appointment, now=TEN_AM + 10 * MINUTE)
    TimeOff.objects.create(practitioner=physio, start=TEN_AM, end=TEN_AM + timedelta(hours=7))
    with pytest.raises(BookingError) as refused:
        mark_completed(appointment=appointment, now=TEN_AM + 20 * MINUTE)
    assert refused.value.code == "time_off"
    assert status_of(appointment) == "no_show"

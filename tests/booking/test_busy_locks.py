"""A booking that waits on another's lock waits a bounded time (lock_timeout, set on every
connection from BOOKING_LOCK_TIMEOUT_MS), then says "busy, try again" (a 503 for the API)
instead of hanging a worker; and the lock helpers refuse to run outside a transaction, where a
lock would end at once."""

import threading
import time as clock

import pytest
from django.db import connection

from booking.models import Appointment
from booking.services import BUSY_MESSAGE, BookingError, lock_practitioner
from tests.helpers import book

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def short_lock_timeout():
    """This connection waits 300 ms for a lock, as a shorter BOOKING_LOCK_TIMEOUT_MS would make it."""
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '300ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def test_every_connection_waits_for_a_lock_at_most_the_setting(settings):
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == f"{settings.BOOKING_LOCK_TIMEOUT_MS // 1000}s"


def hold_practitioner_row(practitioner_id: int, *, seconds: float) -> threading.Thread:
    """Another connection locks the practitioner's row, as a long booking would."""
    locked = threading.Event()

    def holder():
        from django.db import connection as own
        from django.db import transaction

        try:
            with transaction.atomic():
                with own.cursor() as cursor:
                    cursor.execute("SELECT 1 FROM clinic_practitioner WHERE id = %s FOR UPDATE", [practitioner_id])
                locked.set()
                clock.sleep(seconds)
        finally:
            own.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(10)
    return thread


def test_a_booking_behind_a_held_lock_is_told_busy_after_the_timeout(
    short_lock_timeout, dry_needling, westerville, physio, open_all_week, ten_am
):
    holder = hold_practitioner_row(physio.pk, seconds=3)
    began = clock.monotonic()
    with pytest.raises(BookingError) as refused:
        book(dry_needling, westerville, ten_am, practitioner=physio)
    waited = clock.monotonic() - began
    holder.join()
    assert refused.value.code == "busy" and refused.value.message == BUSY_MESSAGE
    assert 0.25 < waited < 2.5
    assert not Appointment.objects.exists()
    # Once the other transaction is done, the same booking goes through.
    assert book(dry_needling, westerville, ten_am, practitioner=physio, n=1).pk


def test_the_api_answers_busy_with_a_503_that_says_to_try_again(
    client, short_lock_timeout, dry_needling, westerville, physio, open_all_week, ten_am
):
    from tests.api.test_booking import booking_payload, post_json

    holder = hold_practitioner_row(physio.pk, seconds=3)
    response = post_json(client, "/api/v1/appointments", booking_payload(dry_needling, westerville, ten_am))
    holder.join()
    assert response.status_code == 503
    assert response.json() == {"code": "busy", "message": BUSY_MESSAGE}
    assert response["Retry-After"] == "5"


def test_a_lock_helper_outside_a_transaction_refuses(physio):
    assert not connection.in_atomic_block
    with pytest.raises(RuntimeError, match="inside a transaction"):
        lock_practitioner(physio.pk)


def test_the_patient_is_told_busy_with_everything_typed_kept(
    client, short_lock_timeout, dry_needling, westerville, physio, open_all_week, ten_am
):
    from tests.booking.test_wizard import details_post

    holder = hold_practitioner_row(physio.pk, seconds=3)
    response = details_post(client, dry_needling, westerville, ten_am)
    holder.join()
    page = response.content.decode()
    assert response.status_code == 200 and BUSY_MESSAGE in page
    assert 'value="Lovelace"' in page and not Appointment.objects.exists()

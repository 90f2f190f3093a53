"""Idempotency-Key on the API's POSTs (api/idempotency.py): a request sent again is answered as
the first was and done once; the balancer relies on it to retry a POST on another server."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from booking.models import Appointment
from booking.services import BookingError
from clinic.models import IdempotentRequest, OutboundMessage
from discovery.models import DiscoveryCallRequest
from privacy.services import anonymise_patient
from tests.api.document import document
from tests.api.test_booking import API, booking_payload, post_json
from tests.helpers import race

pytestmark = pytest.mark.django_db

KEY = "3f1c2b9e-7a44-4c1e-9d0e-5b6a7c8d9e0f"


def keyed(client, url, payload, key=KEY):
    return post_json(client, url, payload, HTTP_IDEMPOTENCY_KEY=key)


@pytest.fixture
def payload(dry_needling, westerville, physio, open_all_week, ten_am):
    return booking_payload(dry_needling, westerville, ten_am, practitioner=physio)


def test_the_same_booking_sent_twice_is_made_once_and_answered_alike(client, payload):
    first = keyed(client, f"{API}/appointments", payload)
    again = keyed(Client(), f"{API}/appointments", payload)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert again["Content-Type"] == first["Content-Type"]
    appointment = Appointment.objects.get()
    assert first.json()["manage_token"] == appointment.manage_token
    assert IdempotentRequest.objects.get().about_reference == appointment.reference


def test_without_a_key_a_second_booking_is_refused_as_taken(client, payload):
    assert post_json(client, f"{API}/appointments", payload).status_code == 201
    assert post_json(client, f"{API}/appointments", payload).status_code == 409


def test_the_same_key_with_another_request_is_422_and_changes_nothing(client, payload, ten_am, westerville):
    assert keyed(client, f"{API}/appointments", payload).status_code == 201
    later = payload | {"start": timezone.localtime(ten_am + timedelta(hours=2), westerville.zone).isoformat()}
    response = keyed(client, f"{API}/appointments", later)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("key", ["short", "x" * 101, "spaces are not allowed here", "ключ-ключ-ключ-ключ"])
def test_a_malformed_key_is_a_field_error_and_books_nothing(client, payload, key):
    response = keyed(client, f"{API}/appointments", payload, key=key)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert not Appointment.objects.exists()


def test_a_refusal_is_answered_again_as_it_was(client, payload, dry_needling, westerville, ten_am):
    post_json(client, f"{API}/appointments", booking_payload(dry_needling, westerville, ten_am, n=1))
    first = keyed(client, f"{API}/appointments", payload)
    Appointment.objects.update(status=Appointment.Status.CANCELLED, cancelled_at=timezone.now())
    again = keyed(client, f"{API}/appointments", payload)
    assert (first.status_code, again.status_code) == (409, 409)
    assert again.json() == first.json()


def test_an_answer_of_nothing_done_is_not_kept_and_the_retry_books(client, payload, monkeypatch):
    import api.booking

    real = api.booking.book_appointment

    def busy(**kwargs):
        raise BookingError("busy", "Busy: try again.")

    monkeypatch.setattr(api.booking, "book_appointment", busy)
    assert keyed(client, f"{API}/appointments", payload).status_code == 503
    assert not IdempotentRequest.objects.exists()
    monkeypatch.setattr(api.booking, "book_appointment", real)
    assert keyed(client, f"{API}/appointments", payload).status_code == 201


def test_a_rate_limited_request_is_not_kept_and_may_go_through_later(client, payload, monkeypatch):
    import api.booking

    monkeypatch.setattr(api.booking.throttling, "over_the_limit", lambda request: True)
    assert keyed(client, f"{API}/appointments", payload).status_code == 429
    assert not IdempotentRequest.objects.exists()
    monkeypatch.undo()
    assert keyed(client, f"{API}/appointments", payload).status_code == 201


def test_a_key_older_than_a_day_is_forgotten(client, payload):
    keyed(client, f"{API}/appointments", payload)
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(days=1, seconds=1))
    Appointment.objects.update(status=Appointment.Status.CANCELLED, cancelled_at=timezone.now())
    again = keyed(client, f"{API}/appointments", payload)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Appointment.objects.count() == 2


def test_a_cancellation_sent_twice_is_200_twice(client, payload):
    token = post_json(client, f"{API}/appointments", payload).json()["manage_token"]
    url = f"{API}/appointments/{token}/cancel"
    first = keyed(client, url, {"reason": "Away"}, key="cancel-" + KEY)
    again = keyed(client, url, {"reason": "Away"}, key="cancel-" + KEY)
    assert (first.status_code, again.status_code) == (200, 200)
    assert post_json(client, url, {"reason": "Away"}).status_code == 409  # without the key: no longer confirmed


def test_a_move_sent_twice_is_200_twice(client, payload, ten_am, westerville):
    token = post_json(client, f"{API}/appointments", payload).json()["manage_token"]
    later = {"start": timezone.localtime(ten_am + timedelta(hours=2), westerville.zone).isoformat()}
    url = f"{API}/appointments/{token}/reschedule"
    first, again = keyed(client, url, later), keyed(client, url, later)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert Appointment.history.filter(history_type="~", start=ten_am + timedelta(hours=2)).count() == 1


def test_a_call_back_request_sent_twice_is_stored_once(client, db):
    body = {
        "name": "Ana Ruiz",
        "phone": "(614) 555-0199",
        "email": "ana@example.com",
        "best_time": "morning",
        "concern": "Neck pain",
        "conditions": [],
        "heard_about": "search",
        "consent_to_contact": True,
    }
    first = keyed(client, f"{API}/discovery-calls", body)
    again = keyed(client, f"{API}/discovery-calls", body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert DiscoveryCallRequest.objects.count() == 1
    assert IdempotentRequest.objects.get().about_reference == first.json()["reference"]


@pytest.mark.django_db(transaction=True)
def test_the_same_booking_sent_at_once_on_two_connections_is_made_once(
    dry_needling, westerville, physio, open_all_week, ten_am
):
    payload = booking_payload(dry_needling, westerville, ten_am, practitioner=physio)
    responses = race(4, lambda index: keyed(Client(), f"{API}/appointments", payload))
    assert [response.status_code for response in responses] == [201] * 4
    assert len({response.json()["reference"] for response in responses}) == 1
    assert sum(response.has_header("Idempotent-Replayed") for response in responses) == 3
    assert Appointment.objects.count() == 1
    assert OutboundMessage.objects.count() <= 1  # the confirmation is due once, whoever sends it


def test_anonymising_forgets_the_answers_that_name_the_patients_bookings(client, payload):
    keyed(client, f"{API}/appointments", payload)
    unknown = f"{API}/appointments/{'x' * 43}/cancel"
    assert keyed(client, unknown, {}, key="other-request-" + KEY).status_code == 404  # kept, naming no one
    appointment = Appointment.objects.get()
    Appointment.objects.update(status=Appointment.Status.CANCELLED, cancelled_at=timezone.now())
    anonymise_patient(patient=appointment.patient, by=None)
    assert list(IdempotentRequest.objects.values_list("about_reference", flat=True)) == [""]


def test_the_document_names_the_header_on_every_post():
    posts = [
        (path, operation)
        for path, item in document()["paths"].items()
        for method, operation in item.items()
        if method == "post"
    ]
    assert len(posts) == 4
    for path, operation in posts:
        names = [parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"]
        assert names == ["Idempotency-Key"], path


def test_no_table_scan_to_forget_old_keys():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'clinic_idempotentrequest'")
        assert any("(created_at)" in row[0] for row in cursor.fetchall())


def test_a_bad_request_is_not_kept_and_the_mended_one_books_under_the_same_key(client, payload):
    broken = payload | {"consent": "yes"}
    assert keyed(client, f"{API}/appointments", broken).status_code == 400
    assert keyed(client, f"{API}/appointments", payload).status_code == 201


def test_answers_older_than_a_day_are_forgotten_by_later_requests(client, payload):
    old = timezone.now() - timedelta(days=1, minutes=1)
    IdempotentRequest.objects.create(
        key="an-old-key-of-someone-else",
        fingerprint="0" * 64,
        status=201,
        answer=b"{}",
        content_type="x",
        created_at=old,
    )
    keyed(client, f"{API}/appointments", payload)
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == [KEY]


@pytest.mark.django_db(transaction=True)
def test_a_retry_waiting_too_long_for_the_first_is_busy_not_an_outage(
    dry_needling, westerville, physio, open_all_week, ten_am
):
    import threading

    from clinic.locks import advisory_xact_lock

    holding, release = threading.Event(), threading.Event()

    def first_request_still_running():
        from django.db import transaction

        try:
            with transaction.atomic():
                advisory_xact_lock(f"idempotency:{KEY}")
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    other = threading.Thread(target=first_request_still_running)
    other.start()
    try:
        assert holding.wait(timeout=20)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        payload = booking_payload(dry_needling, westerville, ten_am, practitioner=physio)
        response = keyed(Client(), f"{API}/appointments", payload)
    finally:
        release.set()
        other.join(timeout=20)
    assert response.status_code == 503
    assert response.json()["code"] == "busy" and response["Retry-After"] == "5"
    assert not Appointment.objects.exists()

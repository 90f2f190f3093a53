"""discovery.services: submitting (with the 24-hour repeat rule, under real concurrency) and
reception's status machine."""

import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from discovery.models import CallAttempt, DiscoveryCallRequest
from discovery.services import (
    DiscoveryCallError,
    close_request,
    convert_to_patient,
    log_call_attempt,
    mark_request_booked,
    submit_call_request,
)
from patients.models import Patient
from patients.services import PatientDetails, find_or_create_patient
from tests.discovery.factories import DiscoveryCallRequestFactory, call_back_details
from tests.factories import AppointmentFactory, PatientFactory
from tests.helpers import race

pytestmark = pytest.mark.django_db

Status = DiscoveryCallRequest.Status
Outcome = CallAttempt.Outcome


class TestSubmit:
    def test_stores_the_request_with_consent_time_and_conditions(self, sciatica):
        now = timezone.now()
        call_request, created = submit_call_request(
            details=call_back_details(conditions=(sciatica,), heard_about="other", heard_about_other=" A poster "),
            now=now,
        )
        assert created
        call_request.refresh_from_db()
        assert call_request.status == Status.NEW
        assert call_request.consented_at == now == call_request.created_at
        assert str(call_request.phone) == "+16145550000"
        assert list(call_request.conditions.all()) == [sciatica]
        assert call_request.heard_about_other == "A poster"
        assert call_request.acknowledgement_sent_at is None and call_request.clinic_notified_at is None

    def test_other_text_is_only_kept_with_heard_about_other(self):
        call_request, _ = submit_call_request(details=call_back_details(heard_about="search", heard_about_other="x"))
        assert call_request.heard_about_other == ""

    def test_without_consent_nothing_is_stored(self):
        with pytest.raises(DiscoveryCallError) as error:
            submit_call_request(details=call_back_details(consent_to_contact=False))
        assert error.value.code == "consent_required"
        assert not DiscoveryCallRequest.objects.exists()

    def test_a_repeat_from_the_same_phone_within_24_hours_is_kept_with_the_first(self):
        now = timezone.now()
        first, _ = submit_call_request(details=call_back_details(0), now=now)
        again, created = submit_call_request(
            details=call_back_details(0, name="Someone Else", email="other@example.com"),
            now=now + timedelta(hours=23, minutes=59),
        )
        assert not created
        assert again.pk != first.pk and again.reference != first.reference
        assert (again.repeat_of, again.status) == (first, "closed")
        # Reception is not told again; the address typed is acknowledged.
        assert again.clinic_notified_at is not None and again.acknowledgement_sent_at is None
        first.refresh_from_db()
        assert (first.name, first.status, first.repeat_of) == ("Grace Hopper0", "new", None)  # nothing overwritten

    def test_a_double_click_is_acknowledged_once(self):
        first, _ = submit_call_request(details=call_back_details(0))
        again, _ = submit_call_request(details=call_back_details(0, email="GRACE0@example.com"))
        assert again.repeat_of == first and again.acknowledgement_sent_at is not None

    def test_after_24_hours_or_from_another_phone_it_is_a_new_request(self):
        now = timezone.now()
        first, _ = submit_call_request(details=call_back_details(0), now=now)
        later, created_later = submit_call_request(details=call_back_details(0), now=now + timedelta(hours=24))
        other, created_other = submit_call_request(details=call_back_details(1), now=now)
        assert created_later and created_other
        assert len({first.reference, later.reference, other.reference}) == 3


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submissions_from_one_phone_store_one_request_and_its_repeats():
    results = race(20, lambda i: submit_call_request(details=call_back_details(0, name=f"Attempt {i}")))
    assert all(result is not None for result in results)
    (first,) = DiscoveryCallRequest.objects.filter(repeat_of__isnull=True)
    assert DiscoveryCallRequest.objects.filter(repeat_of=first).count() == 19
    assert len({call_request.reference for call_request, _ in results}) == 20
    assert sum(created for _, created in results) == 1


@pytest.mark.django_db(transaction=True)
def test_without_the_phone_lock_the_same_race_stores_duplicates(monkeypatch):
    """The control experiment: the advisory lock is what makes the look-then-insert safe."""
    import discovery.services

    def look_slowly_then_insert(key):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.2)")

    monkeypatch.setattr(discovery.services, "advisory_xact_lock", look_slowly_then_insert)

    original_save = DiscoveryCallRequest.save

    def save_after_everyone_looked(self, *args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.2)")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(DiscoveryCallRequest, "save", save_after_everyone_looked)
    race(5, lambda i: submit_call_request(details=call_back_details(0)))
    assert DiscoveryCallRequest.objects.filter(repeat_of__isnull=True).count() > 1


class TestCallAttempts:
    def test_the_first_attempt_makes_a_new_request_contacted(self, receptionist):
        call_request = DiscoveryCallRequestFactory()
        attempt = log_call_attempt(
            call_request=call_request, outcome=Outcome.LEFT_VOICEMAIL, note=" Said we'd try at 5 ", by=receptionist
        )
        call_request.refresh_from_db()
        assert call_request.status == Status.CONTACTED
        assert (attempt.by, attempt.note, attempt.outcome) == (receptionist, "Said we'd try at 5", "left_voicemail")
        assert call_request.history.latest().history_user == receptionist

    def test_the_third_unanswered_attempt_sets_no_answer(self, receptionist):
        call_request = DiscoveryCallRequestFactory()
        for outcome in (Outcome.NO_ANSWER, Outcome.LEFT_VOICEMAIL):
            log_call_attempt(call_request=call_request, outcome=outcome, by=receptionist)
            assert call_request.status == Status.CONTACTED
        log_call_attempt(call_request=call_request, outcome=Outcome.NO_ANSWER, by=receptionist)
        call_request.refresh_from_db()
        assert call_request.status == Status.NO_ANSWER
        # A later call that gets through puts it back in progress.
        log_call_attempt(call_request=call_request, outcome=Outcome.REACHED, by=receptionist)
        call_request.refresh_from_db()
        assert call_request.status == Status.CONTACTED
        assert call_request.attempts.count() == 4

    def test_once_reached_more_missed_calls_do_not_make_it_no_answer(self, receptionist):
        call_request = DiscoveryCallRequestFactory()
        for outcome in (Outcome.REACHED, Outcome.NO_ANSWER, Outcome.NO_ANSWER, Outcome.NO_ANSWER):
            log_call_attempt(call_request=call_request, outcome=outcome, by=receptionist)
        assert DiscoveryCallRequest.objects.get().status == Status.CONTACTED

    @pytest.mark.parametrize("final", [Status.CLOSED, Status.NOT_A_FIT])
    def test_attempts_on_a_closed_request_are_refused(self, receptionist, final):
        call_request = DiscoveryCallRequestFactory(status=final)
        with pytest.raises(DiscoveryCallError, match=rf"{call_request.reference} is .*no more calls can be logged"):
            log_call_attempt(call_request=call_request, outcome=Outcome.REACHED, by=receptionist)
        assert not CallAttempt.objects.exists()

    def test_attempts_on_a_booked_request_are_refused(self, receptionist):
        call_request = DiscoveryCallRequestFactory(status=Status.BOOKED, appointment=AppointmentFactory())
        with pytest.raises(DiscoveryCallError, match="is booked"):
            log_call_attempt(call_request=call_request, outcome=Outcome.REACHED, by=receptionist)

    def test_an_unknown_outcome_is_refused(self, receptionist):
        with pytest.raises(DiscoveryCallError):
            log_call_attempt(call_request=DiscoveryCallRequestFactory(), outcome="busy", by=receptionist)


class TestConvert:
    def test_creates_a_patient_and_links_it(self, receptionist):
        call_request = DiscoveryCallRequestFactory(email="ada@example.com", phone="+16145550142")
        patient = convert_to_patient(
            call_request=call_request,
            first_name="Ada",
            last_name="Lovelace",
            date_of_birth=date(1980, 5, 17),
            by=receptionist,
        )
        assert (patient.email, str(patient.phone)) == ("ada@example.com", "+16145550142")
        assert DiscoveryCallRequest.objects.get().patient == patient
        assert call_request.history.latest().history_user == receptionist

    def test_links_the_existing_patient_with_that_email_and_birthday(self, receptionist):
        existing = PatientFactory(email="Ada@Example.com", date_of_birth=date(1980, 5, 17), first_name="Augusta")
        call_request = DiscoveryCallRequestFactory(email="ada@example.com")
        patient = convert_to_patient(
            call_request=call_request,
            first_name="Ada",
            last_name="Lovelace",
            date_of_birth=date(1980, 5, 17),
            by=receptionist,
        )
        assert patient == existing
        assert Patient.objects.count() == 1
        assert Patient.objects.get().first_name == "Augusta"  # the record is not rewritten
        assert DiscoveryCallRequest.objects.get().patient == existing

    def test_a_closed_request_is_not_converted(self, receptionist):
        call_request = DiscoveryCallRequestFactory(status=Status.CLOSED)
        with pytest.raises(DiscoveryCallError):
            convert_to_patient(
                call_request=call_request, first_name="A", last_name="B", date_of_birth=date(1980, 1, 1), by=None
            )
        assert not Patient.objects.exists()


def _locked_tables(queries) -> list[str]:
    """The tables locked FOR UPDATE, in the order the queries locked them."""
    tables = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            tables.append(sql.split(" FROM ", 1)[1].split()[0].strip('"'))
    return tables


def test_convert_locks_the_patient_before_the_request(receptionist):
    call_request = DiscoveryCallRequestFactory()
    with CaptureQueriesContext(connection) as queries:
        convert_to_patient(
            call_request=call_request, first_name="Ada", last_name="L", date_of_birth=date(1980, 5, 17), by=None
        )
    assert _locked_tables(queries) == ["patients_patient", "discovery_discoverycallrequest"]


@pytest.mark.django_db(transaction=True)
def test_converting_while_the_same_patient_is_booked_by_phone_does_not_deadlock():
    """The phone booking locks the patient (book_appointment), then the request
    (mark_request_booked). Converting the same request meanwhile once locked the request
    and then waited on the patient: each transaction waited for the other."""
    birthday = date(1980, 5, 17)
    details = PatientDetails(
        first_name="Ada", last_name="L", email="ada@example.com", phone="+16145550100", date_of_birth=birthday
    )
    patient = PatientFactory(email="ada@example.com", date_of_birth=birthday)
    appointment = AppointmentFactory(patient=patient)
    call_request = DiscoveryCallRequestFactory(email="ada@example.com", status=Status.CONTACTED)
    booker_holds_patient = threading.Event()
    results = {}

    def book_by_phone():
        # _book_for_caller's locks, in its order, with the converter let in between them.
        try:
            with transaction.atomic():
                find_or_create_patient(details=details, lock=True)
                booker_holds_patient.set()
                time.sleep(1.0)  # the converter takes what locks it can meanwhile
                results["book"] = mark_request_booked(call_request_id=call_request.pk, appointment=appointment, by=None)
        except Exception as error:
            results["book"] = error
        finally:
            connection.close()

    def convert():
        booker_holds_patient.wait(10)
        try:
            results["convert"] = convert_to_patient(
                call_request=call_request, first_name="Ada", last_name="L", date_of_birth=birthday, by=None
            )
        except Exception as error:
            results["convert"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=book_by_phone), threading.Thread(target=convert)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # The booking wins; the conversion waits for it, then finds the request booked and says so.
    assert isinstance(results["book"], DiscoveryCallRequest), results["book"]
    assert isinstance(results["convert"], DiscoveryCallError), results["convert"]
    assert "cannot be converted" in results["convert"].message
    call_request.refresh_from_db()
    assert (call_request.status, call_request.appointment_id, call_request.patient_id) == (
        Status.BOOKED,
        appointment.pk,
        patient.pk,
    )


class TestBookedAndClosed:
    def test_mark_request_booked_links_the_appointment_and_its_patient(self, receptionist):
        call_request = DiscoveryCallRequestFactory(status=Status.CONTACTED)
        appointment = AppointmentFactory()
        marked = mark_request_booked(call_request_id=call_request.pk, appointment=appointment, by=receptionist)
        call_request.refresh_from_db()
        assert marked.pk == call_request.pk
        assert (call_request.status, call_request.appointment, call_request.patient) == (
            Status.BOOKED,
            appointment,
            appointment.patient,
        )
        assert call_request.history.latest().history_user == receptionist
        # Reported twice (a retried form): the same answer, no error.
        assert mark_request_booked(call_request_id=call_request.pk, appointment=appointment, by=receptionist)

    @pytest.mark.parametrize("final", [Status.CLOSED, Status.NOT_A_FIT])
    def test_a_closed_request_cannot_be_booked(self, receptionist, final):
        call_request = DiscoveryCallRequestFactory(status=final)
        with pytest.raises(DiscoveryCallError, match="cannot be marked booked"):
            mark_request_booked(call_request_id=call_request.pk, appointment=AppointmentFactory(), by=receptionist)

    def test_booking_a_second_appointment_on_one_request_is_refused(self, receptionist):
        call_request = DiscoveryCallRequestFactory()
        mark_request_booked(call_request_id=call_request.pk, appointment=AppointmentFactory(), by=receptionist)
        with pytest.raises(DiscoveryCallError):
            mark_request_booked(call_request_id=call_request.pk, appointment=AppointmentFactory(), by=receptionist)

    def test_an_unknown_request_is_a_domain_error_not_a_crash(self, receptionist):
        with pytest.raises(DiscoveryCallError, match="no longer exists"):
            mark_request_booked(call_request_id=999_999, appointment=AppointmentFactory(), by=receptionist)

    @pytest.mark.parametrize("status", [Status.NOT_A_FIT, Status.CLOSED])
    def test_close_request(self, receptionist, status):
        call_request = DiscoveryCallRequestFactory(status=Status.NO_ANSWER)
        close_request(call_request=call_request, status=status, by=receptionist)
        assert DiscoveryCallRequest.objects.get().status == status
        with pytest.raises(DiscoveryCallError, match="cannot be changed any more"):
            close_request(call_request=call_request, status=Status.CLOSED, by=receptionist)

    @pytest.mark.parametrize("status", [Status.NEW, Status.CONTACTED, Status.BOOKED, Status.NO_ANSWER, "gone"])
    def test_close_request_only_closes(self, receptionist, status):
        with pytest.raises(DiscoveryCallError):
            close_request(call_request=DiscoveryCallRequestFactory(), status=status, by=receptionist)

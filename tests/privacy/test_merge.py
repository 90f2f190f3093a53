"""merge_patients: one person's duplicate records become one, keeping every appointment."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.models import Appointment
from booking.services import cancel_appointment
from discovery.models import DiscoveryCallRequest
from patients.models import Patient, Screening
from patients.services import ScreeningAnswers
from privacy import services
from privacy.services import PatientMergeError, merge_patients
from tests.factories import AppointmentFactory, PatientFactory
from tests.helpers import book

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.fixture
def twins(dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, ten_am):
    """Ada booked online twice with two email addresses: two records, two appointments."""
    first = book(dry_needling, westerville, ten_am, practitioner=physio, n=1, screening=ScreeningAnswers(pregnant=True))
    second = book(acupuncture, westerville, ten_am + 2 * HOUR, practitioner=acupuncturist, n=2)
    return first, second


def test_merge_moves_every_appointment_with_its_screening_and_removes_the_duplicate(twins, receptionist):
    first, second = twins
    keep, duplicate = first.patient, second.patient

    merged = merge_patients(keep=keep, duplicates=[duplicate], by=receptionist)

    assert merged == keep
    assert not Patient.objects.filter(pk=duplicate.pk).exists()
    assert set(keep.appointments.values_list("reference", flat=True)) == {first.reference, second.reference}
    # Screening answers belong to their appointment, and travel with it.
    assert Screening.objects.get(appointment=first).flags == ["Pregnant"]
    assert Screening.objects.get(appointment=second).flags == []
    assert Screening.objects.filter(appointment__patient=keep).count() == 2


def test_merge_is_recorded_with_actor_and_reason_so_nothing_is_lost(twins, receptionist):
    first, second = twins
    keep, duplicate = first.patient, second.patient

    merge_patients(keep=keep, duplicates=[duplicate], by=receptionist)

    deletion = Patient.history.filter(id=duplicate.pk).latest()
    assert (deletion.history_type, deletion.history_user, deletion.history_change_reason) == (
        "-",
        receptionist,
        f"merged into patient #{keep.pk}",
    )
    assert (deletion.email, deletion.phone, deletion.date_of_birth) == (
        duplicate.email,
        duplicate.phone,
        duplicate.date_of_birth,
    )
    kept_record = Patient.history.filter(id=keep.pk).latest()
    assert (kept_record.history_user, kept_record.history_change_reason) == (
        receptionist,
        f"merged #{duplicate.pk} into this record",
    )
    moved = Appointment.history.filter(id=second.pk).latest()
    assert (moved.patient_id, moved.history_type, moved.history_user) == (keep.pk, "~", receptionist)
    assert moved.history_change_reason == f"merged into patient #{keep.pk}"
    # The version before the merge still says whose appointment it was then.
    assert Appointment.history.filter(id=second.pk).earliest().patient_id == duplicate.pk


def test_several_duplicates_merge_at_once(receptionist):
    keep, *duplicates = PatientFactory.create_batch(3)
    for index, patient in enumerate(duplicates):
        AppointmentFactory(patient=patient, start=timezone.now() + timedelta(days=3) + index * 2 * HOUR)

    merge_patients(keep=keep, duplicates=duplicates, by=receptionist)

    assert list(Patient.objects.all()) == [keep]
    assert keep.appointments.count() == 2


def test_overlapping_live_appointments_are_refused_naming_them_and_nothing_changes(
    dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, ten_am, receptionist
):
    # The same person, booked twice at the same time with two practitioners under two records.
    first = book(dry_needling, westerville, ten_am, practitioner=physio, n=1)
    second = book(acupuncture, westerville, ten_am + timedelta(minutes=30), practitioner=acupuncturist, n=2)
    history_rows = Patient.history.count() + Appointment.history.count()

    with pytest.raises(PatientMergeError) as error:
        merge_patients(keep=first.patient, duplicates=[second.patient], by=receptionist)

    assert first.reference in error.value.message and second.reference in error.value.message
    assert "Cancel one" in error.value.message
    assert Patient.objects.count() == 2
    assert Appointment.objects.get(pk=second.pk).patient_id == second.patient_id
    assert Patient.history.count() + Appointment.history.count() == history_rows


def test_once_one_of_the_overlapping_appointments_is_cancelled_the_merge_goes_through(
    dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, ten_am, receptionist
):
    first = book(dry_needling, westerville, ten_am, practitioner=physio, n=1)
    second = book(acupuncture, westerville, ten_am, practitioner=acupuncturist, n=2)
    cancel_appointment(appointment=second, actor=receptionist, reason="booked twice")

    merge_patients(keep=first.patient, duplicates=[second.patient], by=receptionist)

    assert first.patient.appointments.count() == 2


def test_the_database_constraint_backs_up_the_check_as_the_same_error(
    monkeypatch, dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, ten_am, receptionist
):
    """As if an appointment were moved onto an overlapping time between the check and the move."""
    first = book(dry_needling, westerville, ten_am, practitioner=physio, n=1)
    second = book(acupuncture, westerville, ten_am, practitioner=acupuncturist, n=2)
    monkeypatch.setattr(services, "_refuse_overlapping_appointments", lambda **kwargs: None)

    with pytest.raises(PatientMergeError, match="appointment_no_overlap_per_patient"):
        merge_patients(keep=first.patient, duplicates=[second.patient], by=receptionist)

    assert Patient.objects.count() == 2
    assert Appointment.objects.get(pk=second.pk).patient_id == second.patient_id


def test_a_patient_cannot_be_merged_into_itself(receptionist):
    patient = PatientFactory()
    with pytest.raises(PatientMergeError, match="into itself"):
        merge_patients(keep=patient, duplicates=[patient], by=receptionist)
    with pytest.raises(PatientMergeError, match="at least one"):
        merge_patients(keep=patient, duplicates=[], by=receptionist)
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_a_record_merged_away_meanwhile_is_refused_without_changes(receptionist):
    keep, duplicate, already_gone = PatientFactory.create_batch(3)
    AppointmentFactory(patient=duplicate)
    merge_patients(keep=keep, duplicates=[already_gone], by=receptionist)

    with pytest.raises(PatientMergeError, match=f"#{already_gone.pk} no longer exists"):
        merge_patients(keep=keep, duplicates=[duplicate, already_gone], by=receptionist)

    assert duplicate.appointments.count() == 1


def test_rows_other_apps_point_at_the_duplicate_are_moved_too(receptionist):
    """merge_patients knows nothing of discovery calls: the relation is found on Patient."""
    keep, duplicate = PatientFactory.create_batch(2)
    call_request = DiscoveryCallRequest.objects.create(
        name="Ada Lovelace",
        phone="+16145550142",
        email="ada@example.com",
        best_time=DiscoveryCallRequest.BestTime.MORNING,
        consent_to_contact=True,
        consented_at=timezone.now(),
        patient=duplicate,
    )

    merge_patients(keep=keep, duplicates=[duplicate], by=receptionist)

    call_request.refresh_from_db()
    assert call_request.patient == keep
    assert call_request.history.latest().history_user == receptionist


def test_patients_are_locked_before_the_rows_that_point_at_them(receptionist):
    """The order every writer keeps (book_appointment then mark_request_booked; convert_to_patient):
    a patient's row, then a request's or an appointment's. The opposite order would deadlock."""
    keep, duplicate = PatientFactory.create_batch(2)
    AppointmentFactory(patient=duplicate)
    DiscoveryCallRequest.objects.create(
        name="Ada Lovelace",
        phone="+16145550142",
        email="ada@example.com",
        best_time=DiscoveryCallRequest.BestTime.MORNING,
        consent_to_contact=True,
        consented_at=timezone.now(),
        patient=duplicate,
    )
    with CaptureQueriesContext(connection) as queries:
        merge_patients(keep=keep, duplicates=[duplicate], by=receptionist)
    locked = [
        query["sql"].split(" FROM ", 1)[1].split()[0].strip('"') for query in queries if "FOR UPDATE" in query["sql"]
    ]
    assert locked[0] == "patients_patient"
    assert {"booking_appointment", "discovery_discoverycallrequest"} <= set(locked[1:])
    assert "patients_patient" not in locked[1:]


def test_historical_rows_are_not_rewritten():
    relations = {relation.related_model for relation in services._relations_to_move()}
    assert Appointment in relations and DiscoveryCallRequest in relations
    assert Appointment.history.model not in relations and Patient.history.model not in relations

"""export_patient: everything the clinic holds on one person, as JSON, in a fixed number of queries."""

import json
from datetime import timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from patients.models import Screening
from privacy.services import EXPORT_FORMAT, export_patient
from tests.discovery.factories import DiscoveryCallRequestFactory
from tests.factories import AppointmentFactory, ConditionFactory, PatientFactory
from tests.privacy import privacy_scenario as scenario
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


def test_the_export_holds_the_record_the_visits_and_their_screening(person, westerville):
    data = export_patient(person.patient)

    assert data["format"] == EXPORT_FORMAT
    assert data["patient"] == {
        "id": person.patient.pk,
        "first_name": scenario.FIRST_NAME,
        "last_name": scenario.LAST_NAME,
        "email": scenario.EMAIL,
        "phone": scenario.PHONE,
        "date_of_birth": "1971-03-09",
        "created_at": person.patient.created_at.isoformat(),
        "updated_at": person.patient.updated_at.isoformat(),
    }
    completed, cancelled = data["appointments"]
    assert completed["reference"] == person.completed.reference
    assert (completed["status"], completed["source"], completed["service"]) == (
        "completed",
        "online",
        "Initial assessment + dry needling",
    )
    assert completed["practitioner"] == "Maya Lindqvist" and completed["location"] == "Westerville"
    assert completed["time_zone"] == "America/New_York"
    assert completed["start_utc"] == person.completed.start.isoformat()
    assert completed["start_local"].startswith(f"{person.completed.local_start:%Y-%m-%dT10:00:00}")
    assert completed["consent_version"] == person.completed.consent.version
    assert completed["screening"]["blood_thinners"] is True
    assert completed["screening"]["previous_needling_notes"] == scenario.NEEDLING_NOTES
    assert completed["screening"]["other_conditions"] == scenario.OTHER_CONDITIONS
    assert completed["treatment_series"] is None
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation_reason"] == scenario.CANCELLATION_REASON
    assert cancelled["cancelled_at"] is not None


def test_the_export_holds_call_back_requests_waiting_list_and_history(person, receptionist):
    data = export_patient(person.patient)

    (request,) = data["call_back_requests"]
    assert (request["reference"], request["concern"], request["conditions"]) == (
        person.call_request.reference,
        scenario.CONCERN,
        ["Sciatica"],
    )
    assert request["call_attempts"] == [
        {"attempted_at": request["call_attempts"][0]["attempted_at"], "outcome": "reached", "note": scenario.CALL_NOTE}
    ]
    (place,) = data["waiting_list"]
    assert (place["email"], place["status"], place["offers"]) == (scenario.EMAIL.upper(), "waiting", [])

    patient_history = data["history"]["patient"]
    assert patient_history[0]["change_reason"] == "as created with a booking"
    assert any(row["changed_by"] == "reception" and row["history_type"] == "~" for row in patient_history)
    merged = [row for row in patient_history if row["record_id"] != person.patient.pk]
    assert [(row["email"], row["history_type"]) for row in merged][-1] == (scenario.OLD_EMAIL, "-")
    appointment_history = data["history"]["appointments"]
    assert {row["reference"] for row in appointment_history} == {
        person.completed.reference,
        person.cancelled.reference,
    }
    assert any(row["status"] == "cancelled" for row in appointment_history)


def test_the_export_is_json_and_holds_no_credentials(person):
    data = export_patient(person.patient)
    text = json.dumps(data)  # the standard encoder: every value already a JSON type

    assert json.dumps(data, cls=DjangoJSONEncoder) == text
    for token in (
        person.completed.manage_token,
        person.cancelled.manage_token,
        person.entry.token,
    ):
        assert token not in text
    assert "token" not in text


def test_another_patients_export_holds_only_their_own(person, dry_needling, westerville, booking_day):
    stranger = PatientFactory(email="someone.else@example.com", phone="+16145550999")
    WaitlistEntry.objects.create(
        service=dry_needling,
        location=westerville,
        first_day=booking_day,
        last_day=booking_day,
        expires_at=person.completed.start + timedelta(days=30),
        first_name="Other",
        last_name="Person",
        email="someone.else@example.com",
        phone="+16145550999",
    )
    data = export_patient(stranger)

    assert data["appointments"] == data["call_back_requests"] == []
    assert [place["first_name"] for place in data["waiting_list"]] == ["Other"]
    assert scenario.EMAIL not in json.dumps(data).lower()


@pytest.mark.parametrize("appointments", [1, 20])
def test_the_export_takes_the_same_queries_for_1_or_20_appointments(
    appointments, physio, westerville, dry_needling, django_assert_num_queries
):
    patient = PatientFactory()
    for week in range(appointments):
        appointment = AppointmentFactory(
            patient=patient,
            practitioner=physio,
            location=westerville,
            service=dry_needling,
            start=timezone.now() + timedelta(weeks=week + 1),
        )
        Screening.objects.create(appointment=appointment, other_conditions=f"note {week}")
        DiscoveryCallRequestFactory(patient=patient, conditions=[ConditionFactory()])
    # appointments (with service, practitioner, location, consent, series, screening), call-back
    # requests + their conditions + call attempts, waiting-list places (none), two histories.
    with django_assert_num_queries(7):
        data = export_patient(patient)
    assert len(data["appointments"]) == len(data["call_back_requests"]) == appointments
    assert data["appointments"][-1]["screening"]["other_conditions"] == f"note {appointments - 1}"

"""anonymise_patient: the person leaves the records, the records stay."""

import json
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse

from booking.models import Appointment
from discovery.models import CallAttempt, DiscoveryCallRequest
from patients.models import Patient, Screening
from patients.patient_data import ANONYMISED_DATE_OF_BIRTH
from patients.services import find_or_create_patient
from privacy.services import PatientPrivacyError, anonymise_patient, export_patient
from tests.factories import PatientFactory
from tests.privacy import privacy_scenario as scenario
from waitlist.models import WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db


def every_text_the_database_holds() -> str:
    """Every row of every table, as text: what a leak would be found in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        dumped = []
        for table in tables:
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (names from the catalogue)
            dumped.extend(row[0] for row in cursor.fetchall())
    return "\n".join(dumped).lower()


def test_nothing_of_the_identity_or_health_answers_is_left_anywhere(person, superuser):
    old_tokens = [person.completed.manage_token, person.cancelled.manage_token, person.entry.token]
    assert all(marker.lower() in every_text_the_database_holds() for marker in scenario.IDENTITY + scenario.FREE_TEXT)

    anonymise_patient(person.patient, by=superuser)

    everything = every_text_the_database_holds()
    for marker in scenario.IDENTITY + scenario.FREE_TEXT + tuple(old_tokens):
        assert marker.lower() not in everything, marker
    assert "1971-03-09" not in everything


def test_the_appointments_stay_for_the_clinics_records(person, superuser):
    before = list(
        Appointment.objects.order_by("start").values("pk", "start", "end", "status", "service", "practitioner")
    )

    patient = anonymise_patient(person.patient, by=superuser)

    after = list(
        Appointment.objects.order_by("start").values("pk", "start", "end", "status", "service", "practitioner")
    )
    assert after == before
    assert Appointment.objects.filter(patient=patient).count() == 2
    assert (patient.first_name, patient.last_name, patient.date_of_birth, str(patient.phone)) == (
        "Anonymised",
        f"patient #{patient.pk}",
        ANONYMISED_DATE_OF_BIRTH,
        "",
    )
    screening = Screening.objects.get(appointment=person.completed)
    assert (screening.blood_thinners, screening.previous_needling_notes, screening.other_conditions) == (False, "", "")
    assert Appointment.objects.get(pk=person.cancelled.pk).cancellation_reason == ""


def test_call_back_requests_and_waiting_list_places_lose_the_contact(person, superuser):
    anonymise_patient(person.patient, by=superuser)

    request = DiscoveryCallRequest.objects.get(pk=person.call_request.pk)
    assert (request.name, request.concern, request.heard_about_other, str(request.phone)) == ("Anonymised", "", "", "")
    assert request.email.endswith("@anonymised.invalid")
    assert not request.conditions.exists()
    assert CallAttempt.objects.get(request=request).note == ""
    entry = WaitlistEntry.objects.get(pk=person.entry.pk)
    assert (entry.status, entry.first_name, str(entry.phone)) == ("left", "Anonymised", "")
    assert entry.left_at is not None and entry.token != person.entry.token


def test_old_links_are_404s(client, person, superuser):
    links = [
        reverse("booking:manage", args=[person.completed.manage_token]),
        reverse("waitlist:entry", args=[person.entry.token]),
    ]
    assert [client.get(link).status_code for link in links] == [200, 200]

    anonymise_patient(person.patient, by=superuser)

    assert [client.get(link).status_code for link in links] == [404, 404]


def test_one_history_entry_records_the_act_and_the_older_ones_lose_the_identity(person, superuser, receptionist):
    rows_before = Patient.history.filter(id=person.patient.pk).count()

    anonymise_patient(person.patient, by=superuser)

    history = list(Patient.history.filter(id=person.patient.pk).order_by("history_date", "history_id"))
    assert len(history) == rows_before + 1
    latest = history[-1]
    assert (latest.history_change_reason, latest.history_user, latest.history_type) == (
        "anonymised by owner",
        superuser,
        "~",
    )
    # The trail of who did what, and when, stays.
    assert any(row.history_user == receptionist for row in history)
    assert {row.email for row in history} == {f"anonymised-{person.patient.pk}@anonymised.invalid"}
    assert not Appointment.history.exclude(cancellation_reason="").exists()


def test_the_admin_log_titles_lose_the_name(person, superuser, receptionist):
    LogEntry.objects.log_actions(
        user_id=receptionist.pk, queryset=[person.patient, person.call_request], action_flag=CHANGE
    )

    anonymise_patient(person.patient, by=superuser)

    titles = set(LogEntry.objects.values_list("object_repr", flat=True))
    assert titles == {f"Anonymised patient #{person.patient.pk}", f"{person.call_request.reference} Anonymised"}
    assert ContentType.objects.get_for_model(Patient).pk in set(LogEntry.objects.values_list("content_type", flat=True))


def test_the_same_person_booking_again_gets_a_new_record(person, superuser):
    anonymise_patient(person.patient, by=superuser)

    again = find_or_create_patient(details=scenario.details())

    assert again.pk != person.patient.pk
    assert Patient.objects.count() == 2


def test_two_anonymised_records_never_collide(superuser):
    first, second = PatientFactory(), PatientFactory()

    anonymise_patient(first, by=superuser)
    anonymise_patient(second, by=superuser)

    assert Patient.objects.filter(date_of_birth=ANONYMISED_DATE_OF_BIRTH).count() == 2


def test_a_patient_with_an_appointment_to_come_is_refused_and_nothing_changes(
    person, superuser, dry_needling, westerville, ten_am
):
    upcoming = scenario.past_visit(service=dry_needling, location=westerville, start=ten_am)
    upcoming.refresh_from_db()

    with pytest.raises(PatientPrivacyError, match=f"appointments to come \\({upcoming.reference}\\)"):
        anonymise_patient(person.patient, by=superuser)

    assert Patient.objects.get(pk=person.patient.pk).email == scenario.EMAIL
    assert Appointment.objects.get(pk=upcoming.pk).manage_token == upcoming.manage_token


def test_anonymising_twice_is_refused(person, superuser):
    anonymise_patient(person.patient, by=superuser)
    with pytest.raises(PatientPrivacyError, match="already anonymised"):
        anonymise_patient(person.patient, by=superuser)


def test_offer_links_are_replaced_too(person, superuser, physio, westerville, ten_am):
    offer = WaitlistOffer.objects.create(
        entry=person.entry, location=westerville, practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1)
    )

    anonymise_patient(person.patient, by=superuser)

    assert WaitlistOffer.objects.get(pk=offer.pk).token != offer.token


def test_the_records_still_show_in_the_admin_the_calendar_and_the_schedule(
    client, person, superuser, practitioner_user, westerville
):
    anonymise_patient(person.patient, by=superuser)
    client.force_login(superuser)
    day = person.completed.local_start.date()

    pages = [
        reverse("admin:booking_appointment_change", args=[person.completed.pk]),
        reverse("admin:patients_patient_change", args=[person.patient.pk]),
        reverse("admin:patients_patient_history", args=[person.patient.pk]),
        reverse("admin:patients_patient_changelist"),
        reverse("reception:calendar") + f"?location={westerville.slug}&date={day.isoformat()}",
        reverse("reception:panel", args=[person.completed.pk]),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        assert scenario.LAST_NAME not in response.text
    client.force_login(practitioner_user)
    for page in [
        reverse("schedule:appointment", args=[person.completed.pk]),
        reverse("schedule:day") + f"?date={day.isoformat()}",
    ]:
        response = client.get(page)
        assert response.status_code == 200, page
        assert "Anonymised" in response.text


def test_the_export_of_an_anonymised_record_holds_nothing_of_the_person(person, superuser):
    anonymise_patient(person.patient, by=superuser)

    text = json.dumps(export_patient(Patient.objects.get(pk=person.patient.pk))).lower()

    for marker in scenario.IDENTITY + scenario.FREE_TEXT:
        assert marker.lower() not in text

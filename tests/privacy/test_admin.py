"""The patient records as reception works with them in the admin: find, read, audit, merge."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment
from clinic.clock import staff_date_time
from clinic.roles import RECEPTION_GROUP
from patients.models import ConsentText, Patient, Screening
from patients.services import ScreeningAnswers, record_history_baseline
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.helpers import book

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
CHANGELIST = reverse("admin:patients_patient_changelist")


def change_url(patient):
    return reverse("admin:patients_patient_change", args=[patient.pk])


def listed(response) -> set[str]:
    return {patient.email for patient in response.context["cl"].result_list}


# --- Finding a patient --------------------------------------------------------------------


@pytest.fixture
def ada(db):
    return PatientFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com", phone="+16145550142")


@pytest.fixture
def grace(db):
    return PatientFactory(first_name="Grace", last_name="Hopper", email="grace@example.com", phone="+16145550199")


@pytest.mark.parametrize(
    "typed",
    ["614 555 0142", "(614) 555-0142", "+16145550142", "+1 614-555-0142", "614.555.0142", "555-0142", "0142"],
)
def test_a_phone_number_finds_the_patient_however_it_is_typed(client, receptionist, ada, grace, typed):
    client.force_login(receptionist)
    assert listed(client.get(CHANGELIST, {"q": typed})) == {"ada@example.com"}


@pytest.mark.parametrize("typed", ["Ada Lovelace", "lovelace", "ADA@example.com", "ada@"])
def test_name_and_email_find_the_patient(client, receptionist, ada, grace, typed):
    client.force_login(receptionist)
    assert listed(client.get(CHANGELIST, {"q": typed})) == {"ada@example.com"}


def test_a_national_number_with_a_trunk_prefix_finds_the_stored_international_one(client, receptionist, ada, settings):
    settings.PHONENUMBER_DEFAULT_REGION = "GB"
    british = PatientFactory(email="brit@example.com", phone="+447700900123")
    client.force_login(receptionist)
    assert listed(client.get(CHANGELIST, {"q": "07700 900123"})) == {british.email}


def test_a_number_nobody_has_finds_nobody(client, receptionist, ada, grace):
    client.force_login(receptionist)
    assert listed(client.get(CHANGELIST, {"q": "(614) 555-0100"})) == set()


def test_the_list_shows_last_visit_and_next_appointment_in_the_clinics_time(
    client, receptionist, ada, physio, westerville
):
    past = timezone.now() - timedelta(days=10)
    visited = AppointmentFactory(
        patient=ada, practitioner=physio, location=westerville, start=past, status=Appointment.Status.COMPLETED
    )
    AppointmentFactory(  # a no-show is not a visit
        patient=ada, practitioner=physio, location=westerville, start=past + 2 * HOUR, status="no_show"
    )
    upcoming = AppointmentFactory(patient=ada, practitioner=physio, location=westerville)
    client.force_login(receptionist)

    page = client.get(CHANGELIST).content.decode()

    assert staff_date_time(visited.local_start) in page
    assert staff_date_time(upcoming.local_start) in page


def test_the_patient_list_stays_in_bounded_queries_with_500_patients(
    client, receptionist, physio, westerville, django_assert_max_num_queries
):
    patients = Patient.objects.bulk_create(
        PatientFactory.build(email=f"p{index}@example.com", phone="+16145550100") for index in range(500)
    )
    first = timezone.now() + timedelta(days=1)
    for index, patient in enumerate(patients[:100]):
        AppointmentFactory(patient=patient, practitioner=physio, location=westerville, start=first + index * HOUR)
    client.force_login(receptionist)
    with django_assert_max_num_queries(10):
        response = client.get(CHANGELIST, {"q": "(614) 555-0100"})
    assert response.context["cl"].result_count == 500
    with django_assert_max_num_queries(10):
        response = client.get(CHANGELIST, {"o": "7"})
    assert response.context["cl"].list_display[7] == "next_appointment"
    starts = [patient.next_appointment_start for patient in response.context["cl"].result_list]
    assert starts[:3] == [first, first + HOUR, first + 2 * HOUR]


# --- One patient's page -------------------------------------------------------------------


@pytest.fixture
def booked(dry_needling, westerville, physio, open_all_week, ten_am):
    """Ada's booking, made online, with two safety flags."""
    return book(
        dry_needling,
        westerville,
        ten_am,
        practitioner=physio,
        screening=ScreeningAnswers(blood_thinners=True, needle_fear=True, other_conditions="Asthma"),
    )


def test_the_patient_page_shows_appointments_read_only_with_links(client, receptionist, booked):
    client.force_login(receptionist)
    response = client.get(change_url(booked.patient))
    page = response.content.decode()

    assert response.status_code == 200
    assert "Appointment history" in page
    assert reverse("admin:booking_appointment_change", args=[booked.pk]) in page
    assert booked.reference in page
    assert f"{staff_date_time(booked.local_start)} America/New_York" in page
    inline = next(formset for formset in response.context["inline_admin_formsets"])
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission
    assert 'name="appointments-0-status"' not in page  # shown, not editable
    # Not handed to the admin's inlines.js, which would give each row a "Remove" ✕ and the
    # table an "Add another" link: nothing on a history may look as if it could change.
    assert '<div class="inline-group" id="appointments-group">' in page
    history = page.split('id="appointments-group"', 1)[1].split("</fieldset>", 1)[0]
    assert "data-inline-formset" not in history and "inline-deletelink" not in history


def test_the_patient_page_shows_screening_flags_with_their_appointment(client, receptionist, booked):
    client.force_login(receptionist)
    page = client.get(change_url(booked.patient)).content.decode()

    assert "Screening history" in page
    assert "⚠ Blood thinners" in page and "⚠ Needle fear" in page and "Pregnant" not in page
    assert "Asthma" in page
    assert f"{booked.local_start:%a %d %b %Y %H:%M}" in page


def test_screening_answers_are_hidden_from_staff_who_may_not_read_them(client, booked):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_patient"))
    client.force_login(clerk)
    page = client.get(change_url(booked.patient)).content.decode()
    assert "Screening history" not in page and "Asthma" not in page


def test_the_patient_page_stays_in_constant_queries_with_100_appointments(client, receptionist, physio, westerville):
    def queries_for_page_with(appointments: int, *, from_days_ago: int) -> int:
        patient = PatientFactory()
        first = timezone.now() - timedelta(days=from_days_ago)
        Screening.objects.bulk_create(
            Screening(
                appointment=AppointmentFactory(
                    patient=patient, practitioner=physio, location=westerville, start=first + index * 12 * HOUR
                ),
                pregnant=index % 2 == 0,
            )
            for index in range(appointments)
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(change_url(patient)).status_code == 200
        return len(queries)

    client.force_login(receptionist)
    # One page first: Django caches content types per process, so the very first page of a
    # test run costs one query more whatever it shows.
    queries_for_page_with(1, from_days_ago=150)
    with_two, with_a_hundred = queries_for_page_with(2, from_days_ago=100), queries_for_page_with(100, from_days_ago=50)
    assert with_two == with_a_hundred <= 15


def test_an_edit_is_recorded_with_the_receptionist_as_actor(client, receptionist, booked):
    patient = booked.patient
    client.force_login(receptionist)
    appointments = client.get(change_url(patient)).context["inline_admin_formsets"][0].formset
    data = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "phone": "+16145550177",
        "date_of_birth": patient.date_of_birth.isoformat(),
        **form_data_of(appointments),
    }

    response = client.post(change_url(patient), data)

    assert response.status_code == 302
    latest = Patient.history.filter(id=patient.pk).latest()
    assert (latest.history_type, latest.history_user, latest.phone) == ("~", receptionist, "+16145550177")
    history_page = client.get(reverse("admin:patients_patient_history", args=[patient.pk])).content.decode()
    assert "reception" in history_page and "+16145550177" in history_page


def form_data_of(formset) -> dict:
    """What the browser posts back for a read-only inline: its management form and hidden ids."""
    data = {f"{formset.prefix}-{key}": value for key, value in formset.management_form.initial.items()}
    for index, form in enumerate(formset.forms):
        data[f"{formset.prefix}-{index}-id"] = form.instance.pk
        data[f"{formset.prefix}-{index}-patient"] = form.instance.patient_id
    return data


def test_the_first_edit_of_a_booked_patient_records_the_state_it_started_from(client, receptionist, booked):
    """Bookings create patients without signals; the first edit must still show what it changed."""
    patient = booked.patient
    assert not Patient.history.filter(id=patient.pk).exists()
    client.force_login(receptionist)
    appointments = client.get(change_url(patient)).context["inline_admin_formsets"][0].formset
    data = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "phone": "+16145550177",
        "date_of_birth": patient.date_of_birth.isoformat(),
        **form_data_of(appointments),
    }

    client.post(change_url(patient), data)
    client.post(change_url(patient), {**data, "first_name": "Augusta"})

    baseline, first_edit, second_edit = Patient.history.filter(id=patient.pk).order_by("history_date", "history_id")
    assert (baseline.history_type, baseline.history_user, baseline.phone) == ("+", None, "+16145550100")
    assert baseline.history_date == patient.created_at
    assert (first_edit.history_user, first_edit.phone) == (receptionist, "+16145550177")
    assert [change.field for change in first_edit.diff_against(baseline).changes] == ["phone"]
    assert (second_edit.history_user, second_edit.first_name) == (receptionist, "Augusta")
    page = client.get(reverse("admin:patients_patient_history", args=[patient.pk])).content.decode()
    assert "+16145550100" in page and "+16145550177" in page


def test_history_is_read_only(client, receptionist, ada):
    patient = ada
    record = Patient.history.filter(id=patient.pk).latest()
    url = reverse("admin:patients_patient_simple_history", args=[patient.pk, record.history_id])
    client.force_login(receptionist)

    assert client.get(url).status_code == 200
    assert client.post(url, {"first_name": "Changed"}).status_code == 403
    assert Patient.objects.get(pk=patient.pk).first_name == "Ada"


def test_patients_cannot_be_deleted_or_added_without_permission(client, receptionist, ada):
    client.force_login(receptionist)
    assert client.post(reverse("admin:patients_patient_delete", args=[ada.pk])).status_code == 403
    assert client.get(reverse("admin:patients_patient_add")).status_code == 200  # reception registers callers


# --- Merging duplicates -------------------------------------------------------------------


@pytest.fixture
def duplicates(dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, ten_am):
    """One person who booked twice, with two different emails."""
    first = book(dry_needling, westerville, ten_am, practitioner=physio, n=1)
    second = book(acupuncture, westerville, ten_am + 2 * HOUR, practitioner=acupuncturist, n=2)
    return first, second


def merge_post(*patients, **extra):
    return {"action": "merge_selected_patients", "_selected_action": [patient.pk for patient in patients], **extra}


def test_reception_sees_the_merge_action(client, receptionist, ada):
    client.force_login(receptionist)
    response = client.get(CHANGELIST)
    assert "merge_selected_patients" in dict(response.context["action_form"].fields["action"].choices)


def test_the_merge_page_lists_the_records_to_choose_from(client, receptionist, duplicates):
    first, second = duplicates
    client.force_login(receptionist)

    response = client.post(CHANGELIST, merge_post(first.patient, second.patient))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "admin/patients/patient/merge_patients.html"
    for patient in (first.patient, second.patient):
        assert patient.email in page and f'value="{patient.pk}"' in page
    assert "2 Jan 1980" in page and "3 Jan 1980" in page and "+16145550100" in page
    assert [patient.appointment_count for patient in response.context["patients"]] == [1, 1]
    assert Patient.objects.count() == 2  # nothing happens until a record is chosen
    # On a phone the table scrolls in its own box, which the keyboard can reach and name.
    assert (
        '<div class="merge-candidates-scroll" role="region" aria-label="Selected patient records" tabindex="0">' in page
    )


def test_merging_keeps_the_chosen_record_with_every_appointment(client, receptionist, duplicates):
    first, second = duplicates
    client.force_login(receptionist)

    response = client.post(
        CHANGELIST, merge_post(first.patient, second.patient, merge="yes", keep=second.patient.pk), follow=True
    )

    assert list(Patient.objects.all()) == [second.patient]
    assert set(second.patient.appointments.all()) == {first, second}
    assert "Merged 1 duplicate record(s) into" in response.content.decode()
    deletion = Patient.history.filter(id=first.patient_id).latest()
    assert deletion.history_user == receptionist
    kept_page = client.get(change_url(second.patient)).content.decode()
    assert reverse("admin:patients_patient_history", args=[first.patient_id]) in kept_page
    # The merged record's history stays readable.
    assert client.get(reverse("admin:patients_patient_history", args=[first.patient_id])).status_code == 200


def test_a_refused_merge_shows_why_and_changes_nothing(
    client, receptionist, dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, ten_am
):
    first = book(dry_needling, westerville, ten_am, practitioner=physio, n=1)
    second = book(acupuncture, westerville, ten_am, practitioner=acupuncturist, n=2)
    client.force_login(receptionist)

    response = client.post(CHANGELIST, merge_post(first.patient, second.patient, merge="yes", keep=first.patient.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot be merged" in page and first.reference in page and second.reference in page
    assert Patient.objects.count() == 2
    assert Appointment.objects.get(pk=second.pk).patient_id == second.patient_id


def test_a_merge_without_a_chosen_record_asks_again(client, receptionist, duplicates):
    first, second = duplicates
    client.force_login(receptionist)
    response = client.post(CHANGELIST, merge_post(first.patient, second.patient, merge="yes", keep=123456))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Patient.objects.count() == 2


def test_one_record_alone_cannot_be_merged(client, receptionist, ada):
    client.force_login(receptionist)
    response = client.post(CHANGELIST, merge_post(ada), follow=True)
    assert "Select between 2 and 10 records" in response.content.decode()


def test_staff_without_the_merge_permission_do_not_see_or_run_the_action(client, ada, grace):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_patient", "change_patient"]))
    client.force_login(clerk)

    assert client.get(CHANGELIST).context["action_form"] is None  # no action left to offer
    client.post(CHANGELIST, merge_post(ada, grace, merge="yes", keep=ada.pk))
    assert Patient.objects.count() == 2


def test_the_roles_migration_gives_reception_history_and_merge_but_never_delete():
    codenames = set(
        Group.objects.get(name=RECEPTION_GROUP)
        .permissions.filter(content_type__app_label="patients")
        .values_list("codename", flat=True)
    )
    assert {"view_patient", "add_patient", "change_patient", "view_historicalpatient", "merge_patients"} <= codenames
    assert "delete_patient" not in codenames


# --- Who may come in ----------------------------------------------------------------------


def patient_pages(patient):
    record_history_baseline(patient_id=patient.pk)
    record = Patient.history.filter(id=patient.pk).latest()
    return [
        ("get", CHANGELIST, None),
        ("get", change_url(patient), None),
        ("get", reverse("admin:patients_patient_history", args=[patient.pk]), None),
        ("get", reverse("admin:patients_patient_simple_history", args=[patient.pk, record.history_id]), None),
        ("post", CHANGELIST, merge_post(patient, PatientFactory())),
    ]


def test_a_practitioner_with_staff_status_is_refused_every_patient_page(client, staff_practitioner, booked):
    client.force_login(staff_practitioner)
    for method, url, data in patient_pages(booked.patient):
        assert getattr(client, method)(url, data).status_code == 403, url
    assert Patient.objects.count() == 2


def test_a_practitioner_without_staff_status_is_sent_to_the_login(client, practitioner_user, booked):
    client.force_login(practitioner_user)
    for method, url, data in patient_pages(booked.patient):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url


def test_anonymous_visitors_are_sent_to_the_login(client, booked):
    for method, url, data in patient_pages(booked.patient):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login")), url
    assert Patient.objects.count() == 2


# --- Consent wording ----------------------------------------------------------------------


def test_a_saved_consent_text_cannot_be_edited(client, superuser, receptionist):
    consent = ConsentText.objects.latest()
    url = reverse("admin:patients_consenttext_change", args=[consent.pk])

    client.force_login(superuser)
    client.post(url, {"version": "1", "body": "Rewritten after the fact", "published_at": "2020-01-01 00:00"})
    assert ConsentText.objects.get(pk=consent.pk).body == consent.body

    client.force_login(receptionist)
    assert client.get(url).status_code == 200
    assert client.post(url, {"body": "Rewritten"}).status_code == 403
    assert client.get(reverse("admin:patients_consenttext_add")).status_code == 403

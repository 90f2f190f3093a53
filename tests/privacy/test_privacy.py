"""The privacy actions on the patient list: export (reception may) and anonymise (the owner may)."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from clinic.roles import RECEPTION_GROUP
from patients.models import Patient
from tests.factories import AppointmentFactory, PatientFactory, UserFactory
from tests.privacy import privacy_scenario as scenario

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:patients_patient_changelist")


@pytest.fixture
def zephyrine(db):
    return PatientFactory(
        first_name=scenario.FIRST_NAME,
        last_name=scenario.LAST_NAME,
        email=scenario.EMAIL,
        phone=scenario.PHONE,
        date_of_birth=scenario.DATE_OF_BIRTH,
    )


def action(name, *patients, **extra):
    return {"action": name, "_selected_action": [patient.pk for patient in patients], **extra}


def offered_actions(client) -> set[str]:
    return set(dict(client.get(CHANGELIST).context["action_form"].fields["action"].choices))


def test_reception_may_export_but_not_anonymise(client, receptionist):
    client.force_login(receptionist)
    actions = offered_actions(client)
    assert "export_patient_data" in actions
    assert "anonymise_selected_patient" not in actions


def test_the_owner_may_do_both(client, superuser):
    client.force_login(superuser)
    assert {"export_patient_data", "anonymise_selected_patient"} <= offered_actions(client)


def test_the_roles_migration_grants_reception_export_and_no_group_anonymise():
    export, anonymise = (
        Permission.objects.get(content_type__app_label="patients", codename=codename)
        for codename in ("export_patient", "anonymise_patient")
    )
    assert export in Group.objects.get(name=RECEPTION_GROUP).permissions.all()
    assert not anonymise.group_set.exists()


def test_export_downloads_one_patients_json_and_is_audited(
    client, receptionist, zephyrine, django_assert_max_num_queries
):
    AppointmentFactory(patient=zephyrine)
    client.force_login(receptionist)

    with django_assert_max_num_queries(30):
        response = client.post(CHANGELIST, action("export_patient_data", zephyrine))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="patient-{zephyrine.pk}-export.json"'
    assert "no-store" in response["Cache-Control"].split(", ")
    data = json.loads(response.content)
    assert data["patient"]["email"] == scenario.EMAIL and len(data["appointments"]) == 1
    log = LogEntry.objects.get()
    assert (log.user, log.object_id, log.get_change_message()) == (
        receptionist,
        str(zephyrine.pk),
        "Exported personal data (JSON).",
    )
    latest = Patient.history.filter(id=zephyrine.pk).latest()
    assert (latest.history_change_reason, latest.history_user) == ("personal data exported by reception", receptionist)


def test_export_needs_exactly_one_patient(client, receptionist, zephyrine):
    client.force_login(receptionist)
    response = client.post(CHANGELIST, action("export_patient_data", zephyrine, PatientFactory()), follow=True)
    assert "Select exactly one patient to export." in response.text
    assert response["Content-Type"].startswith("text/html")
    assert not LogEntry.objects.exists()


def test_staff_without_the_export_permission_get_no_file(client, zephyrine):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_patient", "change_patient"]))
    client.force_login(clerk)

    response = client.post(CHANGELIST, action("export_patient_data", zephyrine), follow=True)

    assert response["Content-Type"].startswith("text/html")
    assert "Content-Disposition" not in response
    assert not LogEntry.objects.exists()


def test_reception_posting_anonymise_changes_nothing(client, receptionist, zephyrine):
    client.force_login(receptionist)
    client.post(CHANGELIST, action("anonymise_selected_patient", zephyrine, anonymise="yes"))
    assert Patient.objects.get(pk=zephyrine.pk).email == scenario.EMAIL


def test_anonymise_asks_first_then_anonymises_and_is_audited(client, superuser, zephyrine):
    client.force_login(superuser)

    page = client.post(CHANGELIST, action("anonymise_selected_patient", zephyrine))
    assert page.status_code == 200
    assert "This cannot be undone." in page.text and scenario.EMAIL in page.text
    assert 'name="anonymise" value="yes"' in page.text
    assert "<style" not in page.text and "style=" not in page.text
    assert Patient.objects.get(pk=zephyrine.pk).email == scenario.EMAIL

    done = client.post(CHANGELIST, action("anonymise_selected_patient", zephyrine, anonymise="yes"), follow=True)

    assert f"Patient record #{zephyrine.pk} is anonymised" in done.text
    patient = Patient.objects.get(pk=zephyrine.pk)
    assert patient.first_name == "Anonymised"
    log = LogEntry.objects.get()
    assert (log.user, log.object_repr) == (superuser, f"Anonymised patient #{zephyrine.pk}")
    assert Patient.history.filter(id=zephyrine.pk).latest().history_change_reason == "anonymised by owner"


def test_anonymise_with_an_appointment_to_come_says_what_to_do(client, superuser, zephyrine):
    upcoming = AppointmentFactory(patient=zephyrine)
    client.force_login(superuser)

    response = client.post(CHANGELIST, action("anonymise_selected_patient", zephyrine, anonymise="yes"), follow=True)

    assert f"still has appointments to come ({upcoming.reference}). Cancel them first" in response.text
    assert Patient.objects.get(pk=zephyrine.pk).email == scenario.EMAIL
    assert not LogEntry.objects.exists()


def test_anonymise_needs_exactly_one_patient(client, superuser, zephyrine):
    client.force_login(superuser)
    response = client.post(
        CHANGELIST, action("anonymise_selected_patient", zephyrine, PatientFactory(), anonymise="yes"), follow=True
    )
    assert "Select exactly one patient to anonymise." in response.text
    assert Patient.objects.get(pk=zephyrine.pk).email == scenario.EMAIL

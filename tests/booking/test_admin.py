"""The booking admin as reception sees it (the full reception workplace is a later issue)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:booking_appointment_changelist",
        "admin:booking_workinghours_changelist",
        "admin:booking_timeoff_changelist",
        "admin:patients_patient_changelist",
    ],
)
def test_reception_lists_stay_in_bounded_queries(
    client, receptionist, physio, westerville, url_name, django_assert_max_num_queries
):
    patients = PatientFactory.create_batch(20)
    first = timezone.now() + timedelta(days=2)
    for index, patient in enumerate(patients * 5):  # 100 appointments, an hour apart
        AppointmentFactory(patient=patient, practitioner=physio, location=westerville, start=first + index * HOUR)
    client.force_login(receptionist)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(url_name))
    assert response.status_code == 200


def test_appointment_shows_local_time_and_history_but_cannot_be_deleted_or_added(
    client, receptionist, physio, westerville
):
    appointment = AppointmentFactory(practitioner=physio, location=westerville)
    client.force_login(receptionist)
    page = client.get(reverse("admin:booking_appointment_changelist")).content.decode()
    assert appointment.reference in page and "America/New_York" in page
    assert (
        appointment.manage_token
        not in client.get(reverse("admin:booking_appointment_change", args=[appointment.pk])).content.decode()
    )
    assert client.get(reverse("admin:booking_appointment_history", args=[appointment.pk])).status_code == 200
    assert client.get(reverse("admin:booking_appointment_add")).status_code == 403
    assert client.post(reverse("admin:booking_appointment_delete", args=[appointment.pk])).status_code == 403


def test_practitioners_cannot_open_patient_lists(client, practitioner_user):
    client.force_login(practitioner_user)
    response = client.get(reverse("admin:patients_patient_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]

"""Every audited record's history is shown read-only: simple-history's version page would
otherwise save a POSTed old version back, around the services."""

from datetime import time, timedelta

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from booking.models import TimeOff, WorkingHours
from clinic.admin_base import AuditTrailAdmin
from tests.discovery.factories import DiscoveryCallRequestFactory
from tests.factories import AppointmentFactory, PatientFactory


def test_every_model_with_history_is_administered_through_the_audit_trail_admin():
    audited = [model for model in admin.site._registry if hasattr(model, "history")]
    assert {model.__name__ for model in audited} >= {
        "Appointment",
        "WorkingHours",
        "TimeOff",
        "Patient",
        "DiscoveryCallRequest",
    }
    for model in audited:
        assert isinstance(admin.site._registry[model], AuditTrailAdmin), model


def _records(physio, westerville):
    now = timezone.now()
    return {
        "appointment": AppointmentFactory(practitioner=physio, location=westerville),
        "hours": WorkingHours.objects.create(
            practitioner=physio, location=westerville, weekday=0, start_time=time(9), end_time=time(12)
        ),
        "time off": TimeOff.objects.create(practitioner=physio, start=now, end=now + timedelta(hours=2)),
        "patient": PatientFactory(),
        "call request": DiscoveryCallRequestFactory(),
    }


@pytest.mark.parametrize("record", ["appointment", "hours", "time off", "patient", "call request"])
def test_posting_an_old_version_is_refused_even_for_a_superuser(client, superuser, physio, westerville, record):
    obj = _records(physio, westerville)[record]
    model = type(obj)
    if not obj.history.exists():  # rows written with bulk_create or .update() start without one
        obj.save()
    version = obj.history.latest()
    assert isinstance(version, HistoricalChanges)
    url = reverse(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_simple_history", args=[obj.pk, version.history_id]
    )
    client.force_login(superuser)
    shown = client.get(url)
    assert shown.status_code == 200
    assert b"Revert" not in shown.content
    count = model.history.count()
    assert client.post(url, {}).status_code == 403
    assert model.history.count() == count


CHANGELISTS = [
    "booking_appointment",
    "booking_workinghours",
    "booking_timeoff",
    "patients_patient",
    "discovery_discoverycallrequest",
]


@pytest.mark.parametrize("changelist", CHANGELISTS)
@pytest.mark.parametrize(
    "query",
    [{"status": "\x00"}, {"q\x00": "x"}, {"start__year": "9999", "start__month": "12", "start__day": "31"}],
)
def test_odd_list_filters_give_the_list_back_with_a_message_not_a_500(client, receptionist, changelist, query):
    client.force_login(receptionist)
    response = client.get(reverse(f"admin:{changelist}_changelist"), query, follow=True)
    assert response.status_code == 200


def test_a_selection_that_is_not_row_ids_is_refused_with_a_message(client, receptionist, physio, westerville):
    AppointmentFactory(practitioner=physio, location=westerville)
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_appointment_changelist"),
        {"action": "mark_arrived_action", "_selected_action": ["²"]},
        follow=True,
    )
    assert response.status_code == 200
    assert "could not be used" in response.content.decode()


def test_a_nul_in_the_patient_autocomplete_search_finds_nothing_rather_than_failing(client, receptionist):
    client.force_login(receptionist)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "booking", "model_name": "appointment", "field_name": "patient", "term": "a\x00"},
    )
    assert response.status_code == 200


def test_history_pages_ask_for_permission_before_looking_anything_up(client, receptionist, practitioner_user):
    patient = PatientFactory()
    practitioner_user.is_staff = True
    practitioner_user.save()
    client.force_login(practitioner_user)
    for object_id in (patient.pk, 999_999, "abc"):
        assert client.get(f"/admin/patients/patient/{object_id}/history/").status_code == 403
    client.force_login(receptionist)
    assert client.get("/admin/patients/patient/abc/history/").status_code == 404
    assert client.get(f"/admin/patients/patient/{patient.pk}/history/abc/").status_code == 404
    assert client.get(f"/admin/patients/patient/{patient.pk}/history/").status_code == 200

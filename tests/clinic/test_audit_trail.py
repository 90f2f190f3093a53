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

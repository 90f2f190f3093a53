"""A discovery call booked online, beside the calendar: the caller's own clock, and what they
wrote only for staff who may read health details."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import AppointmentFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(discovery_call, westerville, physio, ten_am):
    return AppointmentFactory(
        service=discovery_call,
        location=westerville,
        practitioner=physio,
        start=ten_am,
        consent=None,
        concern="Sciatica since March",
        caller_timezone="America/Vancouver",
        patient=PatientFactory(date_of_birth=None),
    )


def test_reception_sees_the_callers_clock_and_words(client, receptionist, call):
    client.force_login(receptionist)
    panel = client.get(reverse("reception:panel", args=[call.pk])).content.decode()
    assert "7:00 AM for the caller (Vancouver time)" in panel
    assert "Sciatica since March" in panel
    assert "Not asked: a discovery call booked online asks none" in panel and "No flags" not in panel


def test_staff_who_may_not_read_health_details_do_not_see_what_the_caller_wrote(client, call):
    desk = UserFactory(username="temp", is_staff=True)
    desk.user_permissions.add(*Permission.objects.filter(codename__in=["view_appointment", "change_appointment"]))
    client.force_login(desk)
    panel = client.get(reverse("reception:panel", args=[call.pk])).content.decode()
    assert "7:00 AM for the caller (Vancouver time)" in panel
    assert "Sciatica since March" not in panel

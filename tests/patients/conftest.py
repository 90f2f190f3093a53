"""Fixtures for the patient records: open hours to book through the real service, a
practitioner who has been given staff status, and a booking day in Westerville."""

from datetime import date, time, timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from booking.availability import local_instant
from booking.models import WorkingHours
from clinic.roles import PRACTITIONER_GROUP
from tests.factories import UserFactory


@pytest.fixture
def open_all_week(physio, acupuncturist, westerville):
    """Both practitioners work 09:00-17:00 every day in Westerville."""
    for practitioner in (physio, acupuncturist):
        for weekday in range(7):
            WorkingHours.objects.create(
                practitioner=practitioner, location=westerville, weekday=weekday, start_time=time(9), end_time=time(17)
            )


@pytest.fixture
def booking_day(westerville) -> date:
    return timezone.localtime(timezone.now(), westerville.zone).date() + timedelta(days=7)


@pytest.fixture
def ten_am(booking_day, westerville):
    return local_instant(booking_day, time(10), westerville.zone)


@pytest.fixture
def staff_practitioner(db):
    """A practitioner someone ticked "staff status" for: still no way into patient records."""
    user = UserFactory(username="dr.staff", is_staff=True)
    user.groups.add(Group.objects.get(name=PRACTITIONER_GROUP))
    return user

"""Fixtures for the patient records: a practitioner who has been given staff status.
(Open hours and a booking day come from tests/conftest.py.)"""

import pytest
from django.contrib.auth.models import Group

from clinic.roles import PRACTITIONER_GROUP
from tests.factories import UserFactory
from tests.privacy import privacy_scenario as scenario


@pytest.fixture
def staff_practitioner(db):
    """A practitioner someone ticked "staff status" for: still no way into patient records."""
    user = UserFactory(username="dr.staff", is_staff=True)
    user.groups.add(Group.objects.get(name=PRACTITIONER_GROUP))
    return user


@pytest.fixture
def person(dry_needling, westerville, open_all_week, ten_am, receptionist, booking_day, sciatica):
    """Someone the clinic holds a lot about (tests/privacy/privacy_scenario.py)."""
    return scenario.person_with_everything(
        service=dry_needling,
        location=westerville,
        start=ten_am,
        staff=receptionist,
        booking_day=booking_day,
        sciatica=sciatica,
    )

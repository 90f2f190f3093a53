"""Fixtures for the patient records: a practitioner who has been given staff status.
(Open hours and a booking day come from tests/conftest.py.)"""

import pytest
from django.contrib.auth.models import Group

from clinic.roles import PRACTITIONER_GROUP
from tests.factories import UserFactory


@pytest.fixture
def staff_practitioner(db):
    """A practitioner someone ticked "staff status" for: still no way into patient records."""
    user = UserFactory(username="dr.staff", is_staff=True)
    user.groups.add(Group.objects.get(name=PRACTITIONER_GROUP))
    return user

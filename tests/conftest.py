"""The shared cast: a receptionist, two practitioners, a superuser and an outsider,
in a small clinic with two locations in different time zones."""

import importlib
from datetime import date, time, timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone

from booking.availability import local_instant
from booking.models import WorkingHours
from clinic.roles import PRACTITIONER_GROUP, RECEPTION_GROUP, sync_roles
from tests.factories import (
    ConditionFactory,
    LocationFactory,
    PractitionerFactory,
    ServiceFactory,
    UserFactory,
    phone_line_of,
)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


@pytest.fixture(autouse=True)
def _rows_from_data_migrations(request):
    """Transactional tests (real concurrent connections, the live server) end with a flush
    that empties what migrate wrote. Put the rows tests rely on back first: the role groups
    with their permissions (clinic/roles.py), and the published consent text."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or {
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    sync_roles()
    importlib.import_module("patients.migrations.0002_consent_version_1").publish_version_1(apps, None)


@pytest.fixture
def westerville(db):
    return LocationFactory(name="Westerville", slug="westerville", timezone="America/New_York")


@pytest.fixture
def calgary(db):
    return LocationFactory(name="Calgary", slug="calgary", timezone="America/Edmonton", phone="+14035550163")


@pytest.fixture
def dry_needling(db):
    return ServiceFactory(name="Initial assessment + dry needling", slug="dry-needling-initial", duration_minutes=60)


@pytest.fixture
def acupuncture(db):
    return ServiceFactory(name="Acupuncture follow-up", slug="acupuncture-follow-up", duration_minutes=60)


@pytest.fixture
def discovery_call(db):
    return ServiceFactory(
        name="Free discovery call", slug="free-discovery-call", kind="discovery_call", duration_minutes=15, price=None
    )


@pytest.fixture
def practitioner_user(db):
    user = UserFactory(username="maya")
    user.groups.add(Group.objects.get(name=PRACTITIONER_GROUP))
    return user


@pytest.fixture
def other_practitioner_user(db):
    user = UserFactory(username="okafor")
    user.groups.add(Group.objects.get(name=PRACTITIONER_GROUP))
    return user


@pytest.fixture
def physio(practitioner_user, dry_needling, discovery_call, westerville):
    return PractitionerFactory(
        name="Maya Lindqvist",
        slug="maya-lindqvist",
        user=practitioner_user,
        services=[dry_needling, discovery_call],
        locations=[westerville],
    )


@pytest.fixture
def acupuncturist(other_practitioner_user, acupuncture, westerville, calgary):
    return PractitionerFactory(
        name="Sofia Marchetti",
        slug="sofia-marchetti",
        title="Licensed Acupuncturist",
        credentials="L.Ac.",
        user=other_practitioner_user,
        services=[acupuncture],
        locations=[westerville, calgary],
    )


@pytest.fixture
def sciatica(dry_needling, acupuncture):
    return ConditionFactory(name="Sciatica", slug="sciatica", related_services=[dry_needling, acupuncture])


@pytest.fixture
def catalogue(westerville, calgary, dry_needling, acupuncture, discovery_call, physio, acupuncturist, sciatica):
    """The whole small clinic, for page tests."""
    return {
        "locations": [westerville, calgary],
        "services": [dry_needling, acupuncture, discovery_call],
        "practitioners": [physio, acupuncturist],
        "conditions": [sciatica],
    }


@pytest.fixture
def receptionist(db):
    user = UserFactory(username="reception", is_staff=True)
    user.groups.add(Group.objects.get(name=RECEPTION_GROUP))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="owner", is_staff=True, is_superuser=True)


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def booking_day(westerville) -> date:
    """A day a week from now, in Westerville's own calendar: past any notice, inside the horizon."""
    return timezone.localtime(timezone.now(), westerville.zone).date() + timedelta(days=7)


@pytest.fixture
def open_all_week(physio, acupuncturist, westerville):
    """Both practitioners work 09:00-17:00 every day in Westerville."""
    for practitioner in (physio, acupuncturist):
        for weekday in range(7):
            WorkingHours.objects.create(
                practitioner=practitioner, location=westerville, weekday=weekday, start_time=time(9), end_time=time(17)
            )


@pytest.fixture
def ten_am(booking_day, westerville):
    return local_instant(booking_day, time(10), westerville.zone)


@pytest.fixture
def phone_line(physio, westerville, calgary):
    """The "By phone" line (New York's clock), where Maya takes discovery calls 9:00-17:00 every
    day; the clinics named by their towns."""
    calgary.town, westerville.town = "Calgary", "Westerville"
    calgary.save()
    westerville.save()
    location = phone_line_of(physio)
    for weekday in range(7):
        WorkingHours.objects.create(
            practitioner=physio, location=location, weekday=weekday, start_time=time(9), end_time=time(17)
        )
    return location

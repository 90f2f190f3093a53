"""The schedule pages' cast: Maya (physio, Westerville only) and Sofia (acupuncturist, Westerville and
Calgary, two zones), on a fixed Wednesday morning in Westerville."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from booking.availability import local_instant
from tests.factories import AppointmentFactory

NEW_YORK = ZoneInfo("America/New_York")
A_WEDNESDAY = date(2030, 6, 12)
WEDNESDAY_MORNING = datetime(2030, 6, 12, 10, 30, tzinfo=NEW_YORK)


def at(location, day: date, hour: int, minute: int = 0) -> datetime:
    return local_instant(day, time(hour, minute), location.zone)


def appointment_at(start: datetime, *, minutes: int = 45, **fields):
    """A row written directly (any time, any status), `minutes` long with a 15-minute buffer."""
    return AppointmentFactory(
        start=start,
        end=start + timedelta(minutes=minutes),
        blocked_until=start + timedelta(minutes=minutes + 15),
        **fields,
    )


@pytest.fixture
def wednesday_morning():
    """Now is 10:30 in Westerville on A_WEDNESDAY. Use it as a module's `usefixtures`, so that it
    starts before any login: a session started at the real time would have expired by then."""
    with time_machine.travel(WEDNESDAY_MORNING, tick=False):
        yield WEDNESDAY_MORNING


@pytest.fixture
def maya_client(client, physio, practitioner_user):
    client.force_login(practitioner_user)
    return client


@pytest.fixture
def sofia_client(client, acupuncturist, other_practitioner_user):
    client.force_login(other_practitioner_user)
    return client

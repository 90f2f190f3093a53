from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from booking.availability import local_instant
from booking.models import WorkingHours


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

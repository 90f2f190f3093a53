"""When we promise to call back, and when a waiting request is overdue (pure time arithmetic)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from discovery.models import DiscoveryCallRequest
from discovery.selectors import call_back_zone, expected_call_day, is_overdue, one_business_day_after

NEW_YORK = ZoneInfo("America/New_York")
# 2030-01-14 is a Monday.
MONDAY, FRIDAY, SATURDAY = date(2030, 1, 14), date(2030, 1, 18), date(2030, 1, 19)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    "best_time, requested, expected",
    [
        ("morning", at(MONDAY, 7, 0), MONDAY),  # two hours before the window: today
        ("morning", at(MONDAY, 8, 30), date(2030, 1, 15)),  # too close to 9:00: tomorrow
        ("afternoon", at(MONDAY, 10), MONDAY),
        ("afternoon", at(MONDAY, 11, 30), date(2030, 1, 15)),
        ("evening", at(MONDAY, 15), MONDAY),
        ("evening", at(MONDAY, 18), date(2030, 1, 15)),
        ("morning", at(FRIDAY, 14), date(2030, 1, 21)),  # Friday afternoon: Monday
        ("afternoon", at(SATURDAY, 8), date(2030, 1, 21)),  # never at the weekend
        ("evening", at(date(2030, 1, 20), 23, 59), date(2030, 1, 21)),  # Sunday night: Monday
    ],
)
def test_expected_call_day(best_time, requested, expected):
    assert expected_call_day(best_time=best_time, requested_at=requested, zone=NEW_YORK) == expected


def test_the_call_day_is_on_the_clinics_clock_not_utc():
    # 23:30 in New York on Monday is already Tuesday in UTC; the evening window has passed in New York.
    requested = at(MONDAY, 23, 30).astimezone(ZoneInfo("UTC"))
    assert expected_call_day(best_time="morning", requested_at=requested, zone=NEW_YORK) == date(2030, 1, 15)


@pytest.mark.parametrize(
    "created, due",
    [
        (at(MONDAY, 10), at(date(2030, 1, 15), 10)),
        (at(FRIDAY, 10), at(date(2030, 1, 21), 10)),
        (at(SATURDAY, 10), at(date(2030, 1, 21), 10)),
    ],
)
def test_one_business_day_after(created, due):
    assert one_business_day_after(created, NEW_YORK) == due


def test_only_new_requests_become_overdue():
    waiting = DiscoveryCallRequest(created_at=at(FRIDAY, 10), status="new")
    assert not is_overdue(waiting, now=at(date(2030, 1, 21), 9, 59), zone=NEW_YORK)
    assert is_overdue(waiting, now=at(date(2030, 1, 21), 10, 1), zone=NEW_YORK)
    waiting.status = "contacted"
    assert not is_overdue(waiting, now=at(date(2030, 1, 22), 10), zone=NEW_YORK)


@pytest.mark.django_db
def test_call_back_zone_prefers_the_phone_line(westerville, calgary, by_phone):
    westerville.timezone = "America/Chicago"
    westerville.save()
    assert call_back_zone() == NEW_YORK  # by_phone's zone, whatever the clinics' order
    by_phone.is_active = False
    by_phone.save()
    assert call_back_zone() == ZoneInfo("America/Edmonton")  # then the first clinic: Calgary, by name


@pytest.mark.django_db
def test_call_back_zone_without_any_location_is_the_servers():
    assert call_back_zone() == ZoneInfo("UTC")

"""When we promise to call back, and when a waiting request is overdue (pure time arithmetic)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from clinic.clock import zone_in_words
from discovery.models import DiscoveryCallRequest
from discovery.selectors import (
    call_back_zone,
    expected_call_day,
    is_overdue,
    one_business_day_after,
    waiting_since,
    with_waiting_since,
)
from tests.discovery.factories import CallAttemptFactory, DiscoveryCallRequestFactory

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


def request_waiting_since(status: str, created: datetime, last_call: datetime | None = None) -> DiscoveryCallRequest:
    """An unsaved request, annotated as with_waiting_since would annotate it."""
    call_request = DiscoveryCallRequest(created_at=created, status=status)
    call_request.waiting_since = last_call or created
    return call_request


def test_a_new_request_is_overdue_one_business_day_after_it_came_in():
    waiting = request_waiting_since("new", at(FRIDAY, 10))
    assert not is_overdue(waiting, now=at(date(2030, 1, 21), 9, 59), zone=NEW_YORK)
    assert is_overdue(waiting, now=at(date(2030, 1, 21), 10, 1), zone=NEW_YORK)


@pytest.mark.parametrize("status", ["contacted", "no_answer"])
def test_a_contacted_or_unanswered_request_is_overdue_one_business_day_after_its_last_call(status):
    # In since last Monday, last tried on Friday at 10: due again on Monday at 10.
    waiting = request_waiting_since(status, at(MONDAY, 9), last_call=at(FRIDAY, 10))
    assert not is_overdue(waiting, now=at(date(2030, 1, 21), 9, 59), zone=NEW_YORK)
    assert is_overdue(waiting, now=at(date(2030, 1, 21), 10, 1), zone=NEW_YORK)


@pytest.mark.parametrize("status", ["booked", "not_a_fit", "closed"])
def test_a_finished_request_is_never_overdue(status):
    finished = request_waiting_since(status, at(MONDAY, 9))
    assert not is_overdue(finished, now=at(date(2030, 2, 25), 10), zone=NEW_YORK)


@pytest.mark.django_db
def test_waiting_since_is_the_last_call_or_the_arrival():
    call_request = DiscoveryCallRequestFactory(created_at=at(MONDAY, 9))
    assert waiting_since(call_request) == at(MONDAY, 9)
    CallAttemptFactory(request=call_request, attempted_at=at(MONDAY, 11))
    CallAttemptFactory(request=call_request, attempted_at=at(FRIDAY, 10))
    assert waiting_since(call_request) == at(FRIDAY, 10)
    annotated = with_waiting_since(DiscoveryCallRequest.objects.all()).get()
    assert annotated.waiting_since == at(FRIDAY, 10)
    fresh = with_waiting_since(DiscoveryCallRequest.objects.filter(pk=DiscoveryCallRequestFactory().pk)).get()
    assert fresh.waiting_since == fresh.created_at


@pytest.mark.parametrize(
    "key, name",
    [
        ("America/New_York", "New York time"),
        ("America/Edmonton", "Edmonton time"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires time"),
        ("UTC", "UTC"),
    ],
)
def test_zone_name_says_the_city(key, name):
    assert zone_in_words(ZoneInfo(key)) == name


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

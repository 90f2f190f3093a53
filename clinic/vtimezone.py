"""VTIMEZONE blocks that every calendar parser reads alike.

icalendar's own VTIMEZONE lists every clock change from 1970 to 2038 as RDATEs under one
DTSTART; ical.js (Thunderbird, many web calendars) and vobject ignore those RDATEs and read a
July time in New York as standard time, an hour off. So each clock change within the years of
the file's events is its own observance with only a DTSTART, which every parser reads alike,
plus one observance just before the first year for the offset in force then.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset() or timedelta(0)


def _transitions(zone: ZoneInfo, first: datetime, last: datetime) -> list[datetime]:
    """The UTC instants in (first, last] at which the zone's offset changes, to the minute
    (every zone changes on a whole minute); `first` is on a whole minute."""
    found = []
    moment = first
    while moment < last:
        following = min(moment + timedelta(days=1), last)
        if _offset(zone, moment) != _offset(zone, following):
            # The first minute of the day whose offset differs from the day's start.
            low, high = 0, int((following - moment).total_seconds() // 60)
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, moment + timedelta(minutes=middle)) == _offset(zone, moment):
                    low = middle
                else:
                    high = middle
            found.append(moment + timedelta(minutes=high))
        moment = following
    return found


def _observance(zone: ZoneInfo, *, onset: datetime, before: timedelta, after: timedelta):
    instant = onset.astimezone(zone)
    # Europe/Dublin's winter time is a negative DST in the zone database: its summer is standard.
    observance = TimezoneDaylight() if (instant.dst() or timedelta(0)) > timedelta(0) else TimezoneStandard()
    # DTSTART is the onset on the local clock as it read just before (RFC 5545 3.6.5).
    observance.add("dtstart", (onset + before).replace(tzinfo=None))
    observance.add("tzoffsetfrom", before)
    observance.add("tzoffsetto", after)
    observance.add("tzname", instant.tzname())
    return observance


def vtimezone(zone: ZoneInfo, *, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE from 1 January of first_year to the end of last_year."""
    component = Timezone()
    component.add("tzid", zone.key)
    first = datetime(first_year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    last = datetime(last_year + 1, 1, 1, tzinfo=UTC) + timedelta(days=1)
    initial = _offset(zone, first)
    component.add_component(_observance(zone, onset=first, before=initial, after=initial))
    for change in _transitions(zone, first, last):
        before = _offset(zone, change - timedelta(minutes=1))
        component.add_component(_observance(zone, onset=change, before=before, after=_offset(zone, change)))
    return component


def add_time_zones(calendar: Calendar, events: Iterable[tuple[ZoneInfo, datetime]]) -> None:
    """One VTIMEZONE per zone among (zone, instant) pairs, covering the years of its instants."""
    years: dict[str, tuple[ZoneInfo, int, int]] = {}
    for zone, instant in events:
        year = instant.astimezone(zone).year
        _, low, high = years.get(zone.key, (zone, year, year))
        years[zone.key] = (zone, min(low, year), max(high, year))
    for key in sorted(years):
        zone, low, high = years[key]
        calendar.add_component(vtimezone(zone, first_year=low, last_year=high))

"""How pages write a time of day: one setting, CLOCK_FORMAT ("12" or "24"), for the staff's
calendar, week, Book for a caller, appointment record and practitioner's pages, and for every
time a patient reads: the wizard, the manage page, the waiting list, emails (patient_date_time
and the `clock` template library).

Takes wall-clock times: callers convert an instant to its location's zone first.
"""

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def staff_time(moment: datetime | time, *, zone_name: bool = False) -> str:
    """'2:30 PM' or '14:30'; with zone_name, the zone's abbreviation after it ('2:30 PM EST'),
    which tells apart the two 1:30s of a fall-back night."""
    if settings.CLOCK_FORMAT == "24":
        text = f"{moment:%H:%M}"
    else:
        hour = moment.hour % 12 or 12
        text = f"{hour}:{moment:%M} {'AM' if moment.hour < 12 else 'PM'}"
    if zone_name and isinstance(moment, datetime) and moment.tzinfo is not None:
        text = f"{text} {moment:%Z}"
    return text


def staff_time_range(start: datetime | time, end: datetime | time, *, zone_name: bool = False) -> str:
    """'9:00 AM–10:00 AM' / '09:00–10:00'."""
    return f"{staff_time(start, zone_name=zone_name)}–{staff_time(end, zone_name=zone_name)}"


def hour_label(moment: datetime | time) -> str:
    """The calendar's row label on the hour: '9 AM' / '09:00'."""
    if settings.CLOCK_FORMAT == "24":
        return f"{moment:%H:%M}"
    hour = moment.hour % 12 or 12
    return f"{hour} {'AM' if moment.hour < 12 else 'PM'}"


def staff_datetime(instant: datetime, zone) -> str:
    """An instant as the location's clock shows it, the zone named: the record's times,
    e.g. 'Wed 02 Dec 2026 2:30 PM EST (America/New_York)'."""
    local = timezone.localtime(instant, zone)
    return f"{local:%a %d %b %Y} {staff_time(local, zone_name=True)} ({zone.key})"


def clocks_change_on(day: date, zone) -> bool:
    """A 23- or 25-hour day in `zone`: a bare "1:30 AM" can then be two instants, or none, so
    times that day carry the zone's abbreviation."""
    midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return next_midnight - midnight != timedelta(days=1)


def staff_slot_time(instant: datetime, zone) -> str:
    """A free time in a list of them: '2:30 PM', named ('1:30 AM EST') on a day the clocks change."""
    local = timezone.localtime(instant, zone)
    return staff_time(local, zone_name=clocks_change_on(local.date(), zone))


def staff_date_time(local: datetime, *, zone_name: bool = False, year: bool = True) -> str:
    """A wall-clock date and time as staff pages write it: 'Wed 02 Dec 2026 2:30 PM', with the
    zone's abbreviation when asked ('… 2:30 PM EST')."""
    day = f"{local:%a %d %b %Y}" if year else f"{local:%a %d %b}"
    return f"{day} {staff_time(local, zone_name=zone_name)}"


# How patients read a date and time: "Thursday 4 December 2026, 2:30 PM" (long), without the
# year (day), or "Thu 4 Dec, 2:30 PM" (short, for subjects).
PATIENT_DATE_FORMATS = {"long": "%A %-d %B %Y", "day": "%A %-d %B", "short": "%a %-d %b"}


def patient_date_time(local: datetime, style: str = "long") -> str:
    return f"{local.strftime(PATIENT_DATE_FORMATS[style])}, {staff_time(local)}"


def zone_in_words(zone) -> str:
    """A zone as people say its clock: "New York time" for America/New_York; the city, not
    "Eastern time", which is unambiguous and right through summer time."""
    if "/" not in zone.key:
        return zone.key  # UTC, EST5EDT, ...: already what people call them
    return f"{zone.key.rsplit('/', 1)[1].replace('_', ' ')} time"

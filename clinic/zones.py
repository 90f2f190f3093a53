"""Whose clock a patient reads: a caller's zone from their browser, their number, or their
choice, and a zone in the words people use ("Calgary time"). Used by the call-back form
(discovery) and the wizard's phone calls (booking)."""

import functools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from django.utils import timezone
from phonenumbers.timezone import time_zones_for_number

from clinic.clock import zone_in_words
from clinic.models import Location

# The zones offered when neither the browser nor the number tells us the caller's (an 800
# number, a US number spanning zones): labelled as people know them.
CALLER_ZONES = [
    ("America/St_Johns", "Newfoundland (St. John's)"),
    ("America/Halifax", "Atlantic (Halifax)"),
    ("America/New_York", "Eastern (New York, Toronto, Columbus)"),
    ("America/Chicago", "Central (Chicago, Winnipeg)"),
    ("America/Regina", "Saskatchewan (Regina)"),
    ("America/Edmonton", "Mountain (Calgary, Edmonton, Denver)"),
    ("America/Phoenix", "Arizona (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Vancouver, Los Angeles)"),
    ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"),
    ("Europe/London", "UK and Ireland"),
    ("Europe/Paris", "Central Europe (Paris, Berlin)"),
]


@functools.cache
def _zone_names() -> frozenset[str]:
    # Read once (it walks tzdata's files); "localtime", "Factory" and the like name no place.
    return frozenset(key for key in available_timezones() if "/" in key or key == "UTC")


def known_zone(key: str) -> ZoneInfo | None:
    """The zone of an IANA name a browser or a caller gave; None for anything else."""
    if not key or len(key) > 64 or key not in _zone_names():
        return None
    return ZoneInfo(key)


def zone_of_number(e164: str) -> ZoneInfo | None:
    """The caller's zone from their number (phonenumbers' data, e.g. (403) → Calgary's), when
    it names one clock: several names that keep the same time all year count as one."""
    try:
        named = [known_zone(key) for key in time_zones_for_number(phonenumbers.parse(e164))]
    except phonenumbers.NumberParseException:
        return None
    zones = [zone for zone in named if zone is not None]
    if not zones:
        return None
    year = timezone.now().year
    probes = [datetime(year, month, 15, 12, tzinfo=UTC) for month in (1, 7)]
    offsets = {tuple(probe.astimezone(zone).utcoffset() for probe in probes) for zone in zones}
    if len(offsets) != 1:
        return None
    # The name people know: one we list (London, not Guernsey), else the first.
    listed = {key for key, _label in CALLER_ZONES}
    return next((zone for zone in zones if zone.key in listed), zones[0])


def zone_words(zone: ZoneInfo) -> str:
    """A caller's clock in words: a clinic's town when one of them keeps that clock ("Calgary
    time" for America/Edmonton), else the zone's city."""
    for location in Location.objects.active().filter(timezone=zone.key).exclude(town="").only("town", "timezone"):
        return location.clock_words
    return zone_in_words(zone)


def patient_clock_words(caller_zone: ZoneInfo | None, location: Location) -> str:
    """The clock a patient is told times on, in words: a caller's own zone when they gave one
    (a phone call), else the location's ("Calgary time")."""
    return zone_words(caller_zone) if caller_zone is not None else location.clock_words


def caller_zone_from(*, chosen: str, browser: str, phone_e164: str | None) -> ZoneInfo | None:
    """A caller's clock: the zone they chose, else their browser's, else their number's;
    None when none of those tells (then they are asked)."""
    return known_zone(chosen) or known_zone(browser) or (zone_of_number(phone_e164) if phone_e164 else None)

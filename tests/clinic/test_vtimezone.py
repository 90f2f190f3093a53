"""The patient's calendar file read by three independent parsers (icalendar, vobject, and
ical.js through node) gives the same UTC instant as zoneinfo, in winter and summer, on both
sides of each clock change, and in the hour a fall-back repeats, in four zones of both
hemispheres. Before issue 14, ical.js and vobject read 10:00 in July in New York as 15:00 UTC."""

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from booking.calendar import patient_ics
from clinic.vtimezone import vtimezone
from tests.factories import AppointmentFactory, LocationFactory

ICAL_JS = Path(__file__).parent / "ical_js" / "read_events.mjs"

# Local wall-clock times: January, July, the day before and after each 2027 clock change, and
# the repeated hour of the fall-back night (the first 01:30, as RFC 5545 reads it).
TIMES = {
    "America/New_York": ["2027-01-14 10:00", "2027-07-14 10:00", "2027-03-13 10:00", "2027-03-15 10:00",
                         "2027-11-06 10:00", "2027-11-08 10:00", "2027-11-07 01:30"],
    "America/Edmonton": ["2027-01-14 10:00", "2027-07-14 10:00", "2027-03-13 10:00", "2027-03-15 10:00",
                         "2027-11-06 10:00", "2027-11-08 10:00", "2027-11-07 01:30"],
    "Europe/London": ["2027-01-14 10:00", "2027-07-14 10:00", "2027-03-27 10:00", "2027-03-29 10:00",
                      "2027-10-30 10:00", "2027-11-01 10:00", "2027-10-31 01:30"],
    "Australia/Sydney": ["2027-01-14 10:00", "2027-07-14 10:00", "2027-04-03 10:00", "2027-04-05 10:00",
                         "2027-10-02 10:00", "2027-10-04 10:00", "2027-04-04 02:30"],
}  # fmt: skip


def appointments_in(zone_name: str):
    zone = ZoneInfo(zone_name)
    location = LocationFactory(timezone=zone_name)
    made = []
    for text in TIMES[zone_name]:
        start = datetime.fromisoformat(text).replace(tzinfo=zone).astimezone(UTC)
        made.append(AppointmentFactory(location=location, start=start, end=start + timedelta(minutes=60)))
    return made


def read_with_icalendar(data: bytes) -> dict[str, datetime]:
    events = Calendar.from_ical(data).walk("VEVENT")
    return {str(event["uid"]): event.decoded("dtstart").astimezone(UTC) for event in events}


def read_with_vobject(data: bytes) -> dict[str, datetime]:
    calendar = vobject.readOne(data.decode())
    return {event.uid.value: event.dtstart.value.astimezone(UTC) for event in calendar.vevent_list}


def read_with_ical_js(data: bytes) -> dict[str, datetime]:
    node = shutil.which("node")
    assert node, "node (Node.js) is needed to read calendar files with ical.js: apt-get install nodejs"
    result = subprocess.run([node, str(ICAL_JS)], input=data, capture_output=True, check=True, timeout=60)
    return {
        uid: datetime.fromisoformat(value.replace("Z", "+00:00")) for uid, value in json.loads(result.stdout).items()
    }


PARSERS = {"icalendar": read_with_icalendar, "vobject": read_with_vobject, "ical.js": read_with_ical_js}


@pytest.mark.django_db
@pytest.mark.parametrize("zone_name", list(TIMES))
def test_three_parsers_read_every_time_as_zoneinfo_does(zone_name):
    appointments = appointments_in(zone_name)
    data = patient_ics(appointments)
    expected = {f"appointment-{appointment.reference}@testserver": appointment.start for appointment in appointments}
    for parser, read in PARSERS.items():
        read_back = read(data)
        wrong = {
            TIMES[zone_name][list(expected).index(uid)]: (read_back.get(uid), instant)
            for uid, instant in expected.items()
            if read_back.get(uid) != instant
        }
        assert not wrong, f"{parser} in {zone_name}: (read, expected) {wrong}"


def test_the_zone_block_lists_each_change_once_with_no_rdates():
    block = vtimezone(ZoneInfo("America/New_York"), first_year=2027, last_year=2027).to_ical().decode()
    assert "RDATE" not in block
    assert block.count("BEGIN:DAYLIGHT") == 1 and block.count("BEGIN:STANDARD") == 2  # the initial one, November's
    assert "DTSTART:20270314T020000" in block and "DTSTART:20271107T020000" in block


def test_a_zone_without_clock_changes_has_one_observance():
    block = vtimezone(ZoneInfo("America/Phoenix"), first_year=2027, last_year=2028).to_ical().decode()
    assert block.count("BEGIN:STANDARD") == 1 and "DAYLIGHT" not in block
    assert "TZOFFSETFROM:-0700" in block and "TZOFFSETTO:-0700" in block

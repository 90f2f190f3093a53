"""The demo's "By phone" line: 15-minute discovery calls around clinic hours, and nothing else."""

from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.utils import timezone

from booking.availability import available_slots, bookable_practitioners
from booking.models import WorkingHours
from booking.selectors import locations_offering
from clinic.models import Location, Service

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo")


def test_the_phone_line_offers_15_minute_calls_outside_clinic_hours(demo):
    by_phone = Location.objects.get(slug="by-phone")
    assert by_phone.is_by_phone and by_phone.timezone == "America/New_York"
    assert str(by_phone.phone) == "+16145550142"
    call = Service.objects.get(slug="free-discovery-call")
    assert by_phone in locations_offering(call)
    today = timezone.localdate(timezone.now(), by_phone.zone)
    slots = available_slots(
        service=call, location=by_phone, practitioner=None, first_day=today + timedelta(days=1),
        last_day=today + timedelta(days=14),
    )  # fmt: skip
    assert slots
    local_times = {timezone.localtime(slot.start, by_phone.zone).strftime("%H:%M") for slot in slots}
    assert local_times == {"08:30", "08:45", "17:00", "17:15"}
    assert all(timezone.localtime(slot.start, by_phone.zone).weekday() < 5 for slot in slots)


def test_phone_hours_never_overlap_anyones_clinic_hours(demo):
    for practitioner_id in WorkingHours.objects.values_list("practitioner_id", flat=True).distinct():
        for weekday in range(7):
            ranges = sorted(
                (
                    datetime.combine(datetime(2030, 1, 14).date(), hours.start_time, tzinfo=hours.location.zone),
                    datetime.combine(datetime(2030, 1, 14).date(), hours.end_time, tzinfo=hours.location.zone),
                )
                for hours in WorkingHours.objects.filter(
                    practitioner_id=practitioner_id, weekday=weekday
                ).select_related("location")
            )
            for (_, end), (next_start, _) in pairwise(ranges):
                assert end <= next_start, (practitioner_id, weekday)


def test_treatments_are_not_offered_by_phone(demo):
    by_phone = Location.objects.get(slug="by-phone")
    for service in Service.objects.filter(kind=Service.Kind.TREATMENT):
        assert by_phone not in locations_offering(service), service
        assert not bookable_practitioners(service=service, location=by_phone).exists(), service


def test_the_wizard_link_from_the_call_back_page_reaches_phone_times(client, demo):
    page = client.get("/discovery-call/").content.decode()
    assert 'href="/book/?service=free-discovery-call&amp;location=by-phone"' in page
    times = client.get("/book/?service=free-discovery-call&location=by-phone&practitioner=any")
    assert times.status_code == 200
    page = times.content.decode()
    assert ">8:30 AM</a>" in page and ">5:15 PM</a>" in page
    assert ">9:00 AM</a>" not in page  # clinic hours are not phone hours


def test_the_phone_line_is_not_listed_among_the_clinics(client, demo):
    footer = client.get("/").content.decode().split("<footer", 1)[1]
    assert "Westerville" in footer and "Calgary" in footer
    assert "By phone" not in footer
    assert "We call you on the number you give us" not in footer

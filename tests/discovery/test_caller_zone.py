"""A caller's "afternoon" is their afternoon: the call-back window is on the caller's clock,
named in words, from their browser, else their number, else their choice."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from discovery.models import DiscoveryCallRequest
from discovery.selectors import caller_window_for_staff
from tests.discovery.test_pages import URL, form_data
from tests.helpers import worker_round

pytestmark = pytest.mark.django_db
# Tuesday 8 December 2026, 9:00 in Calgary: an afternoon call is still due today there.
CALGARY_MORNING = datetime(2026, 12, 8, 9, tzinfo=ZoneInfo("America/Edmonton"))


@pytest.fixture
def clinics(catalogue, calgary, westerville):
    calgary.town, westerville.town = "Calgary", "Westerville"
    calgary.save()
    westerville.save()
    return catalogue


def ask(client, **changes):
    return client.post(URL, form_data(**changes), follow=True).content.decode()


@time_machine.travel(CALGARY_MORNING, tick=False)
def test_a_calgary_number_is_called_in_the_calgary_afternoon_and_told_so(client, clinics):
    page = ask(client, phone="(403) 555-0199", best_time="afternoon")
    assert "today, Tuesday 8 December,\n      in the afternoon, between 12 and 5 pm (Calgary time)" in page
    assert "New York" not in page
    assert DiscoveryCallRequest.objects.get().caller_timezone == "America/Edmonton"
    worker_round()
    acknowledgement = next(message for message in mail.outbox if message.to == ["grace0@example.com"])
    assert "in the afternoon, between 12 and 5 pm (Calgary time)" in acknowledgement.body


@time_machine.travel(CALGARY_MORNING, tick=False)
def test_the_browsers_zone_wins_over_the_numbers(client, clinics):
    page = ask(client, phone="(614) 555-0101", best_time="morning", browser_timezone="America/Vancouver")
    assert "(Vancouver time)" in page
    assert DiscoveryCallRequest.objects.get().caller_timezone == "America/Vancouver"


def test_a_number_that_spans_zones_without_a_browser_zone_is_asked_with_everything_kept(client, clinics):
    response = client.post(URL, form_data(phone="(800) 555-0199"))
    page = response.content.decode()
    assert response.status_code == 200 and not DiscoveryCallRequest.objects.exists()
    assert "Which time zone are you in?" in page and 'name="timezone"' in page
    assert 'value="Grace Hopper"' in page and "Burning pain down the back of my left leg" in page
    page = ask(client, phone="(800) 555-0199", timezone="America/Chicago")
    assert "(Chicago time)" in page
    assert DiscoveryCallRequest.objects.get().caller_timezone == "America/Chicago"


def test_a_made_up_zone_is_refused_with_a_field_error(client, clinics):
    page = client.post(URL, form_data(timezone="Mars/Olympus_Mons")).content.decode()
    assert "Please choose one of the time zones listed." in page
    assert not DiscoveryCallRequest.objects.exists()


def test_the_api_asks_for_the_zone_only_when_the_number_does_not_tell(clinics):
    api = Client()
    body = {
        "name": "Grace Hopper", "phone": "+18005550199", "email": "grace@example.com",
        "best_time": "morning", "consent_to_contact": True,
    }  # fmt: skip
    refused = api.post("/api/v1/discovery-calls", body, content_type="application/json")
    assert refused.status_code == 400 and "timezone" in refused.json()["errors"]
    answered = api.post(
        "/api/v1/discovery-calls", {**body, "timezone": "Pacific/Honolulu"}, content_type="application/json"
    )
    assert answered.status_code == 201
    assert DiscoveryCallRequest.objects.get().caller_timezone == "Pacific/Honolulu"


@time_machine.travel(CALGARY_MORNING, tick=False)
def test_reception_sees_the_callers_window_on_both_clocks(client, clinics, by_phone, receptionist):
    ask(client, phone="(403) 555-0199", best_time="afternoon")
    call_request = DiscoveryCallRequest.objects.get()
    assert caller_window_for_staff(call_request) == "12:00 PM–5:00 PM Calgary time (2:00 PM–7:00 PM Westerville time)"
    client.force_login(receptionist)
    record = client.get(reverse("admin:discovery_discoverycallrequest_change", args=[call_request.pk])).content
    assert "12:00 PM–5:00 PM Calgary time (2:00 PM–7:00 PM Westerville time)" in record.decode()


def test_a_uk_number_is_on_london_time_and_names_that_are_no_place_are_refused():
    from clinic.zones import known_zone, zone_of_number

    assert zone_of_number("+447911123456").key == "Europe/London"  # not Guernsey, which keeps the same clock
    assert zone_of_number("+18005550199") is None  # toll-free: every North American zone
    assert known_zone("localtime") is None and known_zone("Factory") is None
    assert known_zone("UTC").key == "UTC"


@time_machine.travel(CALGARY_MORNING, tick=False)
def test_the_clinic_notice_gives_the_window_on_both_clocks(client, clinics, by_phone):
    ask(client, phone="(403) 555-0199", best_time="afternoon")
    worker_round()
    notice = next(message for message in mail.outbox if message.subject.startswith("New call-back request"))
    assert "afternoon (12 – 5 pm), 12:00 PM–5:00 PM Calgary time (2:00 PM–7:00 PM Westerville time)" in notice.body


@time_machine.travel(CALGARY_MORNING, tick=False)
def test_a_window_that_is_night_at_the_clinic_is_refused_with_the_answers_kept(client, clinics, by_phone):
    refused = client.post(URL, form_data(phone="+33 6 12 34 56 78", best_time="morning")).content.decode()
    assert "night-time for us" in refused and not DiscoveryCallRequest.objects.exists()
    assert 'value="Grace Hopper"' in refused
    page = ask(client, phone="+33 6 12 34 56 78", best_time="evening")  # 5-7 pm Paris: 11 am-1 pm Westerville
    assert "(Paris time)" in page

"""Production's Redis cache (clinic/settings.py, REDIS_CACHE) when Redis is down: the site
keeps answering and booking, the rate limits let requests through, failures are logged once
a minute, and /healthz stays 200 but says so. Redis "down" here is a port nothing listens on."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from booking import throttling
from booking.models import Appointment
from clinic.logging import CACHE_FAILURES_LOGGER, OncePerMinute
from discovery.models import DiscoveryCallRequest
from discovery.throttling import RATE as CALL_BACK_RATE
from tests.api.test_booking import API
from tests.api.test_discovery_calls import payload
from tests.api.test_discovery_calls import post as post_call_back
from tests.booking.test_wizard import DETAILS

pytestmark = pytest.mark.django_db

REDIS_DOWN = override_settings(CACHES={"default": settings.REDIS_CACHE | {"LOCATION": "redis://127.0.0.1:1/0"}})


def test_settings_log_cache_failures_and_unknown_clients_once_a_minute():
    for name in (CACHE_FAILURES_LOGGER, "clinic.throttling"):
        assert settings.LOGGING["loggers"][name] == {"filters": ["once_per_minute"]}
    assert settings.LOGGING["filters"]["once_per_minute"] == {"()": OncePerMinute}


@pytest.fixture
def clock(monkeypatch):
    """django-redis's logger with a fresh OncePerMinute on a clock the test moves (other tests
    configure logging again, and dictConfig adds filters without removing old ones)."""
    now = [1000.0]
    logger = logging.getLogger(CACHE_FAILURES_LOGGER)
    monkeypatch.setattr(logger, "filters", [OncePerMinute(clock=lambda: now[0])])
    return now


@REDIS_DOWN
def test_healthz_stays_ok_and_says_the_cache_is_unavailable(client):
    assert cache.get("anything") is None  # no exception: a miss

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok; cache unavailable"


@REDIS_DOWN
def test_failed_cache_commands_are_logged_once_a_minute(clock, caplog):
    for _ in range(10):
        assert cache.get("anything") is None
    clock[0] += 61
    cache.get("anything")

    records = [record for record in caplog.records if record.name == CACHE_FAILURES_LOGGER]
    assert [record.levelno for record in records] == [logging.ERROR, logging.ERROR]
    assert records[0].getMessage() == "Exception ignored" and records[0].exc_info
    assert records[1].getMessage() == "Exception ignored (9 more like it held back since the last one logged)"


@REDIS_DOWN
def test_availability_is_computed_without_the_cache(client, catalogue, open_all_week, dry_needling, booking_day):
    url = f"{API}/availability?service={dry_needling.slug}&location=westerville&start={booking_day}&end={booking_day}"

    first, second = client.get(url), client.get(url)

    assert first.status_code == second.status_code == 200
    assert first.json()["slots"] and first.json() == second.json()


@REDIS_DOWN
def test_bookings_and_call_backs_are_taken_with_the_limits_open(
    client, catalogue, open_all_week, dry_needling, westerville, ten_am, monkeypatch
):
    monkeypatch.setattr(throttling, "RATE", "1/h")
    form = {"service": dry_needling.slug, "location": westerville.slug, "practitioner": "any"}
    for n, hours in enumerate((0, 2)):
        start = (ten_am + timedelta(hours=hours)).isoformat()
        details = {**DETAILS, "email": f"ada{n}@example.com", "last_name": f"Lovelace{n}"}
        assert client.post(reverse("booking:details"), {**form, "start": start, **details}).status_code == 302
    assert Appointment.objects.count() == 2

    for n in range(int(CALL_BACK_RATE.split("/")[0]) + 2):
        assert post_call_back(client, payload(n)).status_code == 201
    assert DiscoveryCallRequest.objects.count() == int(CALL_BACK_RATE.split("/")[0]) + 2


def test_with_the_cache_up_healthz_says_ok(client):
    assert client.get("/healthz").content == b"ok"

"""Guessing private links is limited per client: twenty failed token lookups in ten minutes,
and every token address answers 429 to that client for the rest of the period, even for a real
token; another client, and a holder who mistypes once, never notice."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.token_lookups import MISSES_ALLOWED, TOKEN_VIEWS
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

GUESS = "x" * 43
ATTACKER, HOLDER = "198.51.100.7", "203.0.113.20"


def test_random_tokens_are_refused_after_twenty_misses_and_then_even_a_real_one(client, physio):
    appointment = AppointmentFactory(practitioner=physio)
    statuses = [
        client.get(f"/appointments/{GUESS[:-2]}{n:02d}/", REMOTE_ADDR=ATTACKER).status_code
        for n in range(MISSES_ALLOWED + 5)
    ]
    assert statuses == [404] * MISSES_ALLOWED + [429] * 5
    refused = client.get(reverse("booking:manage", args=[appointment.manage_token]), REMOTE_ADDR=ATTACKER)
    assert refused.status_code == 429 and refused["Retry-After"] == "600"
    assert "Too many links from this connection were not found" in refused.content.decode()
    # The API and the waiting list count in the same group.
    api = client.get(f"/api/v1/appointments/{appointment.manage_token}", REMOTE_ADDR=ATTACKER)
    assert api.status_code == 429 and api.json()["code"] == "rate_limited"
    assert client.get(f"/waitlist/{GUESS}/", REMOTE_ADDR=ATTACKER).status_code == 429
    # Someone else is not affected, and a holder's typo costs them nothing they would notice.
    assert client.get(f"/appointments/{GUESS}/", REMOTE_ADDR=HOLDER).status_code == 404
    assert client.get(reverse("booking:manage", args=[appointment.manage_token]), REMOTE_ADDR=HOLDER).status_code == 200


def test_found_links_cost_nothing(client, physio):
    appointment = AppointmentFactory(practitioner=physio)
    url = reverse("booking:manage", args=[appointment.manage_token])
    for _ in range(MISSES_ALLOWED * 2):
        assert client.get(url, REMOTE_ADDR=HOLDER).status_code == 200


def _token_routes(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _token_routes(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name and re.search(r"<(str:)?\w*token>", str(pattern.pattern)):
            yield f"{namespace}{pattern.name}"


def test_every_address_that_opens_with_a_token_is_counted():
    # The thank-you page's token is a signed note, not a lookup: a guess is a redirect to the form.
    assert set(_token_routes()) - {"discovery:thanks"} == TOKEN_VIEWS

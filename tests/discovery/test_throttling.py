"""The per-address limit (clinic/throttling.py) when the client's address is missing or odd:
let through with a warning, never a 500. Found by the API fuzz (tests/booking/test_api_schema_fuzz.py), whose
in-process WSGI client sends no REMOTE_ADDR."""

import logging

import pytest
from django.test import RequestFactory, override_settings

from clinic.logging import OncePerMinute
from clinic.throttling import UNKNOWN_CLIENT, client_network
from tests.api.test_discovery_calls import payload, post

pytestmark = pytest.mark.django_db

BEHIND_A_BALANCER = override_settings(RATELIMIT_IP_META_KEY="HTTP_X_REAL_IP")


def network(**meta) -> str:
    request = RequestFactory().post("/discovery-call/")
    request.META.pop("REMOTE_ADDR")
    request.META.update(meta)
    return client_network("discovery-call-requests", request)


def test_the_key_is_the_address_or_its_ipv6_network():
    assert network(REMOTE_ADDR="203.0.113.7") == "203.0.113.7/32"
    assert network(REMOTE_ADDR="2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    # An IPv4 client through a dual-stack listener is still its own client, not all of ::/64.
    assert network(REMOTE_ADDR="::ffff:203.0.113.7") == "203.0.113.7/32"


def test_a_missing_or_unreadable_address_is_unknown():
    assert network() == UNKNOWN_CLIENT
    assert network(REMOTE_ADDR="") == UNKNOWN_CLIENT
    assert network(REMOTE_ADDR="not an address") == UNKNOWN_CLIENT
    assert network(REMOTE_ADDR="203.0.113.7\x00") == UNKNOWN_CLIENT


@BEHIND_A_BALANCER
def test_behind_a_balancer_the_header_counts_by_its_last_address():
    assert network(HTTP_X_REAL_IP="198.51.100.4", REMOTE_ADDR="10.0.0.1") == "198.51.100.4/32"
    assert network(HTTP_X_REAL_IP="203.0.113.9, 198.51.100.4") == "198.51.100.4/32"
    assert network(REMOTE_ADDR="10.0.0.1") == UNKNOWN_CLIENT


def test_a_request_without_remote_addr_is_stored_not_a_500(client):
    assert post(client, payload(0), REMOTE_ADDR="").status_code == 201


@BEHIND_A_BALANCER
def test_behind_a_balancer_requests_without_the_header_are_let_through_with_a_warning(
    client, westerville, caplog, monkeypatch
):
    """Counting every patient as one client would refuse them all after a handful: a missing
    header is a misconfiguration, to be seen in the log (once a minute), not a site-wide lockout."""
    monkeypatch.setattr(logging.getLogger("clinic.throttling"), "filters", [OncePerMinute()])
    for n in range(7):
        assert post(client, payload(n), HTTP_X_REAL_IP="garbage" if n % 2 else "").status_code == 201
    warnings = [record.getMessage() for record in caplog.records if record.name == "clinic.throttling"]
    assert warnings == [
        "Rate limit discovery-call-requests not applied: no client address in HTTP_X_REAL_IP. Behind a load "
        "balancer, set RATELIMIT_IP_META_KEY to the header it sets (docs/DEPLOY.md)."
    ]

    for n in range(7, 12):
        assert post(client, payload(n), HTTP_X_REAL_IP="198.51.100.4").status_code == 201
    assert post(client, payload(12), HTTP_X_REAL_IP="198.51.100.4").status_code == 429

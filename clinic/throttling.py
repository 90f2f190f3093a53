"""Per-client limits on public POSTs, counted by django-ratelimit in the shared cache (Redis in
production, local memory in `make run` and the tests). The client's address is only a hashed
cache key for the limit's period, never stored with what they sent. Callers count only
submissions that would be stored, so a person correcting typos is not locked out by their own
mistakes. Also the address the staff logins' lockout counts by (clinic/staff_auth.py).
"""

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

UNKNOWN_CLIENT = "unknown"
# What every refusal starts with, on the pages and in the API; then whom to call.
REFUSED = (
    "We have had many requests from this connection in the last hour, so we cannot take another one online right now."
)

logger = logging.getLogger(__name__)


def client_network(group: str, request: HttpRequest) -> str:
    """The client's address as a rate-limit key (a django-ratelimit key function): from
    RATELIMIT_IP_META_KEY, or REMOTE_ADDR; IPv6 by its /64, as
    django-ratelimit's own "ip" key counts it.

    django-ratelimit's "ip" key fails the request with a 500 when that value is missing (a
    balancer that did not set its header, a WSGI server without REMOTE_ADDR) or is not one
    address. Here a list ("client, proxy", as X-Forwarded-For carries) counts by its last entry,
    the one the nearest proxy wrote, and anything else unreadable is UNKNOWN_CLIENT.
    """
    raw = request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR") or ""
    try:
        address = ipaddress.ip_address(raw.rsplit(",", 1)[-1].strip())
    except ValueError:
        return UNKNOWN_CLIENT
    if address.version == 6 and address.ipv4_mapped:  # ::ffff:a.b.c.d, from a dual-stack listener
        address = address.ipv4_mapped
    prefix = 64 if address.version == 6 else 32
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def over_the_limit(request: HttpRequest, *, group: str, rate: str) -> bool:
    """Count this submission in `group`; True when this client has sent more than `rate`.

    A client whose address is unknown is let through, with a warning: behind a load balancer
    that is a missing or misnamed RATELIMIT_IP_META_KEY header, and counting every patient as
    one client would refuse them all after a handful of bookings.
    """
    network = client_network(group, request)
    if network == UNKNOWN_CLIENT:
        logger.warning(
            "Rate limit %s not applied: no client address in %s. Behind a load balancer, set "
            "RATELIMIT_IP_META_KEY to the header it sets (docs/DEPLOY.md).",
            group,
            settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR",
        )
        return False
    return is_ratelimited(
        request, group=group, key=lambda _group, _request: network, rate=rate, method="POST", increment=True
    )

"""The per-IP limit on call-back requests, shared by the public page and the JSON API.

Counted by django-ratelimit in the shared cache (Redis in production, local memory in
`make run` and the tests); the address is only a hashed cache key for an hour, never
stored with the request. Only submissions that would be stored count (valid, or caught
by the honeypot), so a person correcting typos is not locked out by their own mistakes.
"""

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

RATE = "5/h"
GROUP = "discovery-call-requests"


def over_the_limit(request: HttpRequest) -> bool:
    """Count this submission; True when this address has sent more than RATE."""
    return is_ratelimited(request, group=GROUP, key="ip", rate=RATE, method="POST", increment=True)

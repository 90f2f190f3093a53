"""The per-client limit on call-back requests, shared by the public page and the JSON API
(the mechanism: clinic/throttling.py)."""

from django.http import HttpRequest

from clinic import throttling

RATE = "5/h"
GROUP = "discovery-call-requests"


def over_the_limit(request: HttpRequest) -> bool:
    """Count this submission; True when this client has sent more than RATE."""
    return throttling.over_the_limit(request, group=GROUP, rate=RATE)

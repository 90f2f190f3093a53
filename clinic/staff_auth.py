"""Brute-force protection of the staff logins (django-axes): the client's address and the
lockout page. The rules themselves are settings (AXES_*, clinic/settings.py)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinic.throttling import UNKNOWN_CLIENT, client_network


def client_ip(request: HttpRequest) -> str | None:
    """The address axes counts failures by: the same one the rate limits use
    (RATELIMIT_IP_META_KEY behind a balancer, else REMOTE_ADDR; IPv6 by its /64)."""
    network = client_network("axes", request)
    # axes stores the address in an IP column: an unreadable one is stored as unknown (NULL).
    return None if network == UNKNOWN_CLIENT else network.split("/")[0]


# axes's username column (AccessAttempt, AccessFailureLog).
USERNAME_STORED_MAX = 255


def username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The username axes counts by, as typed, cut to what its tables hold: a longer one (no real
    account has one) would fail the insert and the login page with a 500."""
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(typed).replace("\x00", "")[:USERNAME_STORED_MAX]


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """429 on the site's own page. Shown for any username, existing or not, so it tells nothing
    about which accounts exist."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "clinic/login_locked_out.html", {"cooloff_minutes": minutes}, status=429)

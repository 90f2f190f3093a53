"""A limit on guessing private links: failed token lookups, per client.

The manage, waiting-list, offer and feed addresses, and the API's appointment addresses, open
with a 256-bit token. Guessing one is hopeless, but nothing stopped a client trying (640 random
tokens in 23 s, all 404, none refused). Now each 404 from such an address counts against the
client (clinic.throttling's key and cache); past MISSES_ALLOWED in the period, every token
address answers 429 to that client until the period has passed, even for a token that exists.
A holder of a real link misses once or twice in a typo, never twenty times: they never notice.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django_ratelimit.core import get_usage

from clinic.throttling import UNKNOWN_CLIENT, client_network

MISSES_ALLOWED = 20
RATE = f"{MISSES_ALLOWED}/10m"
GROUP = "token-misses"
MESSAGE = (
    "Too many links from this connection were not found, so we are not opening any for the next few minutes. "
    "Please check the link in your email, or try again in 10 minutes."
)

# Every address that opens with a token (a test walks the URL table for any other).
TOKEN_VIEWS = frozenset(
    {
        "booking:manage",
        "booking:calendar",
        "booking:cancel",
        "booking:reschedule",
        "booking:follow_ups",
        "booking:book_follow_up_session",
        "waitlist:entry",
        "waitlist:leave",
        "waitlist:one_click_leave",
        "waitlist:offer",
        "schedule:feed",
        "api:appointment",
        "api:appointment_cancel",
        "api:appointment_reschedule",
    }
)


def _missed_too_often(request: HttpRequest, *, count_one: bool) -> bool:
    """True once this client has missed MISSES_ALLOWED times in the period (after counting
    one more miss, with count_one)."""
    network = client_network(GROUP, request)
    if network == UNKNOWN_CLIENT:
        return False  # as every limit here: a missing client header must not refuse everyone
    usage = get_usage(request, group=GROUP, key=lambda _group, _request: network, rate=RATE, increment=count_one)
    return usage is not None and usage["count"] >= usage["limit"]


class _TokenLookupRequest(HttpRequest):
    _opens_with_a_token: bool  # set by process_view, read after the view


class TokenLookupLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "_opens_with_a_token", False) and response.status_code == 404:
            _missed_too_often(request, count_one=True)
        return response

    def process_view(self, request: _TokenLookupRequest, view, args, kwargs):
        match = request.resolver_match
        if match is None or match.view_name not in TOKEN_VIEWS:
            return None
        if _missed_too_often(request, count_one=False):
            return _refusal(request)
        request._opens_with_a_token = True
        return None


def _refusal(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"code": "rate_limited", "message": MESSAGE}, status=429)
    else:
        from clinic.selectors import clinic_premises

        page = render_to_string("429_links.html", {"message": MESSAGE, "locations": clinic_premises()}, request)
        response = HttpResponse(page, status=429)
    response["Retry-After"] = "600"
    response["Cache-Control"] = "no-store"
    return response

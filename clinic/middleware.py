"""Response headers and session limits that Django's own middleware does not cover."""

from collections.abc import Callable
from datetime import datetime, timedelta

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

# No page of the site uses any of these, so no script on it (ours, or one injected into it)
# may ask for them. Chromium logs every feature name it does not know as a console error, so the
# list holds only names it knows: FLoC's "interest-cohort" is gone, "browsing-topics" replaced it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

# An API answer is data, never a document: nothing may load in it or frame it. One fixed header,
# as JSON APIs send (GitHub's: default-src 'none'), instead of the site's policy that
# django-csp builds afresh for every response (a tenth of a cached availability answer's cost).
API_PREFIX = "/api/v1/"
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware for the site's pages; the API's fixed policy on its answers (but
    Django's own debug pages, which django-csp leaves without a policy under DEBUG)."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        debug_page = settings.DEBUG and response.status_code in (404, 500)
        if request.path_info.startswith(API_PREFIX) and not debug_page:
            response.headers.setdefault("Content-Security-Policy", API_CONTENT_SECURITY_POLICY)
            return response
        return super().process_response(request, response)


LOGGED_IN_AT_KEY = "clinic_logged_in_at"
SEEN_AT_KEY = "clinic_seen_at"
# A session's expiry moves on at most this often: not a database write on every request.
IDLE_REFRESH = timedelta(minutes=1)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def keeps_the_login_idle(view):
    """For a request a page makes by itself (the calendar's poll): it does not count as activity,
    so a screen left open still logs out after STAFF_SESSION_IDLE_MINUTES."""
    view.keeps_the_login_idle = True
    return view


class _SessionLimitRequest(HttpRequest):
    # Set by process_view, read after the view.
    _clinic_was_logged_in: bool
    _clinic_passive: bool


class StaffSessionLimitMiddleware:
    """End a login after STAFF_SESSION_IDLE_MINUTES without a request, and STAFF_SESSION_MAX_HOURS after
    it began however busy, so a desk computer left logged in does not stay logged in for days.

    Idle: the session lives SESSION_COOKIE_AGE (the idle time) from its last save, and a request
    saves it again once a minute has passed since the last one (SESSION_SAVE_EVERY_REQUEST would
    write on every request). The API uses no session, so its calls keep nobody logged in.
    Only staff and practitioners log in: patients' sessions carry flash messages and no user.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Set by process_view: not for the API (its answers never read the session) nor a 404.
        was_logged_in = getattr(request, "_clinic_was_logged_in", None)
        if was_logged_in is None or not request.user.is_authenticated:
            return response
        now = timezone.now()
        if not was_logged_in:
            # This request logged in: its session is being saved anyway.
            request.session[LOGGED_IN_AT_KEY] = request.session[SEEN_AT_KEY] = now.isoformat()
        elif now - self._seen_at(request) >= IDLE_REFRESH and not getattr(request, "_clinic_passive", False):
            request.session[SEEN_AT_KEY] = now.isoformat()
        return response

    def process_view(self, request: _SessionLimitRequest, view_func, view_args, view_kwargs) -> None:
        assert request.resolver_match is not None  # Django resolves the URL before any process_view
        if request.resolver_match.namespace == "api":
            return
        was_logged_in = request.user.is_authenticated
        day = timedelta(hours=settings.STAFF_SESSION_MAX_HOURS)
        if was_logged_in and timezone.now() - self._logged_in_at(request) >= day:
            # The view then sees an anonymous visitor and sends them to the login page.
            logout(request)
            was_logged_in = False
        request._clinic_was_logged_in = was_logged_in
        request._clinic_passive = getattr(view_func, "keeps_the_login_idle", False)

    @staticmethod
    def _logged_in_at(request: HttpRequest) -> datetime:
        # A session started by a login that bypassed this middleware (Client.force_login) has no
        # stamp: the user's last login is the nearest thing.
        stamp = request.session.get(LOGGED_IN_AT_KEY)
        assert request.user.is_authenticated  # asked only about a logged-in user
        return datetime.fromisoformat(stamp) if stamp else request.user.last_login or timezone.now()

    @classmethod
    def _seen_at(cls, request: HttpRequest) -> datetime:
        stamp = request.session.get(SEEN_AT_KEY)
        return datetime.fromisoformat(stamp) if stamp else cls._logged_in_at(request)

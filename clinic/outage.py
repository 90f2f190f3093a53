"""When the database cannot be reached: 503 with Retry-After, never a 500.

Any request may find PostgreSQL gone (restarting, failing over, the network): the session, the
login or the view's own query raises OperationalError or InterfaceError, wherever in the
middleware chain. Django turns every such uncaught exception into handler500's answer; this one
answers those two with 503 and `Retry-After`: JSON `{"code": "unavailable", "message"}` on the
API (as its OpenAPI document promises), elsewhere a calm page that needs no database, with the
clinics' phone numbers as this process last read them. The log says so in one line a minute,
without a traceback per request (OutageLogFilter on django.request). Nothing else changes:
Django opens a new connection on the next request, so the site recovers by itself.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

from clinic.logging import OncePerMinute

OUTAGE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
MESSAGE = (
    "Our booking system is briefly unavailable. Please try again in a minute, or call the clinic. "
    "If you were booking, a confirmation email means it went through."
)

# The clinics' numbers as this process last read them for a page footer: the outage page cannot ask the database.
_last_known_phones: list[tuple[str, str, str]] = []


class RememberedPremises:
    """The footer's clinics (a queryset), remembered as (name, national number, E.164) each time a
    page lists them, for the outage page. No query of its own: it runs only when iterated."""

    def __init__(self, premises):
        self._premises = premises

    def __iter__(self):
        locations = list(self._premises)
        _last_known_phones[:] = [
            (location.name, location.phone.as_national, location.phone.as_e164)
            for location in locations
            if location.phone
        ]
        return iter(locations)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 for a database outage, Django's own 500 page for anything else."""
    error = sys.exc_info()[1]
    if not isinstance(error, OUTAGE_ERRORS):
        return django_server_error(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"code": "unavailable", "message": MESSAGE}, status=503)
    else:
        page = render_to_string("503.html", {"message": MESSAGE, "phones": list(_last_known_phones)})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def is_outage(exception: BaseException | None) -> bool:
    return isinstance(exception, OUTAGE_ERRORS)


class OutageLogFilter(OncePerMinute):
    """On django.request: a request failed by a database outage is one warning line a minute
    (per process) saying how many were answered 503 since, without the traceback."""

    HELD_BACK = "; {} more since the last line"

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not is_outage(error):
            return True
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "Database unavailable (%s): answering 503 with Retry-After"
        record.args = (type(error).__name__,)
        record.exc_info, record.exc_text = None, None
        return super().filter(record)

"""The public call-back page: book a phone slot in the wizard, or ask us to call you.

Thin: form → honeypot and rate limit → service → redirect to the thank-you page. The
thank-you address carries only a signed note of the reference, the best time and the
promised day: no name, number or health detail, and no database read to show it.
"""

from datetime import date, timedelta

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from clinic.throttling import REFUSED
from clinic.zones import known_zone, zone_words
from discovery import selectors
from discovery.forms import CallBackPageForm
from discovery.models import DiscoveryCallRequest, new_reference
from discovery.services import submit_call_request
from discovery.throttling import over_the_limit

THANKS_SALT = "discovery.thanks"
THANKS_MAX_AGE = timedelta(days=14)


@require_http_methods(["GET", "POST"])
def request_call(request: HttpRequest) -> HttpResponse:
    form = CallBackPageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if over_the_limit(request):
            return _form_page(request, form, rate_limited=True)
        zone = form.cleaned_data["caller_zone"]
        if form.is_spam:
            # A bot gets the page a person gets, so it learns nothing; nothing is stored or sent.
            reference, best_time, requested_at = new_reference(), form.cleaned_data["best_time"], None
        else:
            # A repeat from this number gets a page like any other: its own reference.
            call_request, _created = submit_call_request(details=form.details())
            reference, best_time, requested_at = call_request.reference, call_request.best_time, call_request.created_at
        call_day = selectors.expected_call_day(
            best_time=best_time, requested_at=requested_at or timezone.now(), zone=zone
        )
        token = signing.dumps(
            {"reference": reference, "best_time": best_time, "day": call_day.isoformat(), "zone": zone.key},
            salt=THANKS_SALT,
            compress=True,
        )
        return redirect("discovery:thanks", token=token)
    return _form_page(request, form)


def _form_page(request: HttpRequest, form: CallBackPageForm, *, rate_limited: bool = False) -> HttpResponse:
    context = {
        "form": form,
        "phone_booking": selectors.phone_booking(),
        "rate_limited": REFUSED if rate_limited else "",  # the page lists every location's number
        "clinic_phones": selectors.clinic_phones() if rate_limited else [],
    }
    return render(request, "discovery/request.html", context, status=429 if rate_limited else 200)


@never_cache
@require_safe
def thanks(request: HttpRequest, token: str) -> HttpResponse:
    try:
        note = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
        best_time = DiscoveryCallRequest.BestTime(note["best_time"])
        call_day = date.fromisoformat(note["day"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        # An old or mangled link: the form page explains everything again.
        return redirect(reverse("discovery:request"))
    # The promise is on the caller's clock, and names it (older links: the clinic's).
    zone = known_zone(note.get("zone", "")) or selectors.call_back_zone()
    return render(
        request,
        "discovery/thanks.html",
        {
            "reference": note["reference"],
            "call_day": call_day,
            "call_window": selectors.CALL_WINDOW_WORDS[best_time],
            "call_zone_name": zone_words(zone),
            "is_today": call_day == timezone.localdate(timezone.now(), zone),
        },
    )

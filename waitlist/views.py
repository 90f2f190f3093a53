"""The waiting list's public pages: join (from the day picker), your place (by its link), an offer.

Thin: look up by the link's token, validate, call waitlist.services, render. Links carry no
name, email or health detail: only the wizard's choices, or an unguessable token.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import selectors as booking_selectors
from booking import throttling as booking_throttling
from booking.forms import PatientDetailsForm, ScreeningForm
from booking.services import BookingError
from booking.views import booking_error_context
from clinic.throttling import over_the_limit
from patients.services import current_consent
from waitlist import selectors
from waitlist.forms import JoinWaitlistForm, WaitlistWishForm
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services import WaitlistError, book_offered_time, change_wish, join_waitlist, leave_waitlist

# Counted per client in the shared cache, like call-back requests (clinic/throttling.py):
# only valid submissions count, so correcting typos never locks a person out.
JOIN_RATE = "10/h"


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    choice = booking_selectors.resolve_choice(
        service=request.GET.get("service", ""), location=request.GET.get("location", ""), practitioner=""
    )
    if choice.service is None or choice.location is None:
        return redirect("booking:start")
    wanted_practitioner = request.GET.get("practitioner") or booking_selectors.ANYONE
    form = JoinWaitlistForm(
        request.POST if request.method == "POST" else None,
        service=choice.service,
        location=choice.location,
        initial={"practitioner": wanted_practitioner},
    )
    rate_limited = False
    if request.method == "POST" and form.is_valid():
        rate_limited = over_the_limit(request, group="waitlist-joins", rate=JOIN_RATE)
        if not rate_limited:
            # The same answer whether this email was already waiting or not: the place's link
            # goes only to the address on file (waitlist.services.join_waitlist).
            join_waitlist(wish=form.wish(), contact=form.contact())
            query = urlencode({"service": choice.service.slug, "location": choice.location.slug})
            return redirect(f"{reverse('waitlist:joined')}?{query}")
    return render(
        request,
        "waitlist/join.html",
        {
            "choice": choice,
            "form": form,
            "refusal": booking_throttling.Refusal(choice.location) if rate_limited else None,
            "back_query": booking_selectors.Choice(
                service=choice.service, location=choice.location, practitioner_chosen=False
            ).query,
        },
        status=429 if rate_limited else 200,
    )


def _entry_or_404(token: str) -> WaitlistEntry:
    entry = selectors.entry_by_token(token)
    if entry is None:
        raise Http404("No waiting list place with that link.")
    return entry


@require_safe
def joined(request: HttpRequest) -> HttpResponse:
    """After joining, new or again: check your email (the place's link is sent there only)."""
    choice = booking_selectors.resolve_choice(
        service=request.GET.get("service", ""), location=request.GET.get("location", ""), practitioner=""
    )
    return render(request, "waitlist/joined.html", {"choice": choice})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def entry(request: HttpRequest, token: str) -> HttpResponse:
    """The place on the list, by its private link: what it waits for, times free now, and the
    form to change its days and times."""
    place = _entry_or_404(token)
    if request.method != "POST":
        return _entry_page(request, place)
    form = WaitlistWishForm.of_entry(place, request.POST)
    if booking_throttling.over_the_limit(request):
        return _entry_page(request, place, form=form, refusal=booking_throttling.Refusal(place.location))
    if not form.is_valid():
        return _entry_page(request, place, form=form, status=400)
    try:
        change_wish(entry=place, wish=form.wish())
    except WaitlistError as error:
        form.add_error(None, error.message)
        return _entry_page(request, place, form=form, status=409)
    messages.success(request, "Your days and times are changed.")
    return redirect("waitlist:entry", token=token)


def _entry_page(
    request: HttpRequest,
    place: WaitlistEntry,
    *,
    form: "WaitlistWishForm | None" = None,
    refusal: booking_throttling.Refusal | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "waitlist/entry.html",
        {
            "entry": place,
            "free_times": selectors.free_times_for(place),
            "choice": _wish_choice(place),
            "form": form or WaitlistWishForm.of_entry(place),
            "refusal": refusal,
        },
        status=429 if refusal else status,
    )


@never_cache
@require_POST
def leave(request: HttpRequest, token: str) -> HttpResponse:
    place = _entry_or_404(token)
    if booking_throttling.over_the_limit(request):
        return _entry_page(request, place, refusal=booking_throttling.Refusal(place.location))
    leave_waitlist(entry=place)
    return redirect("waitlist:entry", token=token)


@never_cache
@csrf_exempt  # the mail provider posts it, with no cookie and no form: the token is the key
@require_http_methods(["GET", "HEAD", "POST"])
def one_click_leave(request: HttpRequest, token: str) -> HttpResponse:
    """The List-Unsubscribe address of the waiting-list emails (RFC 8058): a POST from the mail
    app's "unsubscribe" button leaves the list at once; opened in a browser, the entry's page,
    whose "leave" button asks first. Not rate-limited per client: the posts come from the mail
    provider's few servers for all its users, and are not retried if refused; the 256-bit
    token is the key, and leaving twice changes nothing."""
    place = _entry_or_404(token)
    if request.method != "POST":
        return redirect("waitlist:entry", token=token)
    leave_waitlist(entry=place)
    return HttpResponse("You have left the waiting list.", content_type="text/plain; charset=utf-8")


@never_cache
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, token: str) -> HttpResponse:
    """The offered time: the booking form, prefilled with what the patient gave the list.
    Booking goes through book_appointment; the first of those offered it to confirm has it."""
    offered = selectors.offer_by_token(token)
    if offered is None:
        raise Http404("No offer with that link.")
    if offered.booked_appointment is not None:
        return redirect("booking:manage", token=offered.booked_appointment.manage_token)
    if offered.entry.status == WaitlistEntry.Status.LEFT:
        return _offer_closed(request, offered, status=410)
    if request.method == "GET" and not selectors.offered_time_is_free(offered):
        return _offer_closed(request, offered, status=410)

    entry_ = offered.entry
    if request.method == "POST":
        patient_form, screening_form = PatientDetailsForm(request.POST), ScreeningForm(request.POST)
    else:
        patient_form = PatientDetailsForm(
            initial={
                "first_name": entry_.first_name,
                "last_name": entry_.last_name,
                "email": entry_.email,
                "phone": entry_.phone,
            }
        )
        screening_form = ScreeningForm()
    choice = booking_selectors.Choice(
        service=entry_.service, location=offered.location, practitioner=offered.practitioner, practitioner_chosen=True
    )
    context = {
        "choice": choice,
        "start": offered.start,
        "offer": offered,
        "form_action": request.path,
        "patient_form": patient_form,
        "screening_form": screening_form,
        "consent": current_consent() if request.method == "GET" else current_consent,
        "needle_free_services": booking_selectors.needle_free_services(),
    }
    if request.method == "POST" and patient_form.is_valid() & screening_form.is_valid():
        if booking_throttling.over_the_limit(request):
            context["refusal"] = booking_throttling.Refusal(offered.location)
            return render(request, "booking/step_details.html", context, status=429)
        try:
            appointment = book_offered_time(
                offer=offered,
                patient_details=patient_form.patient_details(),
                screening=screening_form.screening_answers(),
                consent_given=screening_form.cleaned_data["consent"],
                consent_version=request.POST.get("consent_version") or None,
            )
        except BookingError as error:
            if error.code == "offer_used":
                return redirect("waitlist:offer", token=token)  # now leads to the booking
            if error.code in {"slot_unavailable", "offer_closed"}:
                return _offer_closed(request, offered, status=409)
            outcome = booking_error_context(error, choice=choice, screening_form=screening_form, start=offered.start)
            if outcome is None:
                return render(request, "booking/urgent_care.html", {"location": choice.location})
            context.update(outcome)
            if "first_visit" in outcome:
                # The first visit is booked through the wizard's details step, not this offer.
                context.update(form_action=reverse("booking:details"), offer=None)
        else:
            return redirect(reverse("booking:manage", args=[appointment.manage_token]) + "?booked=1")
    return render(request, "booking/step_details.html", context)


def _offer_closed(request: HttpRequest, offered: WaitlistOffer, *, status: int) -> HttpResponse:
    """The offered time went to someone else (or the patient left the list): what is free now."""
    return render(
        request,
        "waitlist/offer_gone.html",
        {
            "offer": offered,
            "entry": offered.entry,
            "passed": offered.start <= timezone.now(),
            "free_times": selectors.free_times_for(offered.entry),
            "choice": _wish_choice(offered.entry),
        },
        status=status,
    )


def _wish_choice(place: WaitlistEntry) -> booking_selectors.Choice:
    """The wizard's choices for the entry's wish: free times link into the normal booking path."""
    return booking_selectors.Choice(
        service=place.service, location=place.location, practitioner=place.practitioner, practitioner_chosen=True
    )

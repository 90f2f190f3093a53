"""The patient's booking wizard and manage page. Thin: look up, validate, call a service, render.

The wizard works without JavaScript: each step is a GET page whose links carry the
choices so far (service, location, practitioner, start: no health data) in the query
string; only the final details form is a POST.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import selectors, throttling
from booking.availability import bookable_practitioners
from booking.calendar import google_calendar_url, ics_content_type, outlook_calendar_url, patient_ics
from booking.forms import CallerDetailsForm, FollowUpSeriesForm, PatientDetailsForm, ScreeningForm, SeriesSessionForm
from booking.models import Appointment
from booking.services import (
    FOLLOW_UPS_UNAVAILABLE_MESSAGE,
    BookingError,
    book_appointment,
    book_follow_ups,
    book_series_session,
    cancel_appointment,
    patient_may_change,
    reschedule_appointment,
)
from clinic import clock
from clinic.zones import CALLER_ZONES, zone_words
from patients.services import current_consent

DAYS_SHOWN = 7


def _choice(request: HttpRequest, name: str) -> str:
    return request.GET.get(name, "") or request.POST.get(name, "")


def _wizard_url(**params) -> str:
    return f"{reverse('booking:start')}?{urlencode({k: v for k, v in params.items() if v})}"


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    """Steps 1-3: service → location → a day and a time, for anyone qualified or the
    practitioner the patient narrows it to; a step with only one possible answer is answered
    for the patient (selectors.wizard_choice)."""
    choice = selectors.wizard_choice(
        service=_choice(request, "service"),
        location=_choice(request, "location"),
        practitioner=_choice(request, "practitioner"),
        returning=_choice(request, "returning"),
        zone=_choice(request, "zone"),
    )
    context = {"choice": choice, "anyone": selectors.ANYONE}
    if choice.service is None:
        context["services"] = [
            (service, choice.query_with(service=service.slug))
            for service in selectors.bookable_services(practitioner=choice.wanted)
        ]
        return render(request, "booking/step_service.html", context)
    if choice.location is None:
        context["locations"] = [
            (location, choice.query_with(location=location.slug)) for location in selectors.wizard_locations(choice)
        ]
        return render(request, "booking/step_location.html", context)
    if choice.service.is_for_returning_patients and not choice.returning:
        # Asked before the times, not after the patient has typed everything.
        first_visit = selectors.first_visit_for(choice.service, choice.location)
        context.update(
            returning_query=choice.query_with(returning="yes"),
            first_visit=first_visit,
            first_visit_query=choice.query_with(service=first_visit.slug) if first_visit else "",
        )
        return render(request, "booking/step_returning.html", context)
    first_day = _first_day(request.GET.get("from"), choice.clock)
    days = selectors.days_with_slots(
        service=choice.service,
        location=choice.location,
        practitioner=choice.practitioner,
        first_day=first_day,
        days=DAYS_SHOWN,
        zone=choice.caller_zone,
    )
    context.update(
        days=days,
        next_free=None if any(day.slots for day in days) else selectors.next_free_slot(choice=choice, after=first_day),
        slot_link=f"{reverse('booking:details')}?{choice.query}&start=",
        practitioner_filter=_practitioner_filter(choice),
        caller_zones=_caller_zone_options(choice) if choice.service.is_by_phone else [],
        **_week_navigation(first_day, choice.clock),
    )
    return render(request, "booking/step_time.html", context)


def _caller_zone_options(choice: selectors.Choice) -> list[tuple[str, str, bool]]:
    """A phone call's times page: the clocks its times can be shown on (key, label, is shown)."""
    assert choice.location is not None  # the times step comes after the location
    options = list(CALLER_ZONES)
    for zone in (choice.location.zone, choice.caller_zone):
        if zone is not None and zone.key not in dict(options):
            options.append((zone.key, zone_words(zone)))
    return [(key, label, key == choice.clock.key) for key, label in options]


def _practitioner_filter(choice: selectors.Choice) -> list[tuple[str, str, bool]]:
    """The times page's "With": anyone qualified, or one of them (label, query, is current).
    Nothing to narrow when one practitioner gives the service there."""
    assert choice.service is not None and choice.location is not None  # the times step comes after both
    if choice.practitioner_was_the_only_one:
        return []
    givers = list(bookable_practitioners(service=choice.service, location=choice.location))
    if len(givers) < 2:
        return []
    anyone = ("Anyone qualified", choice.query_with(practitioner=selectors.ANYONE), choice.practitioner is None)
    return [
        anyone,
        *((giver.name, choice.query_with(practitioner=giver.slug), giver == choice.practitioner) for giver in givers),
    ]


def _week_navigation(first_day: date, zone: ZoneInfo) -> dict:
    return {
        "first_day": first_day,
        "previous_week": first_day - timedelta(days=DAYS_SHOWN) if first_day > _today(zone) else None,
        "next_week": first_day + timedelta(days=DAYS_SHOWN),
    }


def _today(zone: ZoneInfo) -> date:
    return timezone.localtime(timezone.now(), zone).date()


def _first_day(raw: str | None, zone: ZoneInfo) -> date:
    today = _today(zone)
    try:
        chosen = date.fromisoformat(raw) if raw else today
    except ValueError:
        chosen = today
    return min(max(chosen, today), today + timedelta(days=settings.BOOKING_HORIZON_DAYS))


@require_http_methods(["GET", "POST"])
def details(request: HttpRequest) -> HttpResponse:
    """Step 5: who you are, the safety questions and consent; then book."""
    named = _choice(request, "practitioner")
    choice = selectors.wizard_choice(
        service=_choice(request, "service"),
        location=_choice(request, "location"),
        practitioner=named,
        returning=_choice(request, "returning"),
        # A call's details form sends the zone its times were shown on as "timezone".
        zone=_choice(request, "zone") or request.POST.get("timezone", ""),
    )
    start_at = selectors.parse_start(_choice(request, "start"))
    # A practitioner named in the link who no longer gives it there: choose again, never
    # "anyone" behind the patient's back.
    swapped = named not in ("", selectors.ANYONE) and (choice.practitioner is None or choice.practitioner.slug != named)
    if (
        swapped
        or choice.service is None
        or choice.location is None
        or not choice.practitioner_chosen
        or start_at is None
    ):
        messages.info(request, "Please choose a treatment and a time first.")
        return redirect(_wizard_url(service=choice.service_slug, location=choice.location_slug))
    if choice.service.is_by_phone:
        return _call_details(request, choice, start_at)

    if request.method == "POST":
        patient_form = PatientDetailsForm(request.POST)
        screening_form = ScreeningForm(request.POST)
    else:
        patient_form, screening_form = PatientDetailsForm(), ScreeningForm()
    context = {
        "choice": choice,
        "start": start_at,
        "patient_form": patient_form,
        "screening_form": screening_form,
        # Read only when the form is shown; a missing consent text must fail loudly on GET,
        # before a patient types anything (a template would silently swallow the error).
        "consent": current_consent() if request.method == "GET" else current_consent,
        "needle_free_services": selectors.needle_free_services(),
    }
    if request.method == "POST" and patient_form.is_valid() & screening_form.is_valid():
        return _book_and_confirm(
            request,
            choice,
            start_at,
            "booking/step_details.html",
            context,
            refused_form=screening_form,
            patient_details=patient_form.patient_details(),
            screening=screening_form.screening_answers(),
            consent_given=screening_form.cleaned_data["consent"],
            consent_version=request.POST.get("consent_version") or None,
        )
    return render(request, "booking/step_details.html", context)


def _call_details(request: HttpRequest, choice: selectors.Choice, start_at: datetime) -> HttpResponse:
    """Step 4 for a free discovery call: who to call, what it is about, one short urgent-care
    check and consent to be contacted; no medical intake (that comes with a treatment)."""
    initial = {"timezone": choice.caller_zone.key if choice.caller_zone else ""}
    form = CallerDetailsForm(request.POST) if request.method == "POST" else CallerDetailsForm(initial=initial)
    context = {"choice": choice, "start": start_at, "form": form}
    if request.method == "POST" and form.is_valid():
        return _book_and_confirm(
            request,
            choice,
            start_at,
            "booking/step_call_details.html",
            context,
            refused_form=form,
            consent_field="consent_to_contact",
            patient_details=form.patient_details(),
            screening=form.screening_answers(),
            consent_given=form.cleaned_data["consent_to_contact"],
            with_intake=False,
            concern=form.cleaned_data["concern"],
            caller_timezone=form.cleaned_data["caller_zone"].key,
        )
    return render(request, "booking/step_call_details.html", context)


def _book_and_confirm(
    request: HttpRequest,
    choice: selectors.Choice,
    start_at: datetime,
    template: str,
    context: dict,
    *,
    refused_form,
    consent_field: str = "consent",
    **booking,
) -> HttpResponse:
    """Book what the valid details form says, then the confirmation; a refusal is shown on the
    form with everything typed kept (urgent care on its own page)."""
    assert choice.service is not None and choice.location is not None  # the details step comes after both
    if throttling.over_the_limit(request):
        context["refusal"] = throttling.Refusal(choice.location)
        return render(request, template, context, status=429)
    try:
        appointment = book_appointment(
            service=choice.service,
            location=choice.location,
            practitioner=choice.practitioner,
            start=start_at,
            **booking,
        )
    except BookingError as error:
        outcome = booking_error_context(
            error, choice=choice, screening_form=refused_form, consent_field=consent_field, start=start_at
        )
        if outcome is None:
            urgent = {"location": choice.location, "call": choice.service.is_by_phone}
            return render(request, "booking/urgent_care.html", urgent)
        context.update(outcome)
        return render(request, template, context, status=409 if context.get("slot_taken") else 200)
    # No session or flash message: a patient booking online gets no cookie from us.
    return redirect(reverse("booking:manage", args=[appointment.manage_token]) + "?booked=1")


def booking_error_context(
    error: BookingError, *, choice: selectors.Choice, screening_form, start, consent_field: str = "consent"
) -> dict | None:
    """What the details page shows for a refused booking (the form keeps what was typed);
    None for urgent care, which has its own page. Shared with the waiting list's offer page
    and the discovery call's details page (`consent_field`: its consent to be contacted)."""
    if error.code == "urgent_care":
        return None
    if error.code in {"consent_required", "consent_changed"}:
        screening_form.add_error(consent_field, error.message)
        return {}
    if error.code in {"already_booked", "busy"}:
        return {"refusal_message": error.message}
    if error.code == "slot_unavailable":
        return {"slot_taken": True, "alternatives": selectors.nearest_slots(choice=choice, around=start)}
    if error.code == "initial_assessment_required":
        return {"initial_assessment_required": error.message, **_first_visit_instead(choice, start)}
    raise error


def _first_visit_instead(choice: selectors.Choice, start) -> dict:
    """A newcomer refused a follow-up: the first visit to book instead, with the free times
    nearest the one they picked, in the same form, so nothing typed is lost."""
    assert choice.service is not None and choice.location is not None  # a booking was refused: both were chosen
    first_visit = selectors.first_visit_for(choice.service, choice.location)
    if first_visit is None:
        return {}
    instead = selectors.Choice(service=first_visit, location=choice.location, practitioner_chosen=True)
    givers = bookable_practitioners(service=first_visit, location=choice.location)
    if choice.practitioner is not None and givers.filter(pk=choice.practitioner.pk).exists():
        instead.practitioner = choice.practitioner
    return {"first_visit": instead, "alternatives": selectors.nearest_slots(choice=instead, around=start)}


def _get_appointment_for_patient(token: str) -> Appointment:
    # The unguessable token is the patient's only key: an unknown one is a plain 404.
    appointment = selectors.appointment_by_token(token)
    if appointment is None:
        raise Http404("No booking with that link.")
    return appointment


@never_cache
@require_safe
def manage(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _get_appointment_for_patient(token)
    return _manage_page(request, appointment, just_booked=request.GET.get("booked") == "1")


def _manage_page(
    request: HttpRequest,
    appointment: Appointment,
    *,
    just_booked: bool = False,
    series_form=None,
    refusal: throttling.Refusal | None = None,
) -> HttpResponse:
    """The manage page, also the confirmation just after booking; with "Book my follow-ups"
    (`series_form`, bound when it comes back with errors) while that is offered."""
    has_series = hasattr(appointment, "follow_up_series")  # read with the appointment
    follow_up_service = None if has_series else selectors.follow_up_service_offered(appointment)
    context = {
        "appointment": appointment,
        "just_booked": just_booked,
        "suggest_needle_free": just_booked and getattr(selectors.screening_or_none(appointment), "needle_fear", False),
        "needle_free_services": selectors.needle_free_services,
        "can_change": patient_may_change(appointment),
        "window_hours": settings.BOOKING_CANCELLATION_WINDOW_HOURS,
        "has_series": has_series,
        "follow_up_service": follow_up_service,
        "refusal": refusal,
        "google_calendar_url": google_calendar_url(appointment),
        "outlook_calendar_url": outlook_calendar_url(appointment),
    }
    if follow_up_service is not None:
        context["series_form"] = series_form or FollowUpSeriesForm()
        context["consent"] = current_consent()
    return render(request, "booking/manage.html", context, status=429 if refusal else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def follow_ups(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the follow-ups booked from this appointment, week by week. POST: book them."""
    appointment = _get_appointment_for_patient(token)
    if request.method == "POST":
        if hasattr(appointment, "follow_up_series"):  # a second submission: they are booked
            return redirect("booking:follow_ups", token=token)
        form = FollowUpSeriesForm(request.POST)
        if not form.is_valid():
            if selectors.follow_up_service_offered(appointment) is None:  # no form to correct
                return _follow_ups_unavailable(request, token, FOLLOW_UPS_UNAVAILABLE_MESSAGE)
            return _manage_page(request, appointment, series_form=form)
        if throttling.over_the_limit(request):
            return _manage_page(
                request, appointment, series_form=form, refusal=throttling.Refusal(appointment.location)
            )
        try:
            book_follow_ups(
                appointment=appointment,
                sessions=form.cleaned_data["sessions"],
                interval_weeks=form.cleaned_data["interval_weeks"],
                consent_given=form.cleaned_data["answers_still_apply"],
                consent_version=form.cleaned_data["consent_version"],
            )
        except BookingError as error:
            if error.code == "follow_ups_unavailable":
                return _follow_ups_unavailable(request, token, error.message)
            form.add_error("answers_still_apply" if error.code.startswith("consent_") else None, error.message)
            return _manage_page(request, appointment, series_form=form)
        return redirect("booking:follow_ups", token=token)

    series = selectors.series_of(appointment)
    if series is None:
        return redirect("booking:manage", token=token)
    return _follow_ups_page(request, appointment, series)


def _follow_ups_page(
    request: HttpRequest, appointment: Appointment, series, *, refusal: throttling.Refusal | None = None
) -> HttpResponse:
    return render(
        request,
        "booking/follow_ups.html",
        {"appointment": appointment, "overview": selectors.series_overview(series), "refusal": refusal},
        status=429 if refusal else 200,
    )


def _follow_ups_unavailable(request: HttpRequest, token: str, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("booking:manage", token=token)


@never_cache
@require_POST
def book_follow_up_session(request: HttpRequest, token: str) -> HttpResponse:
    """One of the other times offered for a follow-up that could not be booked."""
    appointment = _get_appointment_for_patient(token)
    series = selectors.series_of(appointment)
    if series is None:
        raise Http404("No follow-ups were booked from this appointment.")
    form = SeriesSessionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please choose one of the times shown.")
        return redirect("booking:follow_ups", token=token)
    if throttling.over_the_limit(request):
        return _follow_ups_page(request, appointment, series, refusal=throttling.Refusal(appointment.location))
    try:
        booked = book_series_session(
            series=series, session=form.cleaned_data["session"], start=form.cleaned_data["start"]
        )
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Booked: {clock.patient_date_time(booked.local_start, 'day')}.")
    return redirect("booking:follow_ups", token=token)


@never_cache
@require_safe
def calendar_file(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _get_appointment_for_patient(token)
    response = HttpResponse(patient_ics([appointment]), content_type=ics_content_type([appointment]))
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.reference}.ics"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _get_appointment_for_patient(token)
    if request.method == "POST":
        reason = _clean_reason(request.POST.get("reason", ""))
        if throttling.over_the_limit(request):
            return _cancel_page(request, appointment, reason=reason, refusal=throttling.Refusal(appointment.location))
        try:
            cancel_appointment(appointment=appointment, reason=reason, actor=None)
        except BookingError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Your appointment is cancelled. The time is free for someone else.")
        return redirect("booking:manage", token=token)
    return _cancel_page(request, appointment)


def _cancel_page(
    request: HttpRequest, appointment: Appointment, *, reason: str = "", refusal: throttling.Refusal | None = None
) -> HttpResponse:
    return render(
        request,
        "booking/cancel.html",
        {
            "appointment": appointment,
            "can_change": patient_may_change(appointment),
            "reason": reason,
            "refusal": refusal,
        },
        status=429 if refusal else 200,
    )


def _clean_reason(raw: str) -> str:
    # Free text straight to the database: PostgreSQL refuses NUL characters.
    return raw.replace("\x00", "")[:500]


@never_cache
@require_http_methods(["GET", "POST"])
def reschedule(request: HttpRequest, token: str) -> HttpResponse:
    appointment = _get_appointment_for_patient(token)
    if request.method == "POST":
        new_start = selectors.parse_start(request.POST.get("start", ""))
        if new_start is None:
            messages.error(request, "Please choose one of the times shown.")
            return redirect("booking:reschedule", token=token)
        if throttling.over_the_limit(request):
            refusal = throttling.Refusal(appointment.location)
            return _reschedule_page(request, appointment, chosen=new_start, refusal=refusal)
        try:
            reschedule_appointment(appointment=appointment, new_start=new_start, actor=None)
        except BookingError as error:
            messages.error(request, error.message)
            return redirect("booking:reschedule", token=token)
        messages.success(request, "Your appointment has been moved.")
        return redirect("booking:manage", token=token)
    return _reschedule_page(request, appointment)


def _reschedule_page(
    request: HttpRequest,
    appointment: Appointment,
    *,
    chosen: datetime | None = None,
    refusal: throttling.Refusal | None = None,
) -> HttpResponse:
    zone = appointment.patient_zone
    first_day = _first_day(request.GET.get("from"), zone)
    week = f"from={first_day.isoformat()}&" if request.GET.get("from") else ""
    # A time tapped in the list (GET ?start=) is asked about once before the move is made.
    chosen = chosen or selectors.parse_start(request.GET.get("start", ""))
    can_change = patient_may_change(appointment)
    days = (
        selectors.days_with_slots(
            service=appointment.service,
            location=appointment.location,
            practitioner=appointment.practitioner,
            first_day=first_day,
            days=DAYS_SHOWN,
            ignoring_appointment_id=appointment.pk,
            zone=zone,
        )
        if can_change
        else []
    )
    return render(
        request,
        "booking/reschedule.html",
        {
            "appointment": appointment,
            "can_change": can_change,
            "days": days,
            "chosen": chosen,
            "refusal": refusal,
            "slot_link": f"{reverse('booking:reschedule', args=[appointment.manage_token])}?{week}start=",
            **_week_navigation(first_day, zone),
        },
        status=429 if refusal else 200,
    )

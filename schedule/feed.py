"""The private calendar feed: its settings page, and the .ics a calendar app subscribes to.

The feed URL carries its own credential (the token), because calendar apps cannot log in.
So it shows as little as the practitioner needs: time, place, service, status, reference and
the patient's name (first name and initial unless they choose full names). Never screening
answers or any other health detail: calendars are synced to phones and shared with assistants.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from icalendar import Calendar, Event

from booking.calendar import calendar_event_for
from booking.models import Appointment, TimeOff
from clinic.emails import site_host
from clinic.vtimezone import add_time_zones
from schedule.access import PractitionerRequest, practitioner_required
from schedule.models import CalendarFeed
from schedule.selectors import (
    FEED_DAYS_AHEAD,
    FEED_DAYS_BACK,
    feed_appointments,
    feed_by_token,
    feed_of,
    feed_time_off,
)
from schedule.services import regenerate_feed_token, set_feed_patient_names


class FeedNamesForm(forms.Form):
    full_patient_names = forms.BooleanField(
        required=False,
        label="Show patients' full names",
        help_text="Off: first name and initial, e.g. “Ada L.”. Anyone who sees your calendar sees these names.",
    )


def feed_url(feed: CalendarFeed) -> str:
    return settings.SITE_URL + reverse("schedule:feed", args=[feed.token])


@never_cache
@require_http_methods(["GET", "POST"])
@practitioner_required
def feed_settings(request: PractitionerRequest) -> HttpResponse:
    practitioner = request.practitioner
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "regenerate":
            had_feed = feed_of(practitioner) is not None
            regenerate_feed_token(practitioner=practitioner, by=request.user)
            messages.success(
                request,
                "New link made. The old link no longer works: update your calendar apps with this one."
                if had_feed
                else "Your calendar link is ready. Add it to your calendar app as shown below.",
            )
        elif action == "names":
            form = FeedNamesForm(request.POST)
            full = form.is_valid() and form.cleaned_data["full_patient_names"]
            set_feed_patient_names(practitioner=practitioner, full_patient_names=full, by=request.user)
            messages.success(
                request, "Your feed now shows full names." if full else "Your feed now shows first names and initials."
            )
        else:
            return HttpResponseBadRequest("Unknown action.")
        return redirect("schedule:feed_settings")

    feed = feed_of(practitioner)
    url = feed_url(feed) if feed else ""
    return render(
        request,
        "schedule/feed_settings.html",
        {
            "feed": feed,
            "feed_url": url,
            # Apple Calendar and Outlook open a webcal:// link as "subscribe", not "download".
            "webcal_url": "webcal://" + url.split("://", 1)[1] if url else "",
            "names_form": FeedNamesForm(initial={"full_patient_names": feed.full_patient_names if feed else False}),
            "days_back": FEED_DAYS_BACK,
            "days_ahead": FEED_DAYS_AHEAD,
        },
    )


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """No login: the unguessable token is the credential (calendar apps cannot log in). An
    unknown or replaced token is a plain 404. Three queries whatever the number of events."""
    feed = feed_by_token(token)
    if feed is None:
        raise Http404("No calendar feed with that link.")
    now = timezone.now()
    appointments = feed_appointments(practitioner=feed.practitioner, now=now)
    time_off = feed_time_off(practitioner=feed.practitioner, now=now)
    response = HttpResponse(
        practitioner_feed_ics(feed, appointments, time_off, now=now), content_type="text/calendar; charset=utf-8"
    )
    # Patients' names: kept by no shared cache, and by no browser cache either.
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = 'inline; filename="schedule.ics"'
    return response


# What each status looks like in a calendar app. Cancelled appointments are left out (their
# time is free again); a no-show gave its time back too, so it is CANCELLED (most apps then
# strike it through) and its summary says so.
_SUMMARY_PREFIX: dict[str, str] = {Appointment.Status.NO_SHOW: "No-show: "}


def patient_label(patient, *, full_name: bool) -> str:
    if full_name:
        return f"{patient.first_name} {patient.last_name}"
    return f"{patient.first_name} {patient.last_name[:1]}."


def practitioner_feed_ics(feed: CalendarFeed, appointments, time_off, *, now) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Practitioner schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{feed.practitioner.name} · {settings.CLINIC_NAME}")
    # How often subscribed apps should fetch again (Apple and Outlook honour one or the other;
    # Google keeps its own pace, several hours).
    calendar.add("refresh-interval", timedelta(minutes=30), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT30M")
    appointments = list(appointments)
    for appointment in appointments:
        calendar.add_component(_appointment_event(appointment, feed=feed, now=now))
    for block in time_off:
        calendar.add_component(_busy_event(block, feed=feed, now=now))
    # Time off is in UTC (it may span zones); appointments in their location's zone.
    add_time_zones(calendar, [(appointment.location.zone, appointment.start) for appointment in appointments])
    return calendar.to_ical()


def _appointment_event(appointment: Appointment, *, feed: CalendarFeed, now) -> Event:
    # Not the patient's UID: the patient's own file and this feed are two calendars' events,
    # and an app holding both must not merge or replace one with the other.
    event = calendar_event_for(appointment, uid=f"schedule-{appointment.reference}@{site_host()}", now=now)
    patient = patient_label(appointment.patient, full_name=feed.full_patient_names)
    prefix = _SUMMARY_PREFIX.get(appointment.status, "")
    event.add("summary", f"{prefix}{patient} · {appointment.service.name}")
    # Status and reference only. The screening answers stay on the schedule page, behind a login.
    event.add(
        "description",
        f"Status: {appointment.get_status_display()}\nReference: {appointment.reference}\n"
        f"Details (log in): {settings.SITE_URL}{reverse('schedule:appointment', args=[appointment.pk])}",
    )
    live = appointment.status in Appointment.LIVE_STATUSES
    event.add("status", "CONFIRMED" if live else "CANCELLED")
    event.add("transp", "OPAQUE" if live else "TRANSPARENT")
    event.add("created", appointment.created_at)
    event.add("last-modified", appointment.updated_at)
    return event


def _busy_event(block: TimeOff, *, feed: CalendarFeed, now) -> Event:
    """Time off, or a closure of a location the practitioner works at, as a busy block. Its
    reason only where the practitioner chose full names (the reason may name people too)."""
    event = Event()
    event.add("uid", f"time-off-{block.pk}@{site_host()}")
    event.add("dtstamp", now)
    event.add("dtstart", block.start)
    event.add("dtend", block.end)
    if block.practitioner_id is None:
        assert block.location is not None  # time off for no practitioner is a location's closure
        summary = f"Closed: {block.location.name}"
    else:
        summary = "Time off"
    if feed.full_patient_names and block.reason:
        summary = f"{summary} ({block.reason})"
    event.add("summary", summary)
    event.add("status", "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event

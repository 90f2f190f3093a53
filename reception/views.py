"""The front desk's pages in the admin's look and login: the day calendar (and its live
updates), an appointment's panel with its status buttons, cancelling, and moving an
appointment, by its Move page (no JavaScript) or by dropping its block on a cell.

Thin: each view checks the admin permission, reads through reception.selectors and writes
through booking.services as the staff member (the staff rules), then says what happened.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from booking.availability import EARLIEST_TYPED_DAY, LATEST_TYPED_DAY, BookingRules, available_slots
from booking.forms import StatusChangeForm
from booking.models import Appointment
from booking.selectors import SCREENING_FLAGS, screening_or_none, with_new_patient_flag
from booking.services import (
    BookingError,
    allowed_status_changes,
    cancel_appointment,
    mark_status,
    reschedule_appointment,
)
from clinic import clock
from clinic.middleware import keeps_the_login_idle
from clinic.models import Location
from clinic.outbox import messages_about
from reception import selectors
from reception.forms import CancellationForm, MoveForm

TEXT = "text/plain; charset=utf-8"
DONE = {
    Appointment.Status.ARRIVED: "Marked arrived",
    Appointment.Status.COMPLETED: "Marked completed",
    Appointment.Status.NO_SHOW: "Marked as a no-show",
}
# What reception reads when a move is refused: the services' messages are the patient's.
MOVE_REFUSED = {
    "slot_unavailable": "That time is not free for this appointment any more (taken meanwhile, time off, or outside "
    "the practitioner's hours). The appointment has not moved.",
    "already_booked": "The patient has another appointment at that time. The appointment has not moved.",
    "changed_meanwhile": "Someone else changed this appointment meanwhile: look at it again as it is now. "
    "The appointment has not moved.",
}


class StaffRequest(HttpRequest):
    """A request the admin's admin_view lets through (reception/urls.py): an active staff member's."""

    user: User


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _admin_context(request: HttpRequest, **context) -> dict:
    return {
        **admin.site.each_context(request),
        "opts": Appointment._meta,
        # The calendar needs the width: the admin's side navigation is one click away on every page.
        "is_nav_sidebar_enabled": False,
        **context,
    }


# The day calendar ---------------------------------------------------------------------------


def _chosen_location(request: HttpRequest, locations: list[Location], *, warn: bool = True) -> Location | None:
    wanted = request.GET.get("location", "").strip()
    if wanted:
        for location in locations:
            if wanted in (location.slug, str(location.pk)):
                return location
        if warn:
            messages.warning(request, "There is no active location by that name; showing the first one.")
    return locations[0] if locations else None


def _chosen_day(request: HttpRequest, *, default: date, warn: bool = True) -> date:
    wanted = request.GET.get("date", "").strip()
    if not wanted:
        return default
    try:
        chosen = date.fromisoformat(wanted)
    except ValueError:
        chosen = None
    if chosen is None or not EARLIEST_TYPED_DAY <= chosen <= LATEST_TYPED_DAY:
        if warn:
            messages.warning(request, "That is not a date (YYYY-MM-DD); showing today.")
        return default
    return chosen


@dataclass(frozen=True)
class CalendarChoice:
    """Which day calendar the address asks for; nonsense in it falls back to today."""

    location: Location
    day: date
    show_calls: bool

    @property
    def version(self) -> str:
        return selectors.calendar_version(location=self.location, day=self.day, show_calls=self.show_calls)

    def calendar(self) -> selectors.DayCalendar:
        return selectors.day_calendar(location=self.location, day=self.day, show_calls=self.show_calls)


def _chosen_calendar(request: HttpRequest, *, warn: bool = True) -> tuple[list[Location], CalendarChoice | None]:
    locations = list(selectors.calendar_locations())
    location = _chosen_location(request, locations, warn=warn)
    if location is None:
        return locations, None
    today = timezone.localtime(timezone.now(), location.zone).date()
    day = _chosen_day(request, default=today, warn=warn)
    return locations, CalendarChoice(location=location, day=day, show_calls=request.GET.get("calls", "") != "hide")


def _calendar_context(request: HttpRequest, calendar: selectors.DayCalendar | None, version: str) -> dict:
    return {
        "calendar": calendar,
        "version": version,
        "screening_flags": SCREENING_FLAGS,
        "show_screening": request.user.has_perm("patients.view_screening"),
        "can_book": request.user.has_perm("booking.add_appointment"),
        "can_move": request.user.has_perm("booking.change_appointment"),
        "calendar_query": _calendar_query(calendar) if calendar else "",
        "block_url": "reception:panel",
        "panel": True,
        "week_url": "reception:week",
    }


def _calendar_query(calendar: selectors.DayCalendar, **changes) -> str:
    params = {
        "location": calendar.location.slug,
        "date": calendar.day.isoformat(),
        "calls": "" if calendar.show_calls else "hide",
        **changes,
    }
    return urlencode({name: value for name, value in params.items() if value})


@require_safe
def calendar(request: HttpRequest) -> HttpResponse:
    """One location's day, a column per practitioner: reception's workplace."""
    _require(request, "booking.view_appointment")
    locations, choice = _chosen_calendar(request)
    # The version first: a write between the two is then seen by the next poll, never missed.
    version = choice.version if choice else ""
    calendar = choice.calendar() if choice else None
    context = _admin_context(
        request,
        title="Calendar",
        subtitle=f"{calendar.location.name}, {calendar.day:%A %d %B %Y}" if calendar else None,
        locations=locations,
        **_calendar_context(request, calendar, version),
    )
    if calendar:
        context.update(
            previous_query=_calendar_query(calendar, date=calendar.previous_day.isoformat()),
            next_query=_calendar_query(calendar, date=calendar.next_day.isoformat()),
            today_query=_calendar_query(calendar, date=calendar.today.isoformat()),
            calls_query=_calendar_query(calendar, calls="" if not calendar.show_calls else "hide"),
        )
    return TemplateResponse(request, "reception/calendar.html", context)


@never_cache
@require_safe
@keeps_the_login_idle
def calendar_updates(request: HttpRequest) -> HttpResponse:
    """What the open calendar polls every few seconds: 204 while nothing it shows has changed,
    else the grid again. Answers 401/403 (never the login page) when the login has ended, so
    the page can say so; and the poll itself does not keep a login alive."""
    if not (request.user.is_active and request.user.is_staff):
        return HttpResponse("Your login has ended. Reload the page to log in again.", status=401, content_type=TEXT)
    if not request.user.has_perm("booking.view_appointment"):
        return HttpResponse(
            "You may no longer see the calendar. Ask the clinic's owner.", status=403, content_type=TEXT
        )
    _locations, choice = _chosen_calendar(request, warn=False)
    if choice is None:
        return HttpResponse(status=204)
    version = choice.version
    if version == request.GET.get("version", ""):
        return HttpResponse(status=204)
    context = _calendar_context(request, choice.calendar(), version)
    return TemplateResponse(request, "reception/_calendar_grid.html", context)


@require_safe
def week(request: HttpRequest) -> HttpResponse:
    """One practitioner's week, Monday to Sunday, every location they work at: the same blocks."""
    _require(request, "booking.view_appointment")
    practitioners = list(selectors.week_practitioners())
    wanted = request.GET.get("practitioner", "").strip()
    practitioner = next((item for item in practitioners if wanted in (item.slug, str(item.pk))), None)
    if practitioner is None and wanted:
        messages.warning(request, "There is no active practitioner by that name; showing the first one.")
    practitioner = practitioner or (practitioners[0] if practitioners else None)
    calendar = None
    if practitioner is not None:
        zone = selectors.week_zone(practitioner)
        today = timezone.localtime(timezone.now(), zone).date()
        calendar = selectors.practitioner_week(practitioner=practitioner, day=_chosen_day(request, default=today))
    context = _admin_context(
        request,
        title=f"{practitioner.name}: week" if practitioner else "Week",
        practitioners=practitioners,
        calendar=calendar,
        screening_flags=SCREENING_FLAGS,
        show_screening=request.user.has_perm("patients.view_screening"),
        can_book=request.user.has_perm("booking.add_appointment"),
        can_move=False,  # moves are made in the day calendar or on the Move page
        block_url="reception:panel",
        panel=False,
    )
    return TemplateResponse(request, "reception/week.html", context)


# An appointment's panel, its status buttons and cancelling ---------------------------------------


def _appointment(pk: int) -> Appointment:
    return get_object_or_404(
        with_new_patient_flag(
            Appointment.objects.select_related("patient", "practitioner", "location", "service", "screening")
        ),
        pk=pk,
    )


def _back_to(request: HttpRequest, appointment: Appointment) -> str:
    """Where a button sends reception back to: the page it came from (`next`), else the
    appointment's day in the calendar."""
    # htmx names the page that asked for the panel: the calendar as it was shown.
    wanted = request.POST.get("next") or request.GET.get("next") or request.headers.get("HX-Current-URL", "")
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
        return wanted
    return calendar_url_for(appointment)


def calendar_url_for(appointment: Appointment) -> str:
    day = timezone.localtime(appointment.start, appointment.location.zone).date().isoformat()
    return f"{reverse('reception:calendar')}?{urlencode({'location': appointment.location.slug, 'date': day})}"


@require_safe
def appointment_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """A block's detail: who, what, when, the screening flags, and the buttons. The calendar
    opens it beside the grid (htmx asks for the fragment); without JavaScript it is a page."""
    _require(request, "booking.view_appointment")
    appointment = _appointment(pk)
    screening = screening_or_none(appointment)
    local_start = timezone.localtime(appointment.start, appointment.location.zone)
    can_change = request.user.has_perm("booking.change_appointment")
    context = _admin_context(
        request,
        title=f"{appointment.patient} — {local_start:%a %d %b} {clock.staff_time(local_start)}",
        appointment=appointment,
        when=f"{local_start:%A %d %B %Y}, "
        f"{clock.staff_time_range(local_start, timezone.localtime(appointment.end, appointment.location.zone))}",
        screening_flags=[flag for flag in SCREENING_FLAGS if screening and getattr(screening, flag.field)],
        show_screening=request.user.has_perm("patients.view_screening"),
        status_changes=allowed_status_changes(appointment) if can_change else [],
        can_change=can_change,
        can_cancel=can_change and appointment.status == Appointment.Status.CONFIRMED,
        cancel_form=CancellationForm(),
        calendar_url=calendar_url_for(appointment),
        next=_back_to(request, appointment),
        emails=[(message, _sent_when(message, appointment)) for message in messages_about(appointment)],
    )
    template = "reception/_panel.html" if request.headers.get("HX-Request") else "reception/panel.html"
    return TemplateResponse(request, template, context)


def _sent_when(message, appointment: Appointment) -> str:
    if message.sent_at is None:
        return ""
    local = timezone.localtime(message.sent_at, appointment.location.zone)
    return f"{local:%a %d %b} {clock.staff_time(local)}"


@require_POST
def change_status(request: StaffRequest, pk: int) -> HttpResponse:
    _require(request, "booking.change_appointment")
    appointment = _appointment(pk)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose arrived, completed or no-show.")
        return redirect(_back_to(request, appointment))
    status = form.cleaned_data["status"]
    try:
        mark_status(appointment=appointment, status=status, by=request.user)
    except BookingError as error:
        messages.error(request, f"{appointment.reference}: {error.message}")
    else:
        messages.success(request, f"{DONE[status]}: {appointment.reference}.")
    return redirect(_back_to(request, appointment))


@require_POST
def cancel(request: StaffRequest, pk: int) -> HttpResponse:
    _require(request, "booking.change_appointment")
    appointment = _appointment(pk)
    form = CancellationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the reason for cancelling (kept for staff; no health details).")
        return redirect(
            f"{reverse('reception:panel', args=[appointment.pk])}?{urlencode({'next': _back_to(request, appointment)})}"
        )
    try:
        cancel_appointment(
            appointment=appointment,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            share_reason=form.cleaned_data["share_reason"],
        )
    except BookingError as error:
        messages.error(request, f"{appointment.reference}: {error.message}")
    else:
        messages.success(request, f"Cancelled {appointment.reference}.")
    return redirect(_back_to(request, appointment))


# Moving an appointment ----------------------------------------------------------------------------


def _move(request: StaffRequest, appointment: Appointment, form: MoveForm) -> tuple[Appointment | None, str]:
    """The one way both the Move page and a dropped block move an appointment."""
    try:
        moved = reschedule_appointment(
            appointment=appointment,
            new_start=form.cleaned_data["start"],
            new_practitioner=form.cleaned_data["practitioner"],
            actor=request.user,
            if_unchanged_since=form.cleaned_data["version"],
        )
    except BookingError as error:
        return None, MOVE_REFUSED.get(error.code, error.message)
    local_start = timezone.localtime(moved.start, moved.location.zone)
    # The reference, time and practitioner only, as every front-desk message: it is kept in the session.
    return moved, (
        f"Moved {moved.reference} to {local_start:%a %d %b}, {clock.staff_time(local_start)} "
        f"with {moved.practitioner.name}."
    )


def move(request: StaffRequest, pk: int) -> HttpResponse:
    """The Move page: the free times on a day, with the same practitioner or another one
    qualified, from the engine under the staff rules; choose one and move. Works without
    JavaScript."""
    _require(request, "booking.change_appointment")
    appointment = _appointment(pk)
    zone = appointment.location.zone
    refusal, status = "", 200
    if request.method == "POST":
        form = MoveForm(request.POST)
        if form.is_valid():
            moved, message = _move(request, appointment, form)
            if moved is not None:
                messages.success(request, message)
                return redirect(calendar_url_for(moved))
            refusal, status = message, 409
        else:
            # Only what no page of ours sends: a start that is no time, an unknown practitioner.
            # (An ErrorList item is a message; django-stubs has it a ValidationError as well.)
            refusal, status = (
                ("Choose one of the free times." if "start" in form.errors else form.errors["practitioner"][0]),  # type: ignore[assignment]
                400,
            )
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})

    today = timezone.localtime(timezone.now(), zone).date()
    current_day = timezone.localtime(appointment.start, zone).date()
    day = max(_chosen_day(request, default=max(current_day, today)), today)
    practitioners = list(selectors.practitioners_for_move(appointment=appointment))
    chosen = next(
        (item for item in practitioners if str(item.pk) == request.GET.get("practitioner", "")),
        next((item for item in practitioners if item.pk == appointment.practitioner_id), None),
    )
    slots = []
    if chosen is not None and appointment.status == Appointment.Status.CONFIRMED:
        slots = available_slots(
            service=appointment.service,
            location=appointment.location,
            practitioner=chosen,
            first_day=day,
            last_day=day,
            ignoring_appointment_id=appointment.pk,
            rules=BookingRules.for_staff(),
        )
    local_start = timezone.localtime(appointment.start, zone)
    context = _admin_context(
        request,
        title=f"Move {appointment.reference}",
        appointment=appointment,
        when=f"{local_start:%A %d %B %Y}, {clock.staff_time(local_start)}",
        day=day,
        today=today,
        previous_day=day - timedelta(days=1) if day > today else None,
        next_day=day + timedelta(days=1),
        practitioners=practitioners,
        chosen=chosen,
        times=[(slot.start.isoformat(), clock.staff_slot_time(slot.start, zone)) for slot in slots],
        refusal=refusal,
        calendar_url=calendar_url_for(appointment),
        movable=appointment.status == Appointment.Status.CONFIRMED,
    )
    return TemplateResponse(request, "reception/move.html", context, status=status)


@require_POST
def drop(request: StaffRequest, pk: int) -> JsonResponse:
    """A block dropped on a cell of the calendar (JavaScript): 200 and the message once moved;
    409 with the reason when that time cannot take it (the block goes back where it was)."""
    if not request.user.has_perm("booking.change_appointment"):
        return JsonResponse({"message": "You may not move appointments."}, status=403)
    try:
        appointment = _appointment(pk)
    except Http404:
        return JsonResponse({"message": "That appointment no longer exists."}, status=404)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"message": "That is not a time and practitioner of the calendar."}, status=400)
    moved, message = _move(request, appointment, form)
    return JsonResponse({"message": message}, status=200 if moved is not None else 409)


# The patient search of Book for a caller ---------------------------------------------------------


class PatientSearch(AutocompleteJsonView):
    """The admin's search-as-you-type for patients (the same search: name, email, a phone number
    as heard), answering with enough to tell two Maria Garcias apart: date of birth, the start
    of the email, and the last visit. One query for the page of results."""

    def get_queryset(self):
        return selectors.with_last_visit(super().get_queryset(), now=timezone.now())

    def serialize_result(self, obj, to_field_name):
        return {**super().serialize_result(obj, to_field_name), "text": selectors.patient_label(obj)}


patient_search = PatientSearch.as_view(admin_site=admin.site)

"""The practitioner's own schedule: log in, their day and week, one appointment and its status.

Thin: every page is wrapped in practitioner_required, reads through schedule.selectors
(filtered by request.practitioner in the query) and writes through booking.services.
Pages with patient data are never cached: a shared clinic tablet's back button must not
show the last practitioner's patients after logout.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from booking.forms import StatusChangeForm
from booking.models import Appointment
from booking.selectors import SCREENING_FLAGS
from booking.services import BookingError, mark_status
from reception.selectors import practitioner_week
from schedule import selectors
from schedule.access import PractitionerRequest, practitioner_required
from schedule.forms import ScheduleLoginForm

# Dates outside these years are typing slips (and would overflow the date arithmetic).
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999

DONE = {
    Appointment.Status.ARRIVED: "Marked arrived.",
    Appointment.Status.COMPLETED: "Marked completed.",
    Appointment.Status.NO_SHOW: "Marked as a no-show.",
}


# Not redirect_authenticated_user: someone logged in as another account (a receptionist on a
# shared desk computer) must be able to log in here as the practitioner.
login = auth_views.LoginView.as_view(template_name="schedule/login.html", authentication_form=ScheduleLoginForm)


class _LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("schedule:login")  # type: ignore[assignment]  # resolve_url takes a lazy URL too

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # After logout: the session was flushed, so the message lands in the new one.
        messages.info(request, "You are logged out.")
        return response


logout = _LogoutView.as_view()  # POST only, as Django's LogoutView is


@never_cache
@practitioner_required
@require_safe
def day(request: PractitionerRequest) -> HttpResponse:
    zones = selectors.practitioner_zones(request.practitioner)
    shown = _chosen_date(request, default=zones.today())
    schedule = selectors.practitioner_schedule(
        practitioner=request.practitioner, zones=zones, first_day=shown, last_day=shown
    )
    return render(
        request,
        "schedule/day.html",
        {
            "schedule": schedule,
            "schedule_day": schedule.days[0],
            "previous_day": shown - timedelta(days=1),
            "next_day": shown + timedelta(days=1),
        },
    )


@never_cache
@practitioner_required
@require_safe
def week(request: PractitionerRequest) -> HttpResponse:
    """Monday to Sunday of the chosen date's week, on the front desk's grid: hours, gaps and time
    off visible, each appointment a block that opens its page."""
    zones = selectors.practitioner_zones(request.practitioner)  # also fills .locations for the week
    chosen = _chosen_date(request, default=zones.today())
    calendar = practitioner_week(practitioner=request.practitioner, day=chosen)
    return render(
        request,
        "schedule/week.html",
        {
            "calendar": calendar,
            "chosen": chosen,
            "previous_week": calendar.previous_monday,
            "next_week": calendar.next_monday,
            "is_this_week": calendar.monday <= calendar.today <= calendar.sunday,
            "screening_flags": SCREENING_FLAGS,
            "show_screening": True,  # their own patients' answers
            "block_url": "schedule:appointment",
            "day_links_to_schedule": True,
        },
    )


@never_cache
@practitioner_required
@require_safe
def appointment_detail(request: PractitionerRequest, pk: int) -> HttpResponse:
    detail = selectors.appointment_detail(practitioner=request.practitioner, pk=pk)
    return render(request, "schedule/appointment.html", {"detail": detail, "appointment": detail.appointment})


@practitioner_required
def change_status(request: PractitionerRequest, pk: int) -> HttpResponse:
    appointment = selectors.appointment_for_practitioner(practitioner=request.practitioner, pk=pk)
    if request.method != "POST":
        # Where a login interrupted by a POST lands afterwards: the appointment, not an error.
        return redirect("schedule:appointment", pk=appointment.pk)
    form = StatusChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose arrived, completed or no-show.")
        return redirect("schedule:appointment", pk=appointment.pk)
    status = form.cleaned_data["status"]
    try:
        mark_status(appointment=appointment, status=status, by=request.user)
    except BookingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, DONE[status])
    return redirect("schedule:appointment", pk=appointment.pk)


def _chosen_date(request: HttpRequest, *, default: date) -> date:
    """?date=YYYY-MM-DD; a missing or unreadable one is the default (today)."""
    try:
        chosen = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return default
    return chosen if EARLIEST_YEAR <= chosen.year <= LATEST_YEAR else default

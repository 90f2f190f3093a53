"""A practitioner's own time off: list what is coming, add a period, remove one.

Times are typed as wall-clock times in the practitioner's zone, the same rule as the admin's
time off form (booking.models.time_off_zone): the one zone all their locations share, or,
when they work in several zones, the zone of the location they name. Adding goes through
booking.services.add_time_off, which refuses a period with booked patients in it.
"""

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from booking.availability import (
    EARLIEST_TYPED_DAY,
    LATEST_TYPED_DAY,
    YEAR_OUT_OF_RANGE,
    UnclearLocalTime,
    exact_local_instant,
)
from booking.models import TimeOff, local_period, time_off_zone
from booking.selectors import upcoming_time_off
from booking.services import BookingError, TimeOffOverlapsAppointments, add_time_off, remove_time_off
from clinic.clock import staff_time
from clinic.models import Location, Practitioner
from schedule.access import PractitionerRequest, practitioner_required


class TimeOffForm(forms.Form):
    """Start and end as typed (date and time apart: the inputs phones handle best), read in
    the practitioner's zone; cleaned_data["start"] and ["end"] are then UTC instants."""

    location = forms.ModelChoiceField(
        queryset=Location.objects.none(),
        label="Times are in the local time of",
        help_text="You work in more than one time zone: choose the location whose local time you type.",
    )
    start_date = forms.DateField(label="From (date)", widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label="From (time)", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_date = forms.DateField(label="Until (date)", widget=forms.DateInput(attrs={"type": "date"}))
    end_time = forms.TimeField(label="Until (time)", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    reason = forms.CharField(
        max_length=200, required=False, help_text="Seen by you and reception only. No patient details."
    )

    def __init__(self, *args, practitioner: Practitioner, **kwargs):
        super().__init__(*args, **kwargs)
        # practitioner.locations is prefetched by the view: both reads below use it.
        self.zone = time_off_zone(location=None, practitioner=practitioner)
        self.locations = list(practitioner.locations.all())
        if self.zone is None and self.locations:
            cast(forms.ModelChoiceField, self.fields["location"]).queryset = practitioner.locations.all()
        else:
            del self.fields["location"]

    @property
    def asks_for_location(self) -> bool:
        return "location" in self.fields

    def clean(self):
        cleaned_data = super().clean()
        assert cleaned_data is not None  # Form.clean returns cleaned_data
        if not self.locations:
            raise forms.ValidationError(
                "You are not linked to any location yet, so your local time is unknown. Please ask reception."
            )
        zone = cleaned_data["location"].zone if self.asks_for_location and cleaned_data.get("location") else self.zone
        if zone is None:
            return cleaned_data  # the location's own error says what to do
        for name in ("start", "end"):
            day, wall_time = cleaned_data.get(f"{name}_date"), cleaned_data.get(f"{name}_time")
            if day is None or wall_time is None:
                continue
            if not EARLIEST_TYPED_DAY <= day <= LATEST_TYPED_DAY:
                self.add_error(f"{name}_date", YEAR_OUT_OF_RANGE)
                continue
            instant = self._instant(name, datetime.combine(day, wall_time), zone)
            if instant is not None:
                cleaned_data[name] = instant
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        if start is not None and end is not None and start >= end:
            self.add_error("end_date", "The end must be after the start.")
        return cleaned_data

    def _instant(self, name: str, wall_clock: datetime, zone: ZoneInfo) -> datetime | None:
        try:
            return exact_local_instant(wall_clock, zone)
        except UnclearLocalTime as unclear:
            self.add_error(f"{name}_time", str(unclear))
            return None


def _time_off_rows(practitioner: Practitioner, now: datetime) -> list[dict]:
    rows = []
    for time_off in upcoming_time_off(practitioner=practitioner, now=now):
        # Added in the admin without a location by someone who did not know the zone: UTC, named.
        zone = time_off_zone(location=time_off.location, practitioner=practitioner) or ZoneInfo("UTC")
        rows.append(
            {"time_off": time_off, "period": local_period(time_off.start, time_off.end, zone), "zone": zone.key}
        )
    return rows


@never_cache
@practitioner_required
@require_http_methods(["GET", "POST"])
def time_off_list(request: PractitionerRequest) -> HttpResponse:
    practitioner = request.practitioner
    prefetch_related_objects([practitioner], "locations")
    form = TimeOffForm(request.POST if request.method == "POST" else None, practitioner=practitioner)
    conflicts: list[str] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            time_off = add_time_off(
                practitioner=practitioner,
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                reason=form.cleaned_data["reason"],
                location=form.cleaned_data.get("location"),
                by=request.user,
            )
        except TimeOffOverlapsAppointments as error:
            form.add_error(None, "Patients are booked in this time. Ask reception to move them first:")
            conflicts = [
                f"{appointment.reference}: {appointment.local_start:%a %d %b %Y} "
                f"{staff_time(appointment.local_start, zone_name=True)}, {appointment.location.name}"
                for appointment in error.appointments
            ]
            status = 409
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            zone = time_off_zone(location=time_off.location, practitioner=practitioner)
            assert zone is not None  # the form read the times in it: the practitioner's one zone, or the location's
            messages.success(request, f"Time off added: {local_period(time_off.start, time_off.end, zone)}.")
            return redirect("schedule:time_off")
    context = {
        "form": form,
        "conflicts": conflicts,
        "rows": _time_off_rows(practitioner, timezone.now()),
        "zone": form.zone,
    }
    return render(request, "schedule/time_off.html", context, status=status)


@never_cache
@practitioner_required
@require_POST
def remove(request: PractitionerRequest, pk: int) -> HttpResponse:
    # Scoped lookup: another practitioner's time off (or a closure) is a 404, as if it did not exist.
    time_off = get_object_or_404(TimeOff, pk=pk, practitioner=request.practitioner)
    prefetch_related_objects([request.practitioner], "locations")
    zone = time_off_zone(location=time_off.location, practitioner=request.practitioner) or ZoneInfo("UTC")
    period = local_period(time_off.start, time_off.end, zone)
    try:
        remove_time_off(time_off=time_off, practitioner=request.practitioner, by=request.user)
    except BookingError as error:
        # Only when it went between the lookup and the lock: a second click, another tab.
        messages.error(request, error.message)
    else:
        messages.success(request, f"Time off removed: {period}. That time can be booked again.")
    return redirect("schedule:time_off")

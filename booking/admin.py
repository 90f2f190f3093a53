"""Schedules in the admin: working hours, time off in local time, and treatment series.

The appointments themselves, with the front desk's actions, are reception's (reception/admin.py).
"""

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.db import transaction
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from booking.availability import (
    EARLIEST_TYPED_DAY,
    LATEST_TYPED_DAY,
    YEAR_OUT_OF_RANGE,
    UnclearLocalTime,
    exact_local_instant,
)
from booking.models import Appointment, TimeOff, TreatmentSeries, WorkingHours, time_off_zone
from booking.selectors import (
    appointments_during_time_off,
    series_overview,
)
from booking.services import (
    lock_practitioner,
)
from clinic.admin_base import (
    AuditTrailAdmin,
    ModelAdminMixin,
    NamedAutocomplete,
    PhoneSearchMixin,
    ReadOnlyInline,
    SafeChangelistMixin,
)
from clinic.clock import staff_date_time, staff_datetime
from clinic.models import Location

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class BookedCount(TypedDict):
    booked_count: int  # the series' live appointments (TreatmentSeriesAdmin.get_queryset)


class AppointmentHistoryInline(ReadOnlyInline):
    """Every appointment of the patient, newest first. Read-only: bookings change through
    booking.services, from the appointment's own page."""

    model = Appointment
    fk_name = "patient"
    verbose_name = "appointment"
    verbose_name_plural = "appointment history"
    fields = ["reference_link", "starts_local", "service", "practitioner", "location", "status"]
    readonly_fields = flatten(fields)
    ordering = ["-start"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service", "practitioner", "location")

    @admin.display(description="reference")
    def reference_link(self, appointment: Appointment) -> str:
        url = reverse("admin:booking_appointment_change", args=[appointment.pk])
        return format_html('<a href="{}">{}</a>', url, appointment.reference)

    @admin.display(description="starts (local time)")
    def starts_local(self, appointment: Appointment) -> str:
        return f"{staff_date_time(appointment.local_start)} {appointment.location.timezone}"


class LocalDateHierarchyMixin(ModelAdminMixin):
    """date_hierarchy in local days, not UTC ones.

    Django groups the drill-down by days of the current time zone (UTC here), so a 19:30 New
    York appointment on 1 December would be listed under 2 December. The list runs in the zone
    of the location filtered on (`location__id__exact`), or of the one zone all active
    locations share; when they differ, the first active location's, and the page says so.
    """

    location_filter_parameter = "location__id__exact"

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)  # refused there, before any lookup
        zone, note = self._date_hierarchy_zone(request)
        with timezone.override(zone):
            response = super().changelist_view(request, {**(extra_context or {}), "date_hierarchy_note": note})
            # The drill-down is drawn while the template renders, after this returns: render
            # it here, inside the zone.
            if isinstance(response, TemplateResponse) and not response.is_rendered:
                response.render()
        return response

    def _date_hierarchy_zone(self, request) -> tuple[ZoneInfo, str | None]:
        """The zone whose days the drill-down shows, and a note naming it when zones differ."""
        locations = list(Location.objects.only("pk", "name", "timezone", "is_active", "display_order"))
        active = [location for location in locations if location.is_active] or locations
        if not active:
            return ZoneInfo("UTC"), None
        wanted = request.GET.get(self.location_filter_parameter, "")
        chosen = next((location for location in locations if str(location.pk) == wanted), None)
        shown = chosen or active[0]
        if len({location.timezone for location in active}) == 1:
            return shown.zone, None
        note = f"The dates above are days in {shown.timezone}, the time zone of {shown.name}."
        if chosen is None:
            note += " The locations are in different time zones: filter by location for another location's days."
        return shown.zone, note


class NamedAutocompleteMixin(ModelAdminMixin):
    """Autocomplete selects that have an accessible name while still empty (see NamedAutocomplete)."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = NamedAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using"), placeholder=f"Choose a {db_field.verbose_name}"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(WorkingHours)
class WorkingHoursAdmin(NamedAutocompleteMixin, AuditTrailAdmin):
    list_display = ["practitioner", "location", "weekday", "start_time", "end_time", "effective_from", "effective_to"]
    list_filter = ["location", "practitioner", "weekday"]
    list_select_related = ["practitioner", "location"]
    autocomplete_fields = ["practitioner", "location"]


# Time off ---------------------------------------------------------------------------------


class WallClockDateTimeField(forms.SplitDateTimeField):
    """A date and a time as typed, without a zone: the form decides which zone they are in."""

    def compress(self, data_list):
        if data_list and None not in data_list:
            return datetime.combine(*data_list)
        return None


def _wall_clock_widget(label: str):
    # Two inputs under one <label>, which names neither: each gets its own accessible name.
    return forms.SplitDateTimeWidget(
        date_attrs={"type": "date", "aria-label": f"{label} date"},
        time_attrs={"type": "time", "aria-label": f"{label} time"},
        date_format="%Y-%m-%d",
        time_format="%H:%M",
    )


# What the time off form binds to the model as typed; start and end it converts itself.
TIME_OFF_MODEL_FIELDS = ["practitioner", "location", "reason"]


class TimeOffForm(forms.ModelForm):
    """Receptionists type local times. They are read in the time off's location's zone, or,
    for a practitioner alone, in the zone of the locations they work at; when those are in
    different zones, the location must be chosen. Stored as UTC instants.

    start and end are the form's own fields, not the model's (see TimeOffAdmin.get_form): the
    model's are set from them only once a zone has made them instants, so a form that stops
    early (no zone yet) is not also told by the model that they "cannot be null"."""

    start = WallClockDateTimeField(
        label="Start", widget=_wall_clock_widget("Start"), help_text="Local time at the location."
    )
    end = WallClockDateTimeField(label="End", widget=_wall_clock_widget("End"), help_text="Local time at the location.")

    class Meta:
        model = TimeOff
        fields = TIME_OFF_MODEL_FIELDS
        help_texts = {
            "location": (
                "Alone: the whole location is closed. With a practitioner: they are away (everywhere), "
                "and the times are read in this location's time zone. Needed when the practitioner works "
                "in more than one time zone."
            ),
            "reason": "Seen by staff only. No patient details.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = time_off_zone(location=self.instance.location, practitioner=self.instance.practitioner)
        if self.instance.pk and zone is not None:
            for name in ("start", "end"):
                self.initial[name] = timezone.localtime(getattr(self.instance, name), zone).replace(tzinfo=None)

    def clean(self):
        cleaned_data = super().clean()
        assert cleaned_data is not None  # ModelForm.clean returns cleaned_data
        location, practitioner = cleaned_data.get("location"), cleaned_data.get("practitioner")
        # Typed times are wall-clock times until a zone is known; never let one reach the model.
        wall_clock = {name: cleaned_data.pop(name, None) for name in ("start", "end")}
        if location is None and practitioner is None:
            self.add_error("location", "Choose a practitioner who is away, a location that is closed, or both.")
            return cleaned_data
        zone = time_off_zone(location=location, practitioner=practitioner)
        if zone is None:
            self.add_error(
                "location",
                f"{practitioner} works in more than one time zone (or at no location yet): "
                "choose the location whose local time you typed.",
            )
            return cleaned_data
        for name, typed in wall_clock.items():
            if typed is not None and not EARLIEST_TYPED_DAY <= typed.date() <= LATEST_TYPED_DAY:
                self.add_error(name, YEAR_OUT_OF_RANGE)
                continue
            instant = self._instant(name, typed, zone) if typed is not None else None
            if instant is not None:
                cleaned_data[name] = instant
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        if start is not None and end is not None and start >= end:
            self.add_error("end", "The end must be after the start.")
        return cleaned_data

    def _instant(self, name: str, wall_clock: datetime, zone: ZoneInfo) -> datetime | None:
        try:
            return exact_local_instant(wall_clock, zone)
        except UnclearLocalTime as unclear:
            self.add_error(name, str(unclear))
            return None

    def save(self, commit=True):
        self.instance.start, self.instance.end = self.cleaned_data["start"], self.cleaned_data["end"]
        return super().save(commit)


@admin.register(TimeOff)
class TimeOffAdmin(LocalDateHierarchyMixin, NamedAutocompleteMixin, AuditTrailAdmin):
    form = TimeOffForm
    fields = ["practitioner", "location", "start", "end", "reason", "time_zone_used"]
    list_display = ["local_period", "practitioner", "location", "reason"]
    list_filter = ["location", "practitioner"]
    list_select_related = ["practitioner", "location"]
    autocomplete_fields = ["practitioner", "location"]
    date_hierarchy = "start"
    readonly_fields = ["time_zone_used"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The admin would bind every field shown to the model; start and end are the form's
        # own (typed wall-clock times), which it turns into the model's instants itself.
        kwargs["fields"] = TIME_OFF_MODEL_FIELDS
        return super().get_form(request, obj, change, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("practitioner__locations")

    def save_model(self, request, obj, form, change):
        """Saved under the practitioner's row lock, like bookings and add_time_off, so a booking
        cannot slip in while it is written. Unlike a practitioner's own time off, reception may
        cover booked patients (someone is ill today) and is then told whom to move."""
        with transaction.atomic():
            if obj.practitioner_id:
                lock_practitioner(obj.practitioner_id)
            super().save_model(request, obj, form, change)
            booked = list(appointments_during_time_off(obj))
        if booked:
            listed = ", ".join(f"{each.reference} ({staff_date_time(each.local_start, year=False)})" for each in booked)
            messages.warning(
                request,
                f"{len(booked)} booked appointment(s) fall in this time off and still stand; move or cancel: {listed}",
            )

    @admin.display(description="when (local time)", ordering="start")
    def local_period(self, time_off: TimeOff) -> str:
        zone = time_off_zone(location=time_off.location, practitioner=time_off.practitioner) or ZoneInfo("UTC")
        start, end = timezone.localtime(time_off.start, zone), timezone.localtime(time_off.end, zone)
        return f"{staff_date_time(start)} – {staff_date_time(end)} {zone.key}"

    @admin.display(description="times are in")
    def time_zone_used(self, time_off: TimeOff) -> str:
        zone = time_off_zone(location=time_off.location, practitioner=time_off.practitioner)
        if zone is not None:
            return zone.key
        if time_off.pk:
            return "UTC, as no single zone applies: choose a location, and type the times in its local time."
        return "The location's time zone, or the practitioner's when all their locations share one."


# Treatment series -----------------------------------------------------------------------------


class SeriesVisitInline(AppointmentHistoryInline):
    """Every visit booked in the series, cancelled ones too, in session order."""

    fk_name = "series"
    verbose_name = "visit"
    verbose_name_plural = "visits booked in this series"
    fields = ["series_session", "reference_link", "starts_local", "status"]
    readonly_fields = flatten(fields)
    ordering = ["series_session", "start"]


@admin.register(TreatmentSeries)
class TreatmentSeriesAdmin(SafeChangelistMixin, PhoneSearchMixin, admin.ModelAdmin):
    """What patients booked with "Book my follow-ups", session by session. Read-only: a series
    is made by booking.services.book_follow_ups, and its visits change from their own pages."""

    phone_search_field = "source_appointment__patient__phone"
    list_display = ["patient", "service", "practitioner", "interval_weeks", "sessions_booked", "created_on"]
    list_filter = ["interval_weeks", "location", "practitioner", "service"]
    list_select_related = ["source_appointment__patient", "service", "practitioner", "location"]
    search_fields = [
        "source_appointment__reference",
        "source_appointment__patient__first_name",
        "source_appointment__patient__last_name",
        "source_appointment__patient__email",
    ]
    search_help_text = "Reference of the appointment it was booked from, patient name, email or phone."
    inlines = [SeriesVisitInline]
    fields = [
        "patient_record",
        "booked_from",
        "service",
        "practitioner",
        "location",
        "interval_weeks",
        "sessions_booked",
        "sessions",
        "created",
    ]
    readonly_fields = flatten(fields)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "source_appointment__patient", "source_appointment__service", "service", "practitioner", "location"
            )
            .annotate(booked_count=Count("appointments", filter=Q(appointments__status__in=Appointment.LIVE_STATUSES)))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="patient", ordering="source_appointment__patient__last_name")
    def patient(self, series: TreatmentSeries) -> str:
        return str(series.source_appointment.patient)

    @admin.display(description="patient")
    def patient_record(self, series: TreatmentSeries) -> str:
        patient = series.source_appointment.patient
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:patients_patient_change", args=[patient.pk]), str(patient)
        )

    @admin.display(description="booked from")
    def booked_from(self, series: TreatmentSeries) -> str:
        source = series.source_appointment
        url = reverse("admin:booking_appointment_change", args=[source.pk])
        return format_html('<a href="{}">{}</a> ({})', url, source.reference, source.service.name)

    @admin.display(description="sessions booked", ordering="booked_count")
    def sessions_booked(self, series: "WithAnnotations[TreatmentSeries, BookedCount]") -> str:
        return f"{series.booked_count} of {series.sessions_requested}"

    @admin.display(description="created (local time)", ordering="created_at")
    def created(self, series: TreatmentSeries) -> str:
        return staff_datetime(series.created_at, series.location.zone)

    @admin.display(description="created (local time)", ordering="created_at")
    def created_on(self, series: TreatmentSeries) -> str:
        return staff_date_time(timezone.localtime(series.created_at, series.location.zone), zone_name=True)

    @admin.display(description="sessions asked for")
    def sessions(self, series: TreatmentSeries) -> str:
        zone = series.location.zone
        rows = []
        for session in series_overview(series, with_alternatives=False).sessions:
            asked = (
                f"{session.number}. {staff_date_time(timezone.localtime(session.wanted_start, zone), zone_name=True)}: "
            )
            if session.appointment is None:
                rows.append((asked, "", "", f"not booked. {session.not_booked_reason}"))
            else:
                visit = session.appointment
                url = reverse("admin:booking_appointment_change", args=[visit.pk])
                moved = "" if visit.start == session.wanted_start else f", moved to {staff_datetime(visit.start, zone)}"
                rows.append((asked, url, visit.reference, f" ({visit.get_status_display().lower()}{moved})"))
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li>{}<a href="{}">{}</a>{}</li>', rows),
        )

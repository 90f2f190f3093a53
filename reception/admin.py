"""The appointments in the admin, as the front desk works with them: the list (local times,
filters, search by a phone number as heard), the record (read-only, with its history), the
front-desk actions, and "Add appointment", which is Book for a caller.

Appointments are never edited as rows here: every change goes through booking.services.
"""

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from booking.admin import LocalDateHierarchyMixin
from booking.availability import local_instant
from booking.models import Appointment
from booking.selectors import with_new_patient_flag
from booking.services import BookingError, cancel_appointment, mark_arrived, mark_completed, mark_no_show
from clinic import clock
from clinic.admin_base import AuditTrailAdmin, PhoneSearchMixin
from clinic.clock import staff_datetime
from clinic.models import Location
from clinic.outbox import messages_about
from reception.forms import CancellationForm
from reception.phone_booking import book_by_phone_view
from reception.views import calendar_url_for

if TYPE_CHECKING:
    from booking.selectors import AppointmentWithNewPatientFlag


class LocalDayFilter(admin.SimpleListFilter):
    """Days as the receptionist means them: each appointment's own location's calendar."""

    title = "day (local time)"
    parameter_name = "day"
    # (first day, last day) relative to today; None is open-ended.
    RANGES = {
        "today": ("Today", 0, 0),
        "tomorrow": ("Tomorrow", 1, 1),
        "next_7_days": ("Next 7 days", 0, 6),
        "upcoming": ("From today on", 0, None),
        "past": ("Before today", None, -1),
    }

    def lookups(self, request, model_admin):
        return [(value, label) for value, (label, _first, _last) in self.RANGES.items()]

    @cached_property
    def _locations(self) -> list[Location]:
        # Read once per page: with facet counts shown, queryset() runs once per choice.
        return list(Location.objects.only("pk", "timezone"))

    def queryset(self, request, queryset):
        value = self.value()
        if value not in self.RANGES:
            return queryset
        _label, first, last = self.RANGES[value]
        now = timezone.now()
        in_range = Q(pk__in=[])
        # Locations are few; one condition each keeps the (location, start) index usable.
        for location in self._locations:
            today = timezone.localtime(now, location.zone).date()
            condition = Q(location=location)
            if first is not None:
                condition &= Q(start__gte=local_instant(today + timedelta(days=first), time(0), location.zone))
            if last is not None:
                condition &= Q(start__lt=local_instant(today + timedelta(days=last + 1), time(0), location.zone))
            in_range |= condition
        return queryset.filter(in_range)


class ReminderSentFilter(admin.SimpleListFilter):
    title = "reminder sent"
    parameter_name = "reminder_sent"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(reminder_sent_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(reminder_sent_at__isnull=True)
        return queryset


def _staff_message(error: BookingError) -> str:
    return error.message[:1].lower() + error.message[1:]


@admin.register(Appointment)
class AppointmentAdmin(LocalDateHierarchyMixin, PhoneSearchMixin, AuditTrailAdmin):
    """Read-only rows: bookings, moves, status changes and cancellations go through booking.services."""

    phone_search_field = "patient__phone"
    change_form_template = "reception/appointment_record.html"
    # Narrow enough for the admin's box beside its navigation: the zone is its abbreviation
    # (the filters name the location), and "New patient" is a badge beside the name.
    list_display = [
        "reference",
        "local_start",
        "patient_column",
        "practitioner",
        "location",
        "service",
        "status",
        "source",
        "reminder_was_sent",
    ]
    list_filter = [LocalDayFilter, "status", "source", ReminderSentFilter, "location", "practitioner", "service"]
    list_select_related = ["patient", "practitioner", "location", "service"]
    search_fields = ["reference", "patient__first_name", "patient__last_name", "patient__email", "patient__phone"]
    search_help_text = "Reference, patient name, email or phone (as you hear it, e.g. 614 555 0142)."
    date_hierarchy = "start"
    exclude = ["manage_token"]
    actions = ["mark_arrived_action", "mark_completed_action", "mark_no_show_action", "cancel_with_reason_action"]
    # The record: every time in the location's local time with the zone named; the UTC
    # columns themselves are not shown.
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "status",
                    "source",
                    "patient",
                    "practitioner",
                    "location",
                    "service",
                    "treatment_series",
                    "returning_patient_reason",
                ]
            },
        ),
        ("When (local time at the location)", {"fields": ["starts", "ends", "busy_until"]}),
        (
            "Record",
            {
                "fields": [
                    "consent",
                    "consent_given",
                    "cancellation_reason",
                    "cancelled",
                    "confirmation_sent",
                    "emails_to_the_patient",
                    "reminder_sent",
                    "aftercare_sent",
                    "booked",
                ]
            },
        ),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)

    def get_queryset(self, request):
        # Rows, the record and Appointment.__str__ (titles, breadcrumbs) read these: no query per row.
        appointments = (
            super()
            .get_queryset(request)
            .select_related("patient", "practitioner", "location", "service", "series", "follow_up_series")
        )
        return with_new_patient_flag(appointments)

    # Permissions: a record, changed only by actions --------------------------------------

    def has_change_permission(self, request, obj=None):
        # With a row, "change" would mean saving the form; the page is the record, so it is
        # shown as view-only (no Save button; a POST is refused). Without a row it is the
        # permission the front-desk actions need.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled and no-show are states; nothing is deleted

    def add_view(self, request, form_url="", extra_context=None):
        # "Add appointment" is booking for a caller: through book_appointment, never a raw row.
        if not self.has_add_permission(request):
            raise PermissionDenied
        return book_by_phone_view(request, model_admin=self)

    # Columns ------------------------------------------------------------------------------

    @admin.display(description="starts (local time)", ordering="start")
    def local_start(self, appointment: Appointment) -> str:
        local = appointment.local_start
        return f"{local:%a %d %b %Y} {clock.staff_time(local, zone_name=True)}"

    @admin.display(description="patient", ordering="patient__last_name")
    def patient_column(self, appointment: "AppointmentWithNewPatientFlag") -> str:
        if not appointment.is_new_patient:
            return str(appointment.patient)
        return format_html('{} <strong class="new-patient">{}</strong>', appointment.patient, "New patient")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The record's way to the front desk's own pages for it: the calendar and a move.
        appointment = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_move": self.has_change_permission(request),
            # The appointment's own local day: a 20:30 New York visit is not on the next (UTC) day.
            "calendar_url": calendar_url_for(appointment) if appointment else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="reminder sent", boolean=True, ordering="reminder_sent_at")
    def reminder_was_sent(self, appointment: Appointment) -> bool:
        return appointment.reminder_sent_at is not None

    @admin.display(description="treatment series")
    def treatment_series(self, appointment: Appointment) -> str:
        """The series this visit is part of, and the one booked from it (both read with the row)."""
        lines = []
        if appointment.series is not None:
            lines.append(
                (
                    f"Visit {appointment.series_session} of {appointment.series.sessions_requested} of ",
                    reverse("admin:booking_treatmentseries_change", args=[appointment.series_id]),
                    "a treatment series",
                )
            )
        if hasattr(appointment, "follow_up_series"):
            lines.append(
                (
                    "Follow-ups booked from this appointment: ",
                    reverse("admin:booking_treatmentseries_change", args=[appointment.follow_up_series.pk]),
                    str(appointment.follow_up_series),
                )
            )
        if not lines:
            return self.get_empty_value_display()
        return format_html_join("", '<p>{}<a href="{}">{}</a></p>', lines)

    # The record's times ----------------------------------------------------------------------

    def _record_time(self, appointment: Appointment, instant: datetime | None) -> str:
        if instant is None:
            return self.get_empty_value_display()
        return staff_datetime(instant, appointment.location.zone)

    @admin.display(description="start")
    def starts(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.start)

    @admin.display(description="end")
    def ends(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.end)

    @admin.display(description="practitioner busy until")
    def busy_until(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.blocked_until)

    @admin.display(description="consent given at")
    def consent_given(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.consented_at)

    @admin.display(description="cancelled at")
    def cancelled(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.cancelled_at)

    @admin.display(description="confirmation email sent at")
    def confirmation_sent(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.confirmation_sent_at)

    @admin.display(description="emails to the patient")
    def emails_to_the_patient(self, appointment: Appointment) -> str:
        """Each email about this visit and how it ended: "Confirmation email: not delivered (the
        mail server refused it)" tells reception to call."""
        lines = [
            (
                message.purpose,
                message.get_state_display().lower(),
                message.last_error if message.state != "sent" else "",
            )
            for message in messages_about(appointment)
        ]
        if not lines:
            return self.get_empty_value_display()
        return format_html_join("", "<p>{}: <strong>{}</strong> {}</p>", lines)

    @admin.display(description="reminder email sent at")
    def reminder_sent(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.reminder_sent_at)

    @admin.display(description="aftercare email sent at")
    def aftercare_sent(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.aftercare_sent_at)

    @admin.display(description="booked at")
    def booked(self, appointment: Appointment) -> str:
        return self._record_time(appointment, appointment.created_at)

    # Search -------------------------------------------------------------------------------

    # Front-desk actions -------------------------------------------------------------------

    @admin.action(description="Mark arrived", permissions=["change"])
    def mark_arrived_action(self, request, queryset):
        self._change_each(request, queryset, mark_arrived, done="Marked arrived")

    @admin.action(description="Mark completed", permissions=["change"])
    def mark_completed_action(self, request, queryset):
        self._change_each(request, queryset, mark_completed, done="Marked completed")

    @admin.action(description="Mark no-show", permissions=["change"])
    def mark_no_show_action(self, request, queryset):
        self._change_each(request, queryset, mark_no_show, done="Marked no-show")

    @admin.action(description="Cancel with a reason…", permissions=["change"])
    def cancel_with_reason_action(self, request, queryset):
        """Two steps, as the admin's delete: a page asking for the reason, then the cancellation."""
        appointments = list(queryset.select_related("patient", "location", "service").order_by("start", "pk"))
        form = CancellationForm(request.POST if "confirm_cancellation" in request.POST else None)
        if form.is_valid():
            reason, share_reason = form.cleaned_data["reason"], form.cleaned_data["share_reason"]
            self._change_each(
                request,
                appointments,
                lambda *, appointment, by: cancel_appointment(
                    appointment=appointment, reason=reason, actor=by, share_reason=share_reason
                ),
                done="Cancelled",
            )
            return None  # back to the list, with the messages
        context = {
            **self.admin_site.each_context(request),
            "title": "Cancel appointments",
            "opts": self.opts,
            "appointments": appointments,
            "form": form,
            "action_name": "cancel_with_reason_action",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        return TemplateResponse(request, "admin/booking/appointment/cancel_selected.html", context)

    def _change_each(self, request, appointments, change, *, done: str) -> None:
        """Each appointment in its own transaction: one refusal does not undo the others."""
        changed = []
        for appointment in sorted(appointments, key=lambda item: (item.start, item.pk)):
            try:
                change(appointment=appointment, by=request.user)
            except BookingError as error:
                self.message_user(request, f"{appointment.reference}: {_staff_message(error)}", messages.ERROR)
            else:
                changed.append(appointment.reference)
        if changed:
            self.message_user(request, f"{done}: {', '.join(changed)}.", messages.SUCCESS)

    def get_urls(self):
        # The day sheet's old address (bookmarks, the admin's history): the calendar now.
        old_day_sheet = path(
            "day-sheet/",
            self.admin_site.admin_view(
                lambda request: redirect(f"{reverse('reception:calendar')}?{request.GET.urlencode()}")
            ),
            name="booking_appointment_day_sheet",
        )
        return [old_day_sheet, *super().get_urls()]

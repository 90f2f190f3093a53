from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from booking.models import Appointment, TimeOff, WorkingHours


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "location", "weekday", "start_time", "end_time", "effective_from", "effective_to"]
    list_filter = ["location", "practitioner", "weekday"]
    list_select_related = ["practitioner", "location"]
    autocomplete_fields = ["practitioner", "location"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["start", "end", "practitioner", "location", "reason"]
    list_filter = ["location", "practitioner"]
    list_select_related = ["practitioner", "location"]
    autocomplete_fields = ["practitioner", "location"]
    date_hierarchy = "start"


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    """Read-only here: bookings, moves and cancellations go through booking.services."""

    list_display = ["reference", "local_start", "patient", "practitioner", "location", "service", "status", "source"]
    list_filter = ["status", "source", "location", "practitioner", "service"]
    list_select_related = ["patient", "practitioner", "location", "service"]
    search_fields = ["reference", "patient__first_name", "patient__last_name", "patient__email", "patient__phone"]
    date_hierarchy = "start"
    exclude = ["manage_token"]
    readonly_fields = [
        "reference",
        "patient",
        "practitioner",
        "location",
        "service",
        "start",
        "end",
        "blocked_until",
        "status",
        "source",
        "consent",
        "consented_at",
        "cancellation_reason",
        "cancelled_at",
        "confirmation_sent_at",
        "created_at",
    ]

    @admin.display(description="starts (local time)", ordering="start")
    def local_start(self, appointment: Appointment) -> str:
        return f"{appointment.local_start:%a %d %b %Y %H:%M} {appointment.location.timezone}"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled and no-show are states; nothing is deleted

"""Reception's view of the waiting list: who is waiting for what, and what they were offered.

Read-only but for one action, taking someone off the list when they ask by phone
(waitlist.services.leave_waitlist). Entries are never deleted: the history keeps each change.
"""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.db.models import Count
from django.utils import timezone

from clinic.admin_base import AuditTrailAdmin, PhoneSearchMixin, ReadOnlyInline
from clinic.clock import staff_date_time
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.services import leave_waitlist

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class OfferCount(TypedDict):
    offer_count: int  # WaitlistEntryAdmin.get_queryset


class OfferInline(ReadOnlyInline):
    model = WaitlistOffer
    fk_name = "entry"
    fields = ["offered_time", "practitioner", "emailed", "outcome"]
    readonly_fields = flatten(fields)
    verbose_name_plural = "times offered"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location", "practitioner", "booked_appointment")

    @admin.display(description="time")
    def offered_time(self, offer: WaitlistOffer) -> str:
        return staff_date_time(offer.local_start, zone_name=True)

    @admin.display(description="emailed")
    def emailed(self, offer: WaitlistOffer) -> str:
        return _local(offer.sent_at, offer) if offer.sent_at else "not yet"

    @admin.display(description="outcome")
    def outcome(self, offer: WaitlistOffer) -> str:
        if offer.booked_appointment is not None:
            return f"Booked: {offer.booked_appointment.reference}"
        if offer.gone_at is not None:
            return f"Taken by someone else (told {_local(offer.gone_at, offer)})"
        if offer.start <= timezone.now():
            return "Not taken up"
        return "Open"


def _local(instant, offer: WaitlistOffer) -> str:
    return staff_date_time(timezone.localtime(instant, offer.location.zone), zone_name=True)


class WaitingFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting now"), ("ended", "Range ended"), ("booked", "Booked"), ("left", "Left")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "waiting":
            return queryset.waiting(now)
        if self.value() == "ended":
            return queryset.filter(status=WaitlistEntry.Status.WAITING, expires_at__lte=now)
        if self.value() in {"booked", "left"}:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(PhoneSearchMixin, AuditTrailAdmin):
    list_display = ["name", "phone", "service", "location", "with_whom", "days", "times", "state", "offer_count"]
    list_select_related = ["service", "location", "practitioner"]
    list_filter = [WaitingFilter, "location", "service"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    list_per_page = 100
    actions = ["take_off_the_list"]
    inlines = [OfferInline]
    fields = [
        "first_name",
        "last_name",
        "email",
        "phone",
        "service",
        "location",
        "with_whom",
        "days",
        "times",
        "state",
        "joined",
        "left_at",
        "joined_email_sent_at",
    ]
    readonly_fields = flatten(fields)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offer_count=Count("offers"))

    def has_add_permission(self, request):
        return False  # patients join from the booking pages, with their own link to leave

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="name", ordering="last_name")
    def name(self, entry: WaitlistEntry) -> str:
        return f"{entry.first_name} {entry.last_name}"

    @admin.display(description="with")
    def with_whom(self, entry: WaitlistEntry) -> str:
        return entry.practitioner.name if entry.practitioner else "Anyone"

    @admin.display(description="days", ordering="first_day")
    def days(self, entry: WaitlistEntry) -> str:
        return f"{entry.first_day:%a %d %b} – {entry.last_day:%a %d %b %Y}"

    @admin.display(description="times of day")
    def times(self, entry: WaitlistEntry) -> str:
        wanted = [
            word
            for word, on in [
                ("mornings", entry.mornings),
                ("afternoons", entry.afternoons),
                ("evenings", entry.evenings),
            ]
            if on
        ]
        return ", ".join(wanted)

    @admin.display(description="state")
    def state(self, entry: WaitlistEntry) -> str:
        if entry.status == WaitlistEntry.Status.WAITING and entry.is_expired:
            return "Range ended"
        return entry.get_status_display()

    @admin.display(description="joined", ordering="created_at")
    def joined(self, entry: WaitlistEntry) -> str:
        return staff_date_time(timezone.localtime(entry.created_at, entry.location.zone), zone_name=True)

    @admin.display(description="offers", ordering="offer_count")
    def offer_count(self, entry: "WithAnnotations[WaitlistEntry, OfferCount]") -> int:
        return entry.offer_count

    @admin.action(description="Take off the waiting list (the patient asked)", permissions=["change"])
    def take_off_the_list(self, request, queryset):
        taken_off = 0
        for entry in queryset.filter(status=WaitlistEntry.Status.WAITING):
            leave_waitlist(entry=entry)
            taken_off += 1
        messages.success(request, f"Took {taken_off} off the waiting list; they get no more offers.")

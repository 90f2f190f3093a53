from django.contrib import admin, messages
from django.contrib.admin.utils import flatten
from django.utils import timezone

from clinic.clock import staff_datetime
from clinic.models import AccountLockout, Condition, Location, Practitioner, PractitionerService, Service
from clinic.staff_auth import clinic_zone, unlock_account


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "timezone", "is_by_phone", "is_active"]
    list_filter = ["is_active", "is_by_phone", "timezone"]
    search_fields = ["name", "address", "phone"]
    prepopulated_fields = {"slug": ["name"]}


class QualifiedServiceInline(admin.TabularInline):
    model = PractitionerService
    extra = 1
    autocomplete_fields = ["service"]
    verbose_name = "qualified service"
    verbose_name_plural = "services this practitioner is qualified for"


class QualifiedPractitionerInline(admin.TabularInline):
    model = PractitionerService
    extra = 1
    autocomplete_fields = ["practitioner"]
    verbose_name = "qualified practitioner"
    verbose_name_plural = "practitioners qualified for this service"


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "credentials", "location_names", "is_active"]
    list_filter = ["is_active", "locations", "services"]
    search_fields = ["name", "title", "credentials"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["locations"]
    autocomplete_fields = ["user"]
    inlines = [QualifiedServiceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("locations")

    def get_readonly_fields(self, request, obj=None):
        # Linking logins is account administration, which reception does not do.
        return [] if request.user.is_superuser else ["user"]

    @admin.display(description="locations")
    def location_names(self, practitioner: Practitioner) -> str:
        return ", ".join(location.name for location in practitioner.locations.all())


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "duration_minutes",
        "buffer_after_minutes",
        "price",
        "who_can_book",
        "follow_up_service",
        "is_active",
    ]
    list_select_related = ["follow_up_service"]
    list_filter = ["is_active", "kind", "who_can_book"]
    search_fields = ["name", "short_description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [QualifiedPractitionerInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "short_description", "is_active", "display_order"]}),
        (
            "Booking",
            {"fields": ["duration_minutes", "buffer_after_minutes", "price", "who_can_book", "follow_up_service"]},
        ),
        (
            "What patients read",
            {
                "fields": [
                    "what_to_expect",
                    "session_guidance",
                    "side_effects",
                    "before_visit_advice",
                    "after_visit_advice",
                    "not_suitable_for",
                ]
            },
        ),
    ]


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["name", "summary", "is_active"]
    list_filter = ["is_active", "related_services"]
    search_fields = ["name", "summary", "body"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["related_services"]


class InForceFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("in_force", "Paused now"), ("unlocked", "Unlocked by staff"), ("ended", "Ended by itself")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "in_force":
            return queryset.in_force(now=now)
        if self.value() == "unlocked":
            return queryset.filter(unlocked_at__isnull=False)
        if self.value() == "ended":
            return queryset.filter(unlocked_at__isnull=True, locked_until__lte=now)
        return queryset


@admin.register(AccountLockout)
class AccountLockoutAdmin(admin.ModelAdmin):
    """Logins paused by the per-account ceiling (clinic/staff_auth.py). Reception unlocks them
    for a person who calls; nothing here is edited or deleted."""

    list_display = ["username", "failures", "paused_at", "paused_until", "state", "notified_at"]
    list_filter = [InForceFilter]
    search_fields = ["username"]
    list_select_related = ["unlocked_by"]
    actions = ["unlock"]
    fields = ["username", "failures", "paused_at", "paused_until", "state", "notified_at"]
    readonly_fields = flatten(fields)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="paused at", ordering="locked_at")
    def paused_at(self, lockout: AccountLockout) -> str:
        return staff_datetime(lockout.locked_at, clinic_zone())

    @admin.display(description="paused until", ordering="locked_until")
    def paused_until(self, lockout: AccountLockout) -> str:
        return staff_datetime(lockout.locked_until, clinic_zone())

    @admin.display(description="state")
    def state(self, lockout: AccountLockout) -> str:
        if lockout.unlocked_at:
            by = lockout.unlocked_by.get_username() if lockout.unlocked_by else "staff"
            return f"Unlocked by {by} at {staff_datetime(lockout.unlocked_at, clinic_zone())}"
        return "Paused now" if lockout.locked_until > timezone.now() else "Ended by itself"

    @admin.action(description="Unlock now (the person asked, and you know it is them)", permissions=["change"])
    def unlock(self, request, queryset):
        unlocked = 0
        for lockout in queryset:
            if unlock_account(lockout, actor=request.user):
                self.log_change(request, lockout, "Unlocked")
                unlocked += 1
        messages.success(request, f"Unlocked {unlocked} login(s); the next right password gets in.")

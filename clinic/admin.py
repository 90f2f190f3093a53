from django.contrib import admin

from clinic.models import Condition, Location, Practitioner, PractitionerService, Service


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

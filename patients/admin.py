from django.contrib import admin

from patients.models import ConsentText, Patient


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "email", "phone", "date_of_birth", "created_at"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    readonly_fields = ["created_at", "updated_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # appointments keep their patient; anonymising is a separate, audited action


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["version", "published_at"]

    def get_readonly_fields(self, request, obj=None):
        # A version patients agreed to is never edited: publish a new one instead.
        return ["version", "body", "published_at"] if obj else []

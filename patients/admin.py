from django.contrib import admin

from patients.models import ConsentText

# The patient record's own admin page (its appointments, merging, export, anonymising) is in
# privacy/admin.py: it shows every app's rows.


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["version", "published_at"]

    def get_readonly_fields(self, request, obj=None):
        # A version patients agreed to is never edited: publish a new one instead.
        return ["version", "body", "published_at"] if obj else []

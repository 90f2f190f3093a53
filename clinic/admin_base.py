"""What the receptionist's admin pages have in common: read-only audit trails and
inlines, and finding a person by a phone number typed the way it was heard."""

import re

import phonenumbers
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from simple_history.admin import SimpleHistoryAdmin

# What a person types for a phone number: digits, spaces, brackets, dots, dashes, a leading +.
PHONE_LIKE = re.compile(r"^[\d\s().+\-/]+$")
MIN_PHONE_DIGITS = 4  # "0142": the last four digits someone reads out


def phone_number_match(search_term: str, field: str = "phone") -> Q | None:
    """A filter on `field` finding the number typed, however it was typed:
    "614 555 0142", "(614) 555-0142", "+1 614-555-0142" all find +16145550142.

    Numbers are stored in E.164, so the typed digits are looked for inside the stored number,
    and a complete national number (with a trunk prefix such as the UK's 0, which E.164 drops)
    is also parsed in the clinic's default region. None when the term is not a phone number.
    """
    term = search_term.strip()
    digits = re.sub(r"\D", "", term)
    if not PHONE_LIKE.match(term) or len(digits) < MIN_PHONE_DIGITS:
        return None
    match = Q(**{f"{field}__contains": digits})
    try:
        number = phonenumbers.parse(term, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return match
    if phonenumbers.is_possible_number(number):
        match |= Q(**{field: phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)})
    return match


class PhoneSearchMixin:
    """Adds phone-number matching (see phone_number_match) to a ModelAdmin's search box."""

    phone_search_field = "phone"

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = phone_number_match(search_term, self.phone_search_field)
        if match is not None:
            found |= queryset.filter(match)
        return found, may_have_duplicates


class AuditTrailAdmin(SimpleHistoryAdmin):
    """History with actor and time, shown read-only.

    simple-history's version page saves a POSTed old version back as the current row, even
    with SIMPLE_HISTORY_REVERT_DISABLED (that only hides the button). A revert would skip the
    services (the booking locks, a merge's moved rows), so the page answers GET only.
    """

    def has_change_history_permission(self, request, obj=None):
        return False

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent for the record; written elsewhere, through the services."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

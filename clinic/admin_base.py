"""What the receptionist's admin pages have in common: read-only audit trails and
inlines, and finding a person by a phone number typed the way it was heard."""

import re
from typing import TYPE_CHECKING

import phonenumbers
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

# What a person types for a phone number: digits, spaces, brackets, dots, dashes, a leading +.
PHONE_LIKE = re.compile(r"^[\d\s().+\-/]+$")
MIN_PHONE_DIGITS = 4  # "0142": the last four digits someone reads out

if TYPE_CHECKING:
    # What the mixins here and in the apps are mixed into: a ModelAdmin, whose methods they extend.
    ModelAdminMixin = admin.ModelAdmin
else:
    ModelAdminMixin = object


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


class PhoneSearchMixin(ModelAdminMixin):
    """Adds phone-number matching (see phone_number_match) to a ModelAdmin's search box."""

    phone_search_field = "phone"

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL text cannot hold NUL: drop it rather than fail the list or the autocomplete.
        search_term = search_term.replace("\x00", "")
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = phone_number_match(search_term, self.phone_search_field)
        if match is not None:
            found |= queryset.filter(match)
        return found, may_have_duplicates


def _is_row_id(value: str) -> bool:
    return value.isascii() and value.isdecimal() and len(value) <= 18  # fits a bigint


class SafeChangelistMixin(ModelAdminMixin):
    """A list that answers odd input with a message rather than a 500."""

    def changelist_view(self, request, extra_context=None):
        # Filters with NUL (PostgreSQL text cannot hold it), selected rows that are not ids, and
        # a date drill-down past year 9999 in a local zone would each raise deep in the admin.
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME) if request.method == "POST" else []
        unusable = any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())
        if unusable or not all(_is_row_id(each) for each in selected):
            return self._list_with_message(request)
        try:
            return super().changelist_view(request, extra_context)
        except OverflowError:
            return self._list_with_message(request)

    def _list_with_message(self, request):
        messages.error(request, "That filter or selection could not be used; the full list is shown.")
        return HttpResponseRedirect(request.path)


class AuditTrailAdmin(SafeChangelistMixin, SimpleHistoryAdmin):
    """History with actor and time, shown read-only, and a list that answers odd input
    with a message rather than a 500 (SafeChangelistMixin).

    simple-history's version page saves a POSTed old version back as the current row, even
    with SIMPLE_HISTORY_REVERT_DISABLED (that only hides the button). A revert would skip the
    services (the booking locks, a merge's moved rows), so the page answers GET only. Its
    pages also look the row up before asking for permission: a "not found" for a missing id
    but "forbidden" for an existing one would tell anyone which ids exist, so the permission
    is checked first.
    """

    def has_change_history_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        self._check_history_request(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        self._check_history_request(request, object_id, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def _check_history_request(self, request, *ids: str) -> None:
        if not self.has_view_history_or_change_history_permission(request):
            raise PermissionDenied
        if not all(_is_row_id(str(each)) for each in ids):
            raise Http404


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent for the record; written elsewhere, through the services.
    Its template has no add/remove controls and no per-row caption (which would be a UTC time)."""

    template = "admin/read_only_inline.html"
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NamedAutocomplete(AutocompleteSelect):
    """The admin's search-as-you-type select, with a placeholder. select2 names its box by the
    text shown in it, so an empty one has no accessible name at all (axe: aria-input-field-name);
    Django sets the placeholder to "" whatever the widget's attrs say."""

    def __init__(self, field, admin_site, *, placeholder: str, **kwargs):
        super().__init__(field, admin_site, **kwargs)
        self.placeholder = placeholder

    def build_attrs(self, base_attrs, extra_attrs=None):
        return {**super().build_attrs(base_attrs, extra_attrs), "data-placeholder": self.placeholder}

    @property
    def media(self):
        return super().media + forms.Media(js=["clinic/autocomplete-names.js"])

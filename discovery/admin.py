"""Reception's call-back list: who is waiting, since when, and what has been tried.

Every change of status goes through discovery.services (log a call, convert, close);
the history of each request is read-only. Nothing is deleted.
"""

from typing import TYPE_CHECKING, TypedDict
from zoneinfo import ZoneInfo

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten, unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Value
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.timesince import timesince

from clinic.admin_base import AuditTrailAdmin, PhoneSearchMixin, ReadOnlyInline
from clinic.clock import staff_date_time
from discovery.forms import CallAttemptForm, ConvertToPatientForm
from discovery.models import CallAttempt, DiscoveryCallRequest
from discovery.selectors import (
    call_back_zone,
    caller_window_for_staff,
    is_overdue,
    waiting_since,
    with_waiting_since,
)
from discovery.services import DiscoveryCallError, close_request, convert_to_patient, log_call_attempt

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

Status = DiscoveryCallRequest.Status


class AttemptCounts(TypedDict):
    # DiscoveryCallRequestAdmin.get_queryset
    attempt_count: int
    unanswered_count: int


def _in_call_back_zone(instant, row) -> str:
    """A moment on the call-back clock (the Log-a-call page's), with the zone named:
    reception reads every time of a request on one clock, whatever the server's zone.

    The zone is read once per page and carried on the row as `call_back_timezone`; a row
    that came another way (the history's version page) reads it itself."""
    if instant is None:
        return "—"
    zone_key = getattr(row, "call_back_timezone", None) or call_back_zone().key
    return f"{staff_date_time(timezone.localtime(instant, ZoneInfo(zone_key)))} {zone_key}"


class CallAttemptInline(ReadOnlyInline):
    """Past calls: a new one is logged with "Log a call attempt"."""

    model = CallAttempt
    fields = ["attempted_at_local", "outcome", "note", "by"]
    readonly_fields = flatten(fields)
    verbose_name_plural = "call attempts"
    # Django's tabular template captions each row with its __str__, a UTC time; this one
    # shows only the columns (local times), and nothing that looks removable.

    def get_queryset(self, request):
        # The zone is read once for all the rows, and rides along on each of them.
        zone = call_back_zone()
        return super().get_queryset(request).select_related("by").annotate(call_back_timezone=Value(zone.key))

    @admin.display(description="when")
    def attempted_at_local(self, attempt: CallAttempt) -> str:
        return _in_call_back_zone(attempt.attempted_at, attempt)


@admin.register(DiscoveryCallRequest)
class DiscoveryCallRequestAdmin(PhoneSearchMixin, AuditTrailAdmin):
    list_filter = ["status", "best_time", "heard_about", "created_at"]
    search_fields = ["reference", "name", "email", "phone"]
    date_hierarchy = "created_at"
    list_per_page = 100
    actions = ["mark_not_a_fit", "mark_closed"]
    inlines = [CallAttemptInline]
    change_form_template = "admin/discovery/discoverycallrequest/change_form.html"
    fieldsets = [
        ("Contact", {"fields": ["reference", "status", "name", "phone", "email", "best_time", "when_to_call"]}),
        ("What they told us", {"fields": ["conditions", "concern", "heard_about", "heard_about_other"]}),
        ("Outcome", {"fields": ["patient", "appointment"]}),
        (
            "Record",
            {
                "fields": [
                    "created_local",
                    "consent_to_contact",
                    "consented_local",
                    "acknowledgement_sent_local",
                    "clinic_notified_local",
                    "repeat_of",
                    "asked_again",
                ]
            },
        ),
    ]
    # Contact details can be corrected; what the person wrote and the workflow fields cannot.
    readonly_fields = [
        "reference",
        "status",
        "conditions",
        "concern",
        "heard_about",
        "heard_about_other",
        "patient",
        "appointment",
        "created_local",
        "consent_to_contact",
        "consented_local",
        "acknowledgement_sent_local",
        "clinic_notified_local",
        "repeat_of",
        "asked_again",
        "when_to_call",
    ]

    class Media:
        css = {"all": ["discovery/admin.css"]}

    def get_queryset(self, request):
        return with_waiting_since(
            super()
            .get_queryset(request)
            .annotate(
                attempt_count=Count("attempts"),
                unanswered_count=Count("attempts", filter=~Q(attempts__outcome=CallAttempt.Outcome.REACHED)),
            )
        )

    @admin.display(description="when to call")
    def when_to_call(self, call_request) -> str:
        """The caller's window on their clock and on the clinic's: "12:00 PM–5:00 PM Calgary
        time (2:00 PM–7:00 PM New York time)"."""
        return caller_window_for_staff(call_request)

    def get_object(self, request, object_id, from_field=None):
        call_request = super().get_object(request, object_id, from_field)
        if call_request is not None:
            call_request.call_back_timezone = call_back_zone().key
        return call_request

    # The record's times, on the call-back clock with the zone named (see _in_call_back_zone).

    @admin.display(description="created")
    def created_local(self, call_request: DiscoveryCallRequest) -> str:
        return _in_call_back_zone(call_request.created_at, call_request)

    @admin.display(description="consented at")
    def consented_local(self, call_request: DiscoveryCallRequest) -> str:
        return _in_call_back_zone(call_request.consented_at, call_request)

    @admin.display(description="acknowledgement sent at")
    def acknowledgement_sent_local(self, call_request: DiscoveryCallRequest) -> str:
        return _in_call_back_zone(call_request.acknowledgement_sent_at, call_request)

    @admin.display(description="clinic notified at")
    def clinic_notified_local(self, call_request: DiscoveryCallRequest) -> str:
        return _in_call_back_zone(call_request.clinic_notified_at, call_request)

    @admin.display(description="asked again")
    def asked_again(self, call_request: DiscoveryCallRequest) -> str:
        """The same number's later requests within 24 hours, kept with this one."""
        repeats = [
            f"{repeat.reference} at {_in_call_back_zone(repeat.created_at, call_request)}"
            + (f" (email {repeat.email})" if repeat.email.lower() != call_request.email.lower() else "")
            for repeat in call_request.repeats.order_by("created_at")
        ]
        return "; ".join(repeats) or "—"

    def get_list_display(self, request):
        # The zone and the clock are read once per page, not once per row.
        zone, now = call_back_zone(), timezone.now()

        @admin.display(description="waiting", ordering="waiting_since")
        def waiting(call_request: DiscoveryCallRequest) -> str:
            # How long reception's next step has waited: since the request came in, or
            # since the last call about it (is_overdue's clock). Final requests wait for nothing.
            if call_request.status not in DiscoveryCallRequest.OPEN_STATUSES:
                return "—"
            age = timesince(waiting_since(call_request), now, depth=1)
            if call_request.status != Status.NEW:
                age = f"{age} since last call"
            if is_overdue(call_request, now=now, zone=zone):
                return format_html('<span class="discovery-overdue">Overdue</span> {}', age)
            return age

        return ["reference", "name", "phone", "best_time", "status", waiting, "attempts_column", "work_links"]

    @admin.display(description="calls", ordering="attempt_count")
    def attempts_column(self, call_request: "WithAnnotations[DiscoveryCallRequest, AttemptCounts]") -> str:
        if not call_request.attempt_count:
            return "none yet"
        return f"{call_request.attempt_count} ({call_request.unanswered_count} unanswered)"

    @admin.display(description="")
    def work_links(self, call_request: DiscoveryCallRequest) -> str:
        if call_request.status not in DiscoveryCallRequest.OPEN_STATUSES:
            return ""
        return format_html(
            '<a href="{}">Log a call</a> · <a href="{}">Convert</a>',
            reverse("admin:discovery_discoverycallrequest_log_call", args=[call_request.pk]),
            reverse("admin:discovery_discoverycallrequest_convert", args=[call_request.pk]),
        )

    def has_add_permission(self, request):
        # Requests come from the public page and the API; a caller on the phone is booked directly.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # Actions.

    def _close_selected(self, request, queryset, status: str) -> None:
        closed = 0
        for call_request in queryset:
            try:
                close_request(call_request=call_request, status=status, by=request.user)
            except DiscoveryCallError as error:
                self.message_user(request, error.message, messages.WARNING)
            else:
                closed += 1
        if closed:
            label = Status(status).label.lower()
            self.message_user(request, f"{closed} request(s) marked {label}.", messages.SUCCESS)

    @admin.action(description="Mark selected requests not a fit", permissions=["change"])
    def mark_not_a_fit(self, request, queryset):
        self._close_selected(request, queryset, Status.NOT_A_FIT)

    @admin.action(description="Close selected requests", permissions=["change"])
    def mark_closed(self, request, queryset):
        self._close_selected(request, queryset, Status.CLOSED)

    # Pages for working on one request.

    def get_urls(self):
        return [
            path(
                "<path:object_id>/log-call/",
                self.admin_site.admin_view(self.log_call_view),
                name="discovery_discoverycallrequest_log_call",
            ),
            path(
                "<path:object_id>/convert/",
                self.admin_site.admin_view(self.convert_view),
                name="discovery_discoverycallrequest_convert",
            ),
            *super().get_urls(),
        ]

    def _request_to_work_on(self, request: HttpRequest, object_id: str, *, also_needs: str) -> DiscoveryCallRequest:
        call_request = self.get_object(request, unquote(object_id))
        if call_request is None:
            raise Http404("No such discovery-call request.")
        if not (self.has_change_permission(request, call_request) and request.user.has_perm(also_needs)):
            raise PermissionDenied
        return call_request

    def _page(self, request, call_request, *, title: str, form, template: str) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": call_request,
            "title": title,
            "form": form,
            # Laid out by the admin's own fieldset include, aligned like every change form.
            "adminform": helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}, model_admin=self),
            "attempts": call_request.attempts.select_related("by"),
            "call_back_zone": call_back_zone(),
            "when_to_call": caller_window_for_staff(call_request),
            "change_url": reverse("admin:discovery_discoverycallrequest_change", args=[call_request.pk]),
        }
        return TemplateResponse(request, f"admin/discovery/discoverycallrequest/{template}", context)

    def log_call_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        call_request = self._request_to_work_on(request, object_id, also_needs="discovery.add_callattempt")
        form = CallAttemptForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                log_call_attempt(
                    call_request=call_request,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                )
            except DiscoveryCallError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    f"Call logged. {call_request.reference} is now {call_request.get_status_display().lower()}.",
                    messages.SUCCESS,
                )
                return redirect("admin:discovery_discoverycallrequest_change", call_request.pk)
        return self._page(
            request, call_request, title=f"Log a call to {call_request.name}", form=form, template="log_call.html"
        )

    def convert_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        call_request = self._request_to_work_on(request, object_id, also_needs="patients.add_patient")
        first_name, _, last_name = call_request.name.strip().partition(" ")
        form = ConvertToPatientForm(
            request.POST or None,
            initial={
                "first_name": first_name,
                "last_name": last_name.strip(),
                "email": call_request.email,
                "phone": call_request.phone,
            },
        )
        if request.method == "POST" and form.is_valid():
            details = form.patient_details()
            assert details.date_of_birth is not None  # a required field of this form
            try:
                patient = convert_to_patient(
                    call_request=call_request,
                    first_name=details.first_name,
                    last_name=details.last_name,
                    date_of_birth=details.date_of_birth,
                    email=details.email,
                    phone=details.phone,
                    by=request.user,
                )
            except DiscoveryCallError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request, f"{call_request.reference} is linked to patient {patient}. Book their visit below."
                )
                return redirect(phone_booking_url(patient_id=patient.pk, call_request_id=call_request.pk))
        return self._page(
            request, call_request, title=f"Convert {call_request.name} to a patient", form=form, template="convert.html"
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        call_request = self.get_object(request, unquote(object_id))
        extra_context = {**(extra_context or {})}
        if call_request is not None and call_request.status in DiscoveryCallRequest.OPEN_STATUSES:
            extra_context["log_call_url"] = reverse(
                "admin:discovery_discoverycallrequest_log_call", args=[call_request.pk]
            )
            extra_context["convert_url"] = reverse(
                "admin:discovery_discoverycallrequest_convert", args=[call_request.pk]
            )
            if call_request.patient_id:
                extra_context["book_url"] = phone_booking_url(
                    patient_id=call_request.patient_id, call_request_id=call_request.pk
                )
        return super().change_view(request, object_id, form_url, extra_context)


def phone_booking_url(*, patient_id: int, call_request_id: int) -> str:
    """Reception's phone-booking form, for this patient; it calls mark_request_booked when it books."""
    query = urlencode({"patient": patient_id, "discovery_call": call_request_id})
    return f"{reverse('admin:booking_appointment_add')}?{query}"

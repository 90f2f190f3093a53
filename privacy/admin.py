"""The patient record's admin page: the person, their appointments and screening answers,
and the privacy actions (merge duplicates, export, anonymise)."""

import json
import zoneinfo
from typing import TYPE_CHECKING, cast

from django import forms
from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from booking.admin import AppointmentHistoryInline
from clinic.admin_base import AuditTrailAdmin, PhoneSearchMixin
from clinic.clock import staff_date_time
from patients.models import Patient, Screening
from patients.patient_data import is_anonymised
from patients.selectors import records_merged_into, screenings_of
from patients.services import record_history_baseline
from privacy.selectors import with_appointment_count, with_last_and_next_visit
from privacy.services import (
    PatientMergeError,
    PatientPrivacyError,
    anonymise_patient,
    export_patient,
    merge_patients,
    record_patient_export,
)

if TYPE_CHECKING:
    from privacy.selectors import PatientWithVisits

MAX_RECORDS_PER_MERGE = 10  # a slip of "select all" must not offer to fold the whole list into one


def _local(instant, time_zone_name: str | None) -> str:
    if instant is None:
        return "—"
    assert time_zone_name is not None  # read from the same appointments as the instant
    return staff_date_time(timezone.localtime(instant, zoneinfo.ZoneInfo(time_zone_name)))


def _flags_html(screening: Screening) -> str:
    if not screening.flags:
        return "no safety flags"
    return format_html_join(" ", '<strong class="screening-flag">⚠ {}</strong>', ((flag,) for flag in screening.flags))


class KeepPatientForm(forms.Form):
    keep = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Record to keep")

    def __init__(self, *args, patients, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["keep"]).choices = [(patient.pk, str(patient)) for patient in patients]


@admin.register(Patient)
class PatientAdmin(PhoneSearchMixin, AuditTrailAdmin):
    list_display = [
        "last_name",
        "first_name",
        "email",
        "phone",
        "date_of_birth",
        "last_visit",
        "next_appointment",
    ]
    search_fields = ["first_name", "last_name", "email", "phone"]
    search_help_text = "Name, email or phone number, typed any way (e.g. (614) 555-0142)."
    readonly_fields = ["created_at", "updated_at", "merged_records", "screening_history"]
    inlines = [AppointmentHistoryInline]
    actions = ["merge_selected_patients", "export_patient_data", "anonymise_selected_patient"]

    def get_queryset(self, request):
        return with_last_and_next_visit(super().get_queryset(request), now=timezone.now())

    def get_fieldsets(self, request, obj=None):
        fieldsets: list[tuple[str | None, dict[str, list[str]]]] = [
            (None, {"fields": ["first_name", "last_name", "email", "phone", "date_of_birth"]}),
        ]
        if obj is None:
            return fieldsets
        fieldsets.append(("Record", {"fields": ["created_at", "updated_at", "merged_records"]}))
        # Health answers: only for those allowed to read screenings (reception is).
        if request.user.has_perm("patients.view_screening"):
            fieldsets.append(("Screening history", {"fields": ["screening_history"]}))
        return fieldsets

    @admin.display(description="last visit", ordering="last_visit_start")
    def last_visit(self, patient: "PatientWithVisits") -> str:
        return _local(patient.last_visit_start, patient.last_visit_timezone)

    @admin.display(description="next appointment", ordering="next_appointment_start")
    def next_appointment(self, patient: "PatientWithVisits") -> str:
        return _local(patient.next_appointment_start, patient.next_appointment_timezone)

    @admin.display(description="merged records")
    def merged_records(self, patient: Patient) -> str:
        merged_ids = records_merged_into(patient)
        if not merged_ids:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">#{} (history)</a>',
            ((reverse("admin:patients_patient_history", args=[pk]), pk) for pk in merged_ids),
        )

    @admin.display(description="screening answers, newest first")
    def screening_history(self, patient: Patient) -> str:
        rows = [
            (
                reverse("admin:booking_appointment_change", args=[screening.appointment_id]),
                screening.appointment.reference,
                _local(screening.appointment.start, screening.appointment.location.timezone),
                _flags_html(screening),
                "yes" if screening.needled_before else "no",
                screening.previous_needling_notes or "—",
                screening.other_conditions or "—",
            )
            for screening in screenings_of(patient)
        ]
        if not rows:
            return "No screening answers yet."
        return format_html(
            "<table><thead><tr><th>appointment</th><th>date (local)</th><th>flags</th><th>needled before</th>"
            "<th>how previous needling went</th><th>other conditions</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                rows,
            ),
        )

    def save_model(self, request, obj, form, change):
        if change:
            record_history_baseline(patient_id=obj.pk)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # appointments keep their patient; a duplicate leaves only by merging

    def has_merge_permission(self, request) -> bool:
        return request.user.has_perm("patients.merge_patients")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("patients.export_patient")

    def has_anonymise_permission(self, request) -> bool:
        return request.user.has_perm("patients.anonymise_patient")

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # A patient row has no foreign keys to fetch for the diffs; simple-history's own
        # prefetch would call select_related() with no fields, deprecated since Django 6.1.
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user")

    @admin.action(description="Merge selected patients", permissions=["merge"])
    def merge_selected_patients(self, request, queryset):
        patients = list(with_appointment_count(queryset.order_by("created_at", "pk")))
        if not 2 <= len(patients) <= MAX_RECORDS_PER_MERGE:
            self.message_user(
                request,
                f"Select between 2 and {MAX_RECORDS_PER_MERGE} records of the same person to merge.",
                messages.WARNING,
            )
            return None
        form = KeepPatientForm(request.POST if "merge" in request.POST else None, patients=patients)
        if form.is_valid():
            keep = next(patient for patient in patients if patient.pk == form.cleaned_data["keep"])
            duplicates = [patient for patient in patients if patient.pk != keep.pk]
            try:
                merge_patients(keep=keep, duplicates=duplicates, by=request.user)
            except PatientMergeError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Merged {len(duplicates)} duplicate record(s) into {keep} (#{keep.pk}); "
                    "their appointments are now on that record.",
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge patient records",
            "opts": self.model._meta,
            "patients": patients,
            "form": form,
            "action_name": "merge_selected_patients",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/patients/patient/merge_patients.html", context)

    def _one_selected(self, request, queryset, what: str) -> Patient | None:
        patients = list(queryset[:2])
        if len(patients) != 1:
            self.message_user(request, f"Select exactly one patient to {what}.", messages.WARNING)
            return None
        return patients[0]

    @admin.action(description="Export data (JSON)", permissions=["export"])
    def export_patient_data(self, request, queryset):
        patient = self._one_selected(request, queryset, "export")
        if patient is None:
            return None
        data = export_patient(patient)
        record_patient_export(patient=patient, by=request.user)
        self.log_change(request, patient, "Exported personal data (JSON).")
        response = HttpResponse(
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=False),
            content_type="application/json; charset=utf-8",
        )
        # Named by record number, not by name: the file name lands in download folders and logs.
        response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}-export.json"'
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Anonymise (remove identity and health data)", permissions=["anonymise"])
    def anonymise_selected_patient(self, request, queryset):
        patient = self._one_selected(request, queryset, "anonymise")
        if patient is None:
            return None
        if is_anonymised(patient):
            self.message_user(request, f"Patient record #{patient.pk} is already anonymised.", messages.WARNING)
            return None
        if request.POST.get("anonymise") == "yes":
            try:
                anonymised = anonymise_patient(patient, by=request.user)
            except PatientPrivacyError as error:
                self.message_user(request, error.message, messages.ERROR)
                return None
            self.log_change(request, anonymised, "Anonymised: identity, screening answers and free text removed.")
            self.message_user(
                request,
                f"Patient record #{anonymised.pk} is anonymised; its appointments stay for the clinic's records.",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Anonymise a patient record",
            "opts": self.model._meta,
            "patient": with_appointment_count(Patient.objects.filter(pk=patient.pk)).get(),
            "action_name": "anonymise_selected_patient",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/patients/patient/anonymise_patient.html", context)

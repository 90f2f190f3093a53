"""What each app holds on a person, for the privacy app's export and anonymisation.

Every app that keeps personal data has a patient_data module with one hook of each kind:

    MODELS: the models whose rows it exports and scrubs,
    export(patient) -> Exported: its sections of the export, and its part of the history,
    refusal(anonymisation) -> str | None: why the person cannot be anonymised yet, if so (all
        are asked before any writes),
    anonymise(anonymisation) -> Forgotten: it scrubs its rows, and names those whose queued
        emails must never be sent.

privacy/services.py walks them (PATIENT_DATA). This module is the records' own hook (the
patient row, its history, the admin log's titles of it) and the vocabulary the others share.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, Q

from clinic.history import set_change_reason, set_history_user
from patients.models import MERGED_INTO_REASON, Patient
from patients.selectors import records_merged_into
from patients.services import record_history_baseline

ANONYMISED_NAME = "Anonymised"
# Unique per record and on the reserved .invalid domain: never anyone's address, and never
# colliding with another record's email + date of birth (patient_email_dob_unique).
ANONYMISED_EMAIL = "anonymised-{pk}@anonymised.invalid"
ANONYMISED_EMAIL_DOMAIN = "@anonymised.invalid"
ANONYMISED_DATE_OF_BIRTH = date(1900, 1, 1)
ANONYMISED_REASON = "anonymised by {user}"

Forgotten = dict[type[Model], list[int]]


class PatientPrivacyError(Exception):
    """Why an export or anonymisation was refused; `message` is fit to show the receptionist."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Exported:
    """An app's part of an export: top-level sections, and history lists under "history"."""

    sections: dict[str, Any]
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Anonymisation:
    """One anonymisation under way, in one transaction. `patient` is locked and still holds the
    person's details, which the other apps' hooks match their rows by; the records' own hook
    runs last and replaces them with `placeholder`."""

    patient: Patient
    now: datetime
    by: Any  # the staff user, or None for the system

    @property
    def placeholder(self) -> dict[str, Any]:
        return {
            "first_name": ANONYMISED_NAME,
            "last_name": f"patient #{self.patient.pk}",
            "email": ANONYMISED_EMAIL.format(pk=self.patient.pk),
            "phone": "",
            "date_of_birth": ANONYMISED_DATE_OF_BIRTH,
        }


def is_anonymised(patient: Patient) -> bool:
    return patient.email.endswith(ANONYMISED_EMAIL_DOMAIN)


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def e164(value: Any) -> str:
    return value.as_e164 if value else ""


def actor(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def history_meta(row: Any) -> dict[str, Any]:
    return {
        "history_date": iso(row.history_date),
        "history_type": row.history_type,
        "changed_by": actor(row.history_user),
        "change_reason": row.history_change_reason,
    }


def scrub_admin_log(model: type[Model], titles: dict[int, str]) -> None:
    """The admin log keeps each edited object's title, which may name the person."""
    content_type = ContentType.objects.get_for_model(model)
    for pk, title in titles.items():
        LogEntry.objects.filter(content_type=content_type, object_id=str(pk)).update(object_repr=title[:200])


# The records' own hook.

MODELS: tuple[type[Model], ...] = (Patient,)


def export(patient: Patient) -> Exported:
    merged_into_this = Patient.history.filter(
        history_type="-", history_change_reason=MERGED_INTO_REASON.format(pk=patient.pk)
    ).values("id")
    history = (
        Patient.history.filter(Q(id=patient.pk) | Q(id__in=merged_into_this))
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    return Exported(
        sections={
            "patient": {
                "id": patient.pk,
                "first_name": patient.first_name,
                "last_name": patient.last_name,
                "email": patient.email,
                "phone": e164(patient.phone),
                "date_of_birth": iso(patient.date_of_birth),
                "created_at": iso(patient.created_at),
                "updated_at": iso(patient.updated_at),
            }
        },
        history={
            "patient": [
                {
                    **history_meta(row),
                    "record_id": row.id,
                    "first_name": row.first_name,
                    "last_name": row.last_name,
                    "email": row.email,
                    "phone": e164(row.phone),
                    "date_of_birth": iso(row.date_of_birth),
                }
                for row in history
            ]
        },
    )


def refusal(anonymisation: Anonymisation) -> str | None:
    if is_anonymised(anonymisation.patient):
        return f"Patient record #{anonymisation.patient.pk} is already anonymised."
    return None


def anonymise(anonymisation: Anonymisation) -> Forgotten:
    patient, placeholder = anonymisation.patient, anonymisation.placeholder
    record_history_baseline(patient_id=patient.pk)
    # Older versions of this record, and of duplicates merged into it, named the person.
    merged_ids = records_merged_into(patient)
    Patient.history.filter(id__in=[patient.pk, *merged_ids]).update(**placeholder)
    for name, value in placeholder.items():
        setattr(patient, name, value)
    set_history_user(patient, anonymisation.by)
    set_change_reason(patient, ANONYMISED_REASON.format(user=actor(anonymisation.by) or "the system")[:100])
    patient.save()
    scrub_admin_log(Patient, dict.fromkeys([patient.pk, *merged_ids], str(patient)))
    return {}

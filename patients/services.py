"""Writes for patient records. Screening answers are written with their appointment (booking.services)."""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import ForeignObjectRel, Value
from django.db.models.functions import Lower
from django.utils import timezone
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_update_with_history

from booking.models import Appointment
from patients.models import MERGED_INTO_REASON, ConsentText, Patient, Screening

RED_FLAGS = {
    "bladder_bowel": "Loss of bowel or bladder control",
    "progressive_weakness": "Leg weakness getting worse quickly, over hours or days",
    "sudden_neuro": "Sudden, severe changes in feeling, strength, balance or speech",
    "both_legs": "Symptoms in both legs at once",
    "trauma": "Sciatica that started after a fall, an accident or another significant injury",
}


@dataclass(frozen=True)
class PatientDetails:
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164
    date_of_birth: date


# The safety questions, whose answers a Screening keeps; the urgent signs (red flags) are asked
# apart and never stored: a booking with one is refused.
SAFETY_QUESTIONS = (
    "pregnant",
    "blood_thinners",
    "bleeding_disorder",
    "needle_fear",
    "needled_before",
    "previous_needling_notes",
    "other_conditions",
)


@dataclass(frozen=True)
class ScreeningAnswers:
    pregnant: bool = False
    blood_thinners: bool = False
    bleeding_disorder: bool = False
    needle_fear: bool = False
    needled_before: bool = False
    previous_needling_notes: str = ""
    other_conditions: str = ""
    red_flags: frozenset[str] = frozenset()

    @classmethod
    def given_with(cls, screening: Screening) -> "ScreeningAnswers":
        """The answers stored with an earlier booking, to give again (with no red flags)."""
        return cls(**{name: getattr(screening, name) for name in SAFETY_QUESTIONS})

    def stored(self) -> dict:
        """The Screening fields these answers are kept as."""
        return {name: getattr(self, name) for name in SAFETY_QUESTIONS}


def details_of(patient: Patient) -> PatientDetails:
    """A stored patient's details, to book for them again: book_appointment finds the same
    record by email and date of birth, and changes nothing in it."""
    return PatientDetails(
        first_name=patient.first_name,
        last_name=patient.last_name,
        email=patient.email,
        phone=patient.phone.as_e164,
        date_of_birth=patient.date_of_birth,
    )


def find_or_create_patient(*, details: PatientDetails, lock: bool = False) -> Patient:
    """The patient with this email and date of birth, or a new one.

    INSERT ... ON CONFLICT DO NOTHING on patient_email_dob_unique, then read the row:
    two simultaneous first bookings end with one patient, and no savepoint is needed.
    A returning patient's stored name and phone are not overwritten from a public form:
    knowing someone's email and birthday must not let a stranger change their record.
    """
    email = details.email.strip()
    Patient.objects.bulk_create(
        [
            Patient(
                first_name=details.first_name.strip(),
                last_name=details.last_name.strip(),
                email=email,
                phone=details.phone,
                date_of_birth=details.date_of_birth,
            )
        ],
        ignore_conflicts=True,
    )
    # The same expression as patient_email_dob_unique (lower(email)): iexact compares
    # upper-cased text, which differs from lower() for a few letters (ı, ſ, the Kelvin sign).
    patients = Patient.objects.select_for_update() if lock else Patient.objects
    return patients.alias(email_lower=Lower("email")).get(
        email_lower=Lower(Value(email)), date_of_birth=details.date_of_birth
    )


def record_history_baseline(*, patient_id: int) -> None:
    """Give a patient created by a booking its first history row, as it stands in the database.

    find_or_create_patient inserts with bulk_create (ON CONFLICT DO NOTHING), which sends
    no signals, so simple-history has not seen those patients. Recording them there would
    cost every first booking a query; instead the first staff edit records the state it
    starts from (dated when the patient was created, by no one), so the edit shows what
    it changed. Call it inside the edit's transaction, before saving.
    """
    if Patient.history.filter(id=patient_id).exists():
        return
    as_created = Patient.objects.get(pk=patient_id)
    as_created._history_user = None  # not the editor: this is how the record came to us
    as_created._history_date = as_created.created_at
    Patient.history.bulk_history_create([as_created], default_change_reason="as created with a booking")


def current_consent() -> ConsentText:
    return ConsentText.objects.latest()


class PatientMergeError(Exception):
    """Why a merge was refused; `message` is fit to show the receptionist."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def merge_patients(*, keep: Patient, duplicates: list[Patient], by: AbstractBaseUser | None) -> Patient:
    """Move everything that points at the duplicates to `keep`, then delete the duplicates.

    "Everything" is found from Patient's reverse relations (_meta), so a relation another app
    adds (appointments, discovery-call requests, ...) is moved without changing this code.
    Screenings, consents and the rest hang off the appointments and travel with them.
    Simple-history's historical rows are left alone: they say what was true at the time.

    The duplicates are deleted rather than kept flagged as merged: with a flag, every query
    that lists, searches, links or books a patient would have to remember to skip the
    ghosts, and a forgotten filter books the next appointment onto a dead record. Nothing
    is lost by deleting: simple-history records each deletion, with `by` as the actor, the
    reason "merged into patient #N" and the duplicate's name, email, phone and date of birth
    as they were. If that person later books online with the duplicate's email and date of birth,
    a new record is created, and reception merges it again.

    All in one transaction, with the patients' rows locked in id order first, and the rows
    that point at them (appointments, call-back requests) only after: the order
    book_appointment, the phone booking's mark_request_booked and convert_to_patient keep,
    so a booking or a conversion for any of these people waits for the merge instead of
    deadlocking with it. Raises PatientMergeError, having changed nothing, when
    asked to merge a patient into itself, when a patient no longer exists, or when two live
    appointments of different records overlap (appointment_no_overlap_per_patient: one
    person cannot attend both).
    """
    duplicate_ids = sorted({duplicate.pk for duplicate in duplicates})
    if not duplicate_ids:
        raise PatientMergeError("Choose at least one duplicate record to merge into the one you keep.")
    if keep.pk in duplicate_ids:
        raise PatientMergeError("A patient record cannot be merged into itself.")

    with transaction.atomic():
        locked = {
            patient.pk: patient
            for patient in Patient.objects.select_for_update().filter(pk__in=[keep.pk, *duplicate_ids]).order_by("pk")
        }
        missing = [pk for pk in [keep.pk, *duplicate_ids] if pk not in locked]
        if missing:
            raise PatientMergeError(
                "Patient record {} no longer exists (perhaps merged by someone else). "
                "Reload the list and try again.".format(", ".join(f"#{pk}" for pk in missing))
            )
        kept = locked[keep.pk]
        gone = [locked[pk] for pk in duplicate_ids]
        _refuse_overlapping_appointments(patient_ids=[kept.pk, *duplicate_ids])

        reason = MERGED_INTO_REASON.format(pk=kept.pk)
        for relation in _relations_to_move():
            _move_rows(relation, from_patients=gone, to_patient=kept, by=by, reason=reason)
        for duplicate in gone:
            duplicate._history_user = by
            duplicate._change_reason = reason
            duplicate.delete()
        kept._history_user = by
        kept._change_reason = "merged {} into this record".format(", ".join(f"#{pk}" for pk in duplicate_ids))[:100]
        kept.save(update_fields=["updated_at"])
    return kept


def _refuse_overlapping_appointments(*, patient_ids: list[int]) -> None:
    """The friendly form of appointment_no_overlap_per_patient, naming the clashing bookings."""
    live = list(
        Appointment.objects.live()
        .filter(patient_id__in=patient_ids)
        .select_related("location")
        .only("reference", "patient_id", "start", "end", "location__timezone")
        .order_by("start")
    )
    clashes = []
    for index, earlier in enumerate(live):
        for later in live[index + 1 :]:
            if later.start >= earlier.end:
                break  # sorted by start: no later one overlaps `earlier` either
            if later.patient_id != earlier.patient_id:
                clashes.append(
                    f"{earlier.reference} and {later.reference} "
                    f"({timezone.localtime(earlier.start, earlier.location.zone):%a %d %b %Y %H:%M})"
                )
    if clashes:
        raise PatientMergeError(
            "These records cannot be merged: their appointments {} overlap, and one person cannot attend both. "
            "Cancel one of each pair first, then merge.".format("; ".join(clashes))
        )


def _relations_to_move() -> list[ForeignObjectRel]:
    """Every relation pointing at Patient, whichever app declared it. Hidden ones included
    (a ForeignKey with related_name="+" is not in _meta.related_objects, yet its rows would
    block the deletion, or vanish with it)."""
    relations = []
    for relation in Patient._meta.get_fields(include_hidden=True):
        if not (relation.is_relation and relation.auto_created and not relation.concrete):
            continue  # Patient's own fields
        if issubclass(relation.related_model, HistoricalChanges):
            continue  # history keeps the patient each version belonged to then
        if relation.many_to_many:
            # No such relation exists yet; moving one needs its own de-duplication of the
            # link rows. Failing loudly beats a merge that silently leaves links behind.
            raise TypeError(f"merge_patients cannot move the many-to-many relation {relation.name!r} yet.")
        relations.append(relation)
    return relations


def _move_rows(
    relation: ForeignObjectRel, *, from_patients: list[Patient], to_patient: Patient, by, reason: str
) -> None:
    model, field = relation.related_model, relation.field
    rows = model._base_manager.filter(**{f"{field.name}__in": from_patients})
    try:
        if hasattr(model._meta, "simple_history_manager_attribute"):
            # Row by row in memory so each moved row gets its own history entry with the actor.
            moved = list(rows.select_for_update(of=("self",)))
            for row in moved:
                setattr(row, field.name, to_patient)
            bulk_update_with_history(
                moved, model, [field.name], default_user=by, default_change_reason=reason, manager=model._base_manager
            )
        else:
            rows.update(**{field.name: to_patient})
    except IntegrityError as error:
        # A one-to-one both records have, or a row changed by someone else after the checks
        # above: refuse, and the transaction rolls all of the merge back.
        raise PatientMergeError(
            f"These records cannot be merged: their {model._meta.verbose_name_plural} conflict "
            f"({_constraint_name(error)}). Reload the page and try again; if it happens again, ask an administrator."
        ) from error


def _constraint_name(error: IntegrityError) -> str:
    diagnostics = getattr(error.__cause__, "diag", None)
    return getattr(diagnostics, "constraint_name", None) or "a database constraint"

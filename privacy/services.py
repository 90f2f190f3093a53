"""The patient's record as a whole, across every app: merging duplicates, exporting
everything held on a person (a subject access request), anonymising them. Above every app:
the merge follows every relation to Patient, and export and anonymise walk each app's
patient_data hook (patients/patient_data.py)."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import ForeignObjectRel
from django.utils import timezone
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_update_with_history

from booking import patient_data as booking_data
from booking.models import Appointment
from clinic.clock import staff_date_time
from clinic.history import set_change_reason, set_history_user
from clinic.models import IdempotentRequest
from clinic.outbox import forget_recipient
from discovery import patient_data as discovery_data
from patients import patient_data as patients_data
from patients.models import MERGED_INTO_REASON, Patient
from patients.patient_data import (
    Anonymisation,
    Forgotten,
    PatientPrivacyError,
    actor,
)
from patients.services import record_history_baseline
from waitlist import patient_data as waitlist_data


def forget_answers(about: Forgotten) -> None:
    """The API's stored answers (api/idempotency.py, kept a day) naming these bookings or call-backs."""
    references = [
        reference
        for model, ids in about.items()
        if any(field.name == "reference" for field in model._meta.fields)
        for reference in model._default_manager.filter(pk__in=ids).values_list("reference", flat=True)
    ]
    IdempotentRequest.objects.filter(about_reference__in=references).delete()


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
            set_history_user(duplicate, by)
            set_change_reason(duplicate, reason)
            duplicate.delete()
        set_history_user(kept, by)
        set_change_reason(kept, "merged {} into this record".format(", ".join(f"#{pk}" for pk in duplicate_ids))[:100])
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
                    f"({staff_date_time(timezone.localtime(earlier.start, earlier.location.zone))})"
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
        assert isinstance(relation, ForeignObjectRel)  # what is left: relations declared on other models
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


# --- Privacy: export and anonymise ----------------------------------------------------------

EXPORT_FORMAT = "clinic-patient-export/1"
EXPORTED_REASON = "personal data exported by {user}"
# Each app's part (its patient_data module), the records' own first: anonymise walks them
# backwards, so the others still find their rows by the person's email and phone.
PATIENT_DATA = (patients_data, booking_data, discovery_data, waitlist_data)


def export_patient(patient: Patient) -> dict[str, Any]:
    """Everything the clinic holds on one person, as JSON-ready data (a subject access request).

    The shape (keys are stable; datetimes ISO 8601, UTC unless named *_local; dates YYYY-MM-DD):

        format, exported_at,
        patient: {id, first_name, last_name, email, phone, date_of_birth (null: a caller), created_at,
            updated_at},
        appointments: [{reference, service, practitioner, location, time_zone, start_local, end_local,
            start_utc, end_utc, status, source, cancellation_reason, cancelled_at, consent_version,
            consented_at, concern, caller_time_zone, confirmation_sent_at, reminder_sent_at,
            aftercare_sent_at, created_at,
            treatment_series: {service, interval_weeks, sessions_requested, session} | null,
            screening: {pregnant, blood_thinners, bleeding_disorder, needle_fear, needled_before,
                previous_needling_notes, other_conditions, created_at} | null}],
        call_back_requests: [{reference, name, email, phone, best_time, caller_timezone, concern, conditions,
            heard_about, heard_about_other, consent_to_contact, consented_at, status, created_at,
            call_attempts: [{attempted_at, outcome, note}]}],
        waiting_list: [{service, location, practitioner, first_day, last_day, mornings, afternoons,
            evenings, first_name, last_name, email, phone, status, created_at, left_at,
            offers: [{practitioner, location, start_utc, end_utc, sent_at, booked_appointment, gone_at}]}],
        history: {patient: [...], appointments: [...]}: each row {history_date, history_type
            ("+" created, "~" changed, "-" deleted), changed_by (staff login or null), change_reason, ...the
            record's fields as they were}; the patient's include records merged into this one (record_id).

    Call-back requests are those linked to the patient or sent with their email or phone; waiting-list
    places those with their email. Tokens (manage links, waiting-list and offer links, calendar feeds)
    are credentials, not personal data: never included. A fixed number of queries, however many
    appointments.
    """
    data: dict[str, Any] = {"format": EXPORT_FORMAT, "exported_at": timezone.now().isoformat()}
    history: dict[str, list[dict[str, Any]]] = {}
    for part in PATIENT_DATA:
        exported = part.export(patient)
        assert not (exported.sections.keys() & data.keys() or exported.history.keys() & history.keys()), part
        data |= exported.sections
        history |= exported.history
    return data | {"history": history}


def record_patient_export(*, patient: Patient, by: AbstractBaseUser) -> None:
    """The audit entry for an export: a history row on the patient naming who took their data."""
    with transaction.atomic():
        record_history_baseline(patient_id=patient.pk)
        Patient.history.bulk_history_create(
            [patient], update=True, default_user=by, default_change_reason=EXPORTED_REASON.format(user=actor(by))[:100]
        )


def anonymise_patient(patient: Patient, *, by: AbstractBaseUser | None) -> Patient:
    """Remove the person from the clinic's records, keeping the records.

    Kept: every appointment (times, service, practitioner, location, status, source, consent
    version and time, emails' sent times): the clinic's treatment record and its statistics.
    Removed, by each app's hook: the patient's name, email, phone and date of birth
    (placeholders); every screening answer (the row stays, all answers cleared, so every page
    that shows an appointment still does); cancellation reasons and a discovery call's "what is
    going on" (free text that may hold health details); the call-back requests linked to them
    or sent with their email or phone (name, email, phone, concern, conditions, "heard of us
    elsewhere", call notes); their waiting-list places (contact, and they leave the list).
    Every manage, waiting-list and offer link stops working, and emails about these rows not
    sent yet never are.

    The history (simple-history) of those rows held the same names and free text: it is
    scrubbed the same way, so the trail of who changed what and when stays, without the
    identity. So are the admin log's titles of the patient and call-back requests. The act
    itself is recorded once, as a history entry "anonymised by <user>" on the patient.

    Refused (PatientPrivacyError, nothing changed) while the patient has a live appointment
    that has not ended: cancel it (with the patient) first. One transaction, the patient row
    locked first, as bookings and merges lock it, so no booking lands on the record halfway
    through.
    """
    with transaction.atomic():
        try:
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
        except Patient.DoesNotExist:
            raise PatientPrivacyError(
                f"Patient record #{patient.pk} no longer exists (perhaps merged). Reload the list."
            ) from None
        anonymisation = Anonymisation(patient=locked, now=timezone.now(), by=by)
        for part in PATIENT_DATA:
            refusal = part.refusal(anonymisation)
            if refusal is not None:
                raise PatientPrivacyError(refusal)
        address = anonymisation.placeholder["email"]
        forgotten: Forgotten = {}
        for part in reversed(PATIENT_DATA):
            forgotten |= part.anonymise(anonymisation)
        forget_recipient(forgotten, address=address)
        forget_answers(forgotten)
    return locked

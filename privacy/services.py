"""The patient's record as a whole, across every app: merging duplicates, exporting
everything held on a person (a subject access request), anonymising them. Above every app,
as only it may be: it reaches into booking, discovery and the waiting list."""

from datetime import date

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import ForeignObjectRel, Q
from django.utils import timezone
from simple_history.models import HistoricalChanges
from simple_history.utils import bulk_update_with_history

from booking.models import Appointment, TreatmentSeries, new_manage_token
from clinic.clock import staff_date_time
from clinic.outbox import forget_recipient
from discovery.models import CallAttempt, DiscoveryCallRequest
from patients.models import MERGED_INTO_REASON, Patient, Screening
from patients.selectors import records_merged_into
from patients.services import SAFETY_QUESTIONS, ScreeningAnswers, record_history_baseline
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.models import new_token as new_waitlist_token


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
# Placeholders for an anonymised record. The email is unique per record and on the reserved
# .invalid domain: it can never be anyone's address, and never collides with another record's
# email + date of birth (patient_email_dob_unique).
ANONYMISED_NAME = "Anonymised"
ANONYMISED_EMAIL = "anonymised-{pk}@anonymised.invalid"
ANONYMISED_EMAIL_DOMAIN = "@anonymised.invalid"
ANONYMISED_DATE_OF_BIRTH = date(1900, 1, 1)
ANONYMISED_REASON = "anonymised by {user}"
EXPORTED_REASON = "personal data exported by {user}"


class PatientPrivacyError(Exception):
    """Why an export or anonymisation was refused; `message` is fit to show the receptionist."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def is_anonymised(patient: Patient) -> bool:
    return patient.email.endswith(ANONYMISED_EMAIL_DOMAIN)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _phone(value) -> str:
    return value.as_e164 if value else ""


def _actor(user) -> str | None:
    return user.get_username() if user is not None else None


def export_patient(patient: Patient) -> dict:
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
    appointments = list(
        Appointment.objects.filter(patient=patient)
        .select_related("service", "practitioner", "location", "consent", "series__service", "screening")
        .order_by("start", "pk")
    )
    references = {appointment.pk: appointment.reference for appointment in appointments}
    call_back_requests = (
        DiscoveryCallRequest.objects.filter(_call_back_requests_of(patient))
        .prefetch_related("conditions", "attempts")
        .order_by("created_at", "pk")
    )
    waiting = (
        WaitlistEntry.objects.filter(email__iexact=patient.email)
        .select_related("service", "location", "practitioner")
        .prefetch_related("offers__practitioner", "offers__location", "offers__booked_appointment")
        .order_by("created_at", "pk")
    )
    merged_into_this = Patient.history.filter(
        history_type="-", history_change_reason=MERGED_INTO_REASON.format(pk=patient.pk)
    ).values("id")
    patient_history = (
        Patient.history.filter(Q(id=patient.pk) | Q(id__in=merged_into_this))
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    appointment_history = (
        Appointment.history.filter(id__in=list(references))
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "patient": {
            "id": patient.pk,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "email": patient.email,
            "phone": _phone(patient.phone),
            "date_of_birth": _iso(patient.date_of_birth),
            "created_at": _iso(patient.created_at),
            "updated_at": _iso(patient.updated_at),
        },
        "appointments": [_exported_appointment(appointment) for appointment in appointments],
        "call_back_requests": [_exported_call_back_request(request) for request in call_back_requests],
        "waiting_list": [_exported_waitlist_entry(entry) for entry in waiting],
        "history": {
            "patient": [
                {
                    **_history_meta(row),
                    "record_id": row.id,
                    "first_name": row.first_name,
                    "last_name": row.last_name,
                    "email": row.email,
                    "phone": _phone(row.phone),
                    "date_of_birth": _iso(row.date_of_birth),
                }
                for row in patient_history
            ],
            "appointments": [
                {
                    **_history_meta(row),
                    "reference": row.reference,
                    "start_utc": _iso(row.start),
                    "end_utc": _iso(row.end),
                    "status": row.status,
                    "cancellation_reason": row.cancellation_reason,
                    "practitioner_id": row.practitioner_id,
                    "location_id": row.location_id,
                    "service_id": row.service_id,
                }
                for row in appointment_history
            ],
        },
    }


def _history_meta(row) -> dict:
    return {
        "history_date": _iso(row.history_date),
        "history_type": row.history_type,
        "changed_by": _actor(row.history_user),
        "change_reason": row.history_change_reason,
    }


def _exported_appointment(appointment: Appointment) -> dict:
    zone = appointment.location.zone
    series = appointment.series
    screening = getattr(appointment, "screening", None)
    return {
        "reference": appointment.reference,
        "service": appointment.service.name,
        "practitioner": appointment.practitioner.name,
        "location": appointment.location.name,
        "time_zone": appointment.location.timezone,
        "start_local": timezone.localtime(appointment.start, zone).isoformat(),
        "end_local": timezone.localtime(appointment.end, zone).isoformat(),
        "start_utc": _iso(appointment.start),
        "end_utc": _iso(appointment.end),
        "status": appointment.status,
        "source": appointment.source,
        "cancellation_reason": appointment.cancellation_reason,
        "cancelled_at": _iso(appointment.cancelled_at),
        "consent_version": appointment.consent.version if appointment.consent else None,
        "consented_at": _iso(appointment.consented_at),
        # A discovery call's: what the caller wrote, and the clock they were told its time on.
        "concern": appointment.concern,
        "caller_time_zone": appointment.caller_timezone,
        "confirmation_sent_at": _iso(appointment.confirmation_sent_at),
        "reminder_sent_at": _iso(appointment.reminder_sent_at),
        "aftercare_sent_at": _iso(appointment.aftercare_sent_at),
        "created_at": _iso(appointment.created_at),
        "treatment_series": None
        if series is None
        else {
            "service": series.service.name,
            "interval_weeks": series.interval_weeks,
            "sessions_requested": series.sessions_requested,
            "session": appointment.series_session,
        },
        "screening": None
        if screening is None
        else {
            **{name: getattr(screening, name) for name in SAFETY_QUESTIONS},
            "created_at": _iso(screening.created_at),
        },
    }


def _exported_call_back_request(request) -> dict:
    return {
        "reference": request.reference,
        "name": request.name,
        "email": request.email,
        "phone": _phone(request.phone),
        "best_time": request.best_time,
        "caller_timezone": request.caller_timezone,
        "concern": request.concern,
        "conditions": sorted(condition.name for condition in request.conditions.all()),
        "heard_about": request.heard_about,
        "heard_about_other": request.heard_about_other,
        "consent_to_contact": request.consent_to_contact,
        "consented_at": _iso(request.consented_at),
        "status": request.status,
        "created_at": _iso(request.created_at),
        "call_attempts": [
            {"attempted_at": _iso(attempt.attempted_at), "outcome": attempt.outcome, "note": attempt.note}
            for attempt in request.attempts.all()
        ],
    }


def _exported_waitlist_entry(entry) -> dict:
    return {
        "service": entry.service.name,
        "location": entry.location.name,
        "practitioner": entry.practitioner.name if entry.practitioner else None,
        "first_day": _iso(entry.first_day),
        "last_day": _iso(entry.last_day),
        "mornings": entry.mornings,
        "afternoons": entry.afternoons,
        "evenings": entry.evenings,
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "email": entry.email,
        "phone": _phone(entry.phone),
        "status": entry.status,
        "created_at": _iso(entry.created_at),
        "left_at": _iso(entry.left_at),
        "offers": [
            {
                "practitioner": offer.practitioner.name,
                "location": offer.location.name,
                "start_utc": _iso(offer.start),
                "end_utc": _iso(offer.end),
                "sent_at": _iso(offer.sent_at),
                "booked_appointment": offer.booked_appointment.reference if offer.booked_appointment else None,
                "gone_at": _iso(offer.gone_at),
            }
            for offer in entry.offers.all()
        ],
    }


def _call_back_requests_of(patient: Patient) -> Q:
    """Requests linked to the patient, or sent with their email or their phone number."""
    match = Q(patient=patient) | Q(email__iexact=patient.email)
    if patient.phone:
        match |= Q(phone=patient.phone)
    return match


def record_patient_export(*, patient: Patient, by: AbstractBaseUser) -> None:
    """The audit entry for an export: a history row on the patient naming who took their data."""
    with transaction.atomic():
        record_history_baseline(patient_id=patient.pk)
        Patient.history.bulk_history_create(
            [patient], update=True, default_user=by, default_change_reason=EXPORTED_REASON.format(user=_actor(by))[:100]
        )


def anonymise_patient(patient: Patient, *, by: AbstractBaseUser | None) -> Patient:
    """Remove the person from the clinic's records, keeping the records.

    Kept: every appointment (times, service, practitioner, location, status, source, consent
    version and time, emails' sent times): the clinic's treatment record and its statistics.
    Removed: the patient's name, email, phone and date of birth (placeholders); every screening
    answer (the row stays, all answers cleared, so every page that shows an appointment still
    does); cancellation reasons and a discovery call's "what is going on" (free text that may
    hold health details); the call-back
    requests linked to them or sent with their email or phone (name, email, phone, concern,
    conditions, "heard of us elsewhere", call notes); their waiting-list places (contact,
    and they leave the list). Every manage, waiting-list and offer link stops working.

    The history (simple-history) of those rows held the same names and free text: it is
    scrubbed the same way, so the trail of who changed what and when stays, without the
    identity. So are the admin log's titles of the patient and call-back requests. The act
    itself is recorded once, as a history entry "anonymised by <user>" on the patient.

    Refused (PatientPrivacyError, nothing changed) while the patient has a live appointment
    that has not ended: it would arrive at the desk as "Anonymised" and its emails would go to
    nowhere; cancel it (with the patient) first. One transaction, the patient row locked first,
    as bookings and merges lock it, so no booking lands on the record halfway through.
    """
    now = timezone.now()
    with transaction.atomic():
        try:
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
        except Patient.DoesNotExist:
            raise PatientPrivacyError(
                f"Patient record #{patient.pk} no longer exists (perhaps merged). Reload the list."
            ) from None
        if is_anonymised(locked):
            raise PatientPrivacyError(f"Patient record #{locked.pk} is already anonymised.")
        upcoming = list(
            Appointment.objects.live()
            .filter(patient=locked, end__gt=now)
            .order_by("start")
            .values_list("reference", flat=True)
        )
        if upcoming:
            raise PatientPrivacyError(
                "This patient still has appointments to come ({}). Cancel them first, then anonymise.".format(
                    ", ".join(upcoming)
                )
            )
        record_history_baseline(patient_id=locked.pk)
        requests_match = _call_back_requests_of(locked)
        old_email = locked.email
        placeholder = {
            "first_name": ANONYMISED_NAME,
            "last_name": f"patient #{locked.pk}",
            "email": ANONYMISED_EMAIL.format(pk=locked.pk),
            "phone": "",
            "date_of_birth": ANONYMISED_DATE_OF_BIRTH,
        }

        appointments = list(Appointment.objects.select_for_update().filter(patient=locked))
        for appointment in appointments:
            appointment.manage_token = new_manage_token()
            appointment.cancellation_reason = ""
            appointment.concern = ""
        Appointment.objects.bulk_update(appointments, ["manage_token", "cancellation_reason", "concern"])
        appointment_ids = [appointment.pk for appointment in appointments]
        Appointment.history.filter(id__in=appointment_ids).update(cancellation_reason="", concern="")
        Screening.objects.filter(appointment_id__in=appointment_ids).update(**ScreeningAnswers().stored())

        request_ids = list(DiscoveryCallRequest.objects.filter(requests_match).values_list("pk", flat=True))
        scrubbed_request = {
            "name": ANONYMISED_NAME,
            "email": placeholder["email"],
            "phone": "",
            "concern": "",
            "heard_about_other": "",
        }
        DiscoveryCallRequest.objects.filter(pk__in=request_ids).update(**scrubbed_request, updated_at=now)
        DiscoveryCallRequest.history.filter(id__in=request_ids).update(**scrubbed_request)
        DiscoveryCallRequest.conditions.through.objects.filter(discoverycallrequest_id__in=request_ids).delete()
        CallAttempt.objects.filter(request_id__in=request_ids).update(note="")
        CallAttempt.history.filter(request_id__in=request_ids).update(note="")

        entry_ids = list(WaitlistEntry.objects.filter(email__iexact=old_email).values_list("pk", flat=True))
        scrubbed_entry = {
            "first_name": ANONYMISED_NAME,
            "last_name": placeholder["last_name"],
            "email": placeholder["email"],
            "phone": "",
        }
        WaitlistEntry.objects.filter(pk__in=entry_ids, status=WaitlistEntry.Status.WAITING).update(
            status=WaitlistEntry.Status.LEFT, left_at=now
        )
        WaitlistEntry.objects.filter(pk__in=entry_ids).update(**scrubbed_entry)
        WaitlistEntry.history.filter(id__in=entry_ids).update(**scrubbed_entry)
        # Each link its own new random token (one UPDATE per row: a person has a handful).
        for entry_id in entry_ids:
            WaitlistEntry.objects.filter(pk=entry_id).update(token=new_waitlist_token())
        for offer_id in WaitlistOffer.objects.filter(entry_id__in=entry_ids).values_list("pk", flat=True):
            WaitlistOffer.objects.filter(pk=offer_id).update(token=new_waitlist_token())

        series_ids = list(
            TreatmentSeries.objects.filter(source_appointment__patient=locked).values_list("pk", flat=True)
        )
        offer_ids = list(WaitlistOffer.objects.filter(entry_id__in=entry_ids).values_list("pk", flat=True))
        forget_recipient(
            {
                Appointment: appointment_ids,
                TreatmentSeries: series_ids,
                DiscoveryCallRequest: request_ids,
                WaitlistEntry: entry_ids,
                WaitlistOffer: offer_ids,
            },
            address=placeholder["email"],
        )

        # Older versions of this record, and of duplicates merged into it, named the person.
        merged_ids = records_merged_into(locked)
        Patient.history.filter(id__in=[locked.pk, *merged_ids]).update(**placeholder)
        for field, value in placeholder.items():
            setattr(locked, field, value)
        locked._history_user = by
        locked._change_reason = ANONYMISED_REASON.format(user=_actor(by) or "the system")[:100]
        locked.save()

        # The admin log keeps each edited object's title: a patient's and a request's hold the name.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Patient),
            object_id__in=[str(pk) for pk in [locked.pk, *merged_ids]],
        ).update(object_repr=str(locked)[:200])
        for request_id, reference in DiscoveryCallRequest.objects.filter(pk__in=request_ids).values_list(
            "pk", "reference"
        ):
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(DiscoveryCallRequest), object_id=str(request_id)
            ).update(object_repr=f"{reference} {ANONYMISED_NAME}")
    return locked

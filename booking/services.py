"""Where a booking is made. Every path (web, API, admin, commands) books through here.

Concurrency, in the order pretix taught us: lock what becomes less available (the
candidate practitioners' rows, in id order so two bookings never deadlock), re-run the
availability engine for the requested start inside the lock, then insert. The
exclusion constraint `appointment_no_overlap_per_practitioner` is the backstop for any
writer that skips this path; its IntegrityError becomes the same domain error.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.availability import bookable_practitioners, slot_at
from booking.models import Appointment
from clinic.models import Location, Practitioner, Service
from patients.models import Screening
from patients.services import (
    RED_FLAGS,
    PatientDetails,
    ScreeningAnswers,
    current_consent,
    find_or_create_patient,
)


class BookingError(Exception):
    """The one error a booking operation raises; `message` is fit to show a patient."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


SLOT_TAKEN_MESSAGE = "That time was just taken. Please choose another time."
ALREADY_BOOKED_MESSAGE = "You already have an appointment at that time. Please check your email for its link."


def book_appointment(
    *,
    service: Service,
    location: Location,
    practitioner: Practitioner | None,
    start: datetime,
    patient_details: PatientDetails,
    screening: ScreeningAnswers,
    consent_given: bool,
    source: str = Appointment.Source.ONLINE,
    now: datetime | None = None,
    consent_version: str | None = None,
) -> Appointment:
    """Book `start` for the patient; practitioner=None assigns a free qualified one.

    `consent_version`: the version the patient was shown; a newer one must be read first.
    Raises BookingError with code urgent_care, consent_required, consent_changed,
    slot_unavailable, initial_assessment_required or already_booked.
    """
    unknown_flags = set(screening.red_flags) - set(RED_FLAGS)
    if unknown_flags:
        raise ValueError(f"Unknown red flags: {sorted(unknown_flags)}")
    if screening.red_flags:
        # Nothing is written for a refused attempt: no health detail is kept of it.
        raise BookingError(
            "urgent_care",
            "Your answers suggest you may need urgent care. Please do not wait for an appointment: "
            "call your local emergency number or go to the nearest emergency department now.",
        )
    if not consent_given:
        raise BookingError("consent_required", "Please read and agree to the treatment consent to book.")

    now = now or timezone.now()
    # A unique-reference clash (1 in 27 billion) retries the whole transaction.
    for _attempt in range(3):
        try:
            return _book_in_transaction(
                service=service,
                location=location,
                practitioner=practitioner,
                start=start,
                patient_details=patient_details,
                screening=screening,
                source=source,
                now=now,
                consent_version=consent_version,
            )
        except IntegrityError as error:
            _raise_booking_error_for(error)
            if "appointment_reference_key" not in str(error):
                raise
    raise RuntimeError("Could not draw a unique booking reference")


def _raise_booking_error_for(error: IntegrityError) -> None:
    """The exclusion constraints are the backstop for writers that skip the locks: their
    violations are the same domain errors the locked checks give."""
    if "appointment_no_overlap_per_practitioner" in str(error):
        raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE) from error
    if "appointment_no_overlap_per_patient" in str(error):
        raise BookingError("already_booked", ALREADY_BOOKED_MESSAGE) from error


@transaction.atomic
def _book_in_transaction(
    *, service, location, practitioner, start, patient_details, screening, source, now, consent_version
) -> Appointment:
    consent = current_consent()
    if consent_version is not None and consent_version != consent.version:
        raise BookingError(
            "consent_changed",
            "Our treatment consent was updated while you were booking. Please read it again and agree to book.",
        )
    # The patient's row is locked first (then the practitioners): a double-submitted form
    # waits here and then finds the first submission's appointment below.
    patient = find_or_create_patient(details=patient_details, lock=True)

    # Lock the candidates' rows (in id order, so two bookings never deadlock): concurrent
    # bookings for the same practitioner queue here, then each re-checks the time below.
    candidates = sorted(
        Practitioner.objects.select_for_update()
        .filter(
            pk__in=bookable_practitioners(service=service, location=location, practitioner=practitioner).values("pk")
        )
        .order_by("pk")
        .only("pk", "display_order", "name"),
        key=lambda candidate: (candidate.display_order, candidate.name, candidate.pk),
    )
    # With several candidates this is the "any practitioner" choice: the first free one in
    # the clinic's order.
    chosen = slot_at(
        start, service=service, location=location, practitioner_ids=[candidate.pk for candidate in candidates], now=now
    )
    if chosen is None:
        # Only on this failure path, one more query to tell a double submission apart.
        if Appointment.objects.live().filter(patient=patient).overlapping(start, start + timedelta(minutes=1)).exists():
            raise BookingError("already_booked", ALREADY_BOOKED_MESSAGE)
        raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE)
    # Checked only once the time is known to be free, so the answer to "is this person
    # our patient?" is not given away by a request for a time nobody could have.
    if service.who_can_book == Service.WhoCanBook.RETURNING and not _has_visited(patient, before=start):
        raise BookingError(
            "initial_assessment_required",
            "Please book an initial assessment first: follow-up visits are for returning patients.",
        )
    appointment = Appointment.objects.create(
        patient=patient,
        practitioner_id=chosen.practitioner_id,
        location=location,
        service=service,
        start=chosen.start,
        end=chosen.end,
        blocked_until=chosen.end + timedelta(minutes=service.buffer_after_minutes),
        source=source,
        consent=consent,
        consented_at=now,
    )
    Screening.objects.create(
        appointment=appointment,
        pregnant=screening.pregnant,
        blood_thinners=screening.blood_thinners,
        bleeding_disorder=screening.bleeding_disorder,
        needle_fear=screening.needle_fear,
        needled_before=screening.needled_before,
        previous_needling_notes=screening.previous_needling_notes,
        other_conditions=screening.other_conditions,
    )
    return appointment


def _has_visited(patient, *, before: datetime) -> bool:
    """A treatment booked or had before this time (a discovery call does not count).
    A booked but future initial assessment counts, so a course can be booked at once."""
    return patient.appointments.live().filter(start__lt=before, service__kind=Service.Kind.TREATMENT).exists()


def cancellation_deadline(appointment: Appointment) -> datetime:
    return appointment.start - timedelta(hours=settings.BOOKING_CANCELLATION_WINDOW_HOURS)


def patient_may_change(appointment: Appointment, *, now: datetime | None = None) -> bool:
    """Patients may cancel or move a confirmed appointment until the cancellation window."""
    now = now or timezone.now()
    return appointment.status == Appointment.Status.CONFIRMED and now < cancellation_deadline(appointment)


TOO_LATE_MESSAGE = (
    "Appointments can be changed online until {hours} hours before they start. Please call the clinic and we will help."
)


def _lock_for_patient_change(appointment: Appointment, *, by_patient: bool, now: datetime) -> Appointment:
    # of=("self",): without it PostgreSQL also locks the joined location and service rows,
    # which every booking's foreign-key check there must share: a deadlock with
    # book_appointment, and all bookings at the location waiting on one cancellation.
    locked = (
        Appointment.objects.select_for_update(of=("self",)).select_related("location", "service").get(pk=appointment.pk)
    )
    if locked.status != Appointment.Status.CONFIRMED:
        raise BookingError("not_changeable", f"This appointment is {locked.get_status_display().lower()}.")
    if by_patient and not patient_may_change(locked, now=now):
        raise BookingError("too_late", TOO_LATE_MESSAGE.format(hours=settings.BOOKING_CANCELLATION_WINDOW_HOURS))
    return locked


def cancel_appointment(
    *, appointment: Appointment, reason: str = "", by_patient: bool, now: datetime | None = None
) -> Appointment:
    """Cancel (a state, never a delete). Patients only until the cancellation window; staff any time."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_for_patient_change(appointment, by_patient=by_patient, now=now)
        locked.status = Appointment.Status.CANCELLED
        locked.cancelled_at = now
        locked.cancellation_reason = reason.strip()[:500]
        locked._change_reason = "cancelled by patient" if by_patient else "cancelled by staff"
        locked.save(update_fields=["status", "cancelled_at", "cancellation_reason", "updated_at"])
    return locked


def reschedule_appointment(
    *, appointment: Appointment, new_start: datetime, by_patient: bool, now: datetime | None = None
) -> Appointment:
    """Move to another free start with the same practitioner, through the same engine and locks."""
    now = now or timezone.now()
    with transaction.atomic():
        # Practitioner first, then the appointment: the order book_appointment locks in.
        Practitioner.objects.select_for_update().filter(pk=appointment.practitioner_id).first()
        locked = _lock_for_patient_change(appointment, by_patient=by_patient, now=now)
        free = slot_at(
            new_start,
            service=locked.service,
            location=locked.location,
            practitioner_ids=[locked.practitioner_id],
            now=now,
            ignoring_appointment_id=locked.pk,
        )
        if free is None:
            raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE)
        locked.start, locked.end = free.start, free.end
        locked.blocked_until = free.end + timedelta(minutes=locked.service.buffer_after_minutes)
        locked._change_reason = "rescheduled by patient" if by_patient else "rescheduled by staff"
        try:
            with transaction.atomic():
                locked.save(update_fields=["start", "end", "blocked_until", "updated_at"])
        except IntegrityError as error:
            _raise_booking_error_for(error)
            raise
    return locked

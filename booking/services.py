"""Where a booking is made. Every path (web, API, admin, commands) books through here.

Concurrency, in the order pretix taught us: lock what becomes less available (the
candidate practitioners' rows, in id order so two bookings never deadlock), re-run the
availability engine for the requested start inside the lock, then insert. The
exclusion constraint `appointment_no_overlap_per_practitioner` is the backstop for any
writer that skips this path; its IntegrityError becomes the same domain error.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.availability import available_slots, bookable_practitioners
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
) -> Appointment:
    """Book `start` for the patient; practitioner=None assigns a free qualified one.

    Raises BookingError with code urgent_care, consent_required, initial_assessment_required
    or slot_unavailable.
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
    with transaction.atomic():
        patient, _ = find_or_create_patient(details=patient_details)
        if service.who_can_book == Service.WhoCanBook.RETURNING and not _has_visited(patient, before=start):
            raise BookingError(
                "initial_assessment_required",
                "Please book an initial assessment first: follow-up visits are for returning patients.",
            )

        # Lock the candidates' rows: concurrent bookings for the same practitioner queue here.
        candidate_ids = list(
            bookable_practitioners(service=service, location=location, practitioner=practitioner).values_list(
                "pk", flat=True
            )
        )
        locked_ids = set(
            Practitioner.objects.select_for_update()
            .filter(pk__in=candidate_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        candidate_ids = [pk for pk in candidate_ids if pk in locked_ids]  # keep the clinic's preference order
        local_day = timezone.localtime(start, location.zone).date()
        free = [
            slot
            for slot in available_slots(
                service=service,
                location=location,
                practitioner=None,
                first_day=local_day,
                last_day=local_day,
                now=now,
                practitioner_ids=candidate_ids,
            )
            if slot.start == start
        ]
        # available_slots(practitioner=None) gives one slot per start, the first free
        # practitioner in the clinic's order: exactly the "any practitioner" choice.
        if not free:
            raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE)
        chosen = free[0]
        appointment = _insert_appointment(
            patient=patient,
            practitioner_id=chosen.practitioner_id,
            location=location,
            service=service,
            start=chosen.start,
            end=chosen.end,
            blocked_until=chosen.end + timedelta(minutes=service.buffer_after_minutes),
            source=source,
            consent=current_consent(),
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


def _insert_appointment(**fields) -> Appointment:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Appointment.objects.create(**fields)
        except IntegrityError as error:
            if "appointment_no_overlap_per_practitioner" in str(error):
                raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE) from error
            if "appointment_reference_key" not in str(error):
                raise
            # Two bookings drew the same 7-character reference (1 in 27 billion): draw again.
    raise RuntimeError("Could not draw a unique booking reference")


def _has_visited(patient, *, before: datetime) -> bool:
    return patient.appointments.filter(start__lt=before, status__in=Appointment.LIVE_STATUSES).exists()

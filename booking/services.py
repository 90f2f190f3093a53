"""Where a booking is made. Every path (web, API, admin, commands) books through here.

Concurrency, in the order pretix taught us: lock what becomes less available (the
candidate practitioners' rows, in id order so two bookings never deadlock), re-run the
availability engine for the requested start inside the lock, then insert. The
exclusion constraint `appointment_no_overlap_per_practitioner` is the backstop for any
writer that skips this path; its IntegrityError becomes the same domain error.
"""

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from booking.availability import BookingRules, bookable_practitioners, local_instant, slot_at
from booking.models import Appointment, TimeOff, TreatmentSeries
from booking.selectors import follow_up_service_offered
from clinic.clock import staff_date_time
from clinic.history import set_change_reason, set_history_user
from clinic.models import Location, Practitioner, Service
from patients.models import Patient, Screening
from patients.services import (
    ONE_OF_THE_RED_FLAGS,
    RED_FLAGS,
    PatientDetails,
    ScreeningAnswers,
    current_consent,
    find_or_create_patient,
)


class BookingErrorCode(StrEnum):
    """Every reason a booking operation is refused: the one list the patient's pages, the API
    (its status per code) and reception's pages (their wording per code) map from."""

    # Booking, and booking a follow-up or an offered time
    URGENT_CARE = "urgent_care"
    CONSENT_REQUIRED = "consent_required"
    CONSENT_CHANGED = "consent_changed"
    DATE_OF_BIRTH_REQUIRED = "date_of_birth_required"
    SLOT_UNAVAILABLE = "slot_unavailable"
    ALREADY_BOOKED = "already_booked"
    INITIAL_ASSESSMENT_REQUIRED = "initial_assessment_required"
    BUSY = "busy"
    FOLLOW_UPS_UNAVAILABLE = "follow_ups_unavailable"
    INVALID_SERIES = "invalid_series"
    INVALID_SESSION = "invalid_session"
    SESSION_BOOKED = "session_booked"
    BEYOND_HORIZON = "beyond_horizon"
    OFFER_CLOSED = "offer_closed"
    OFFER_USED = "offer_used"
    # Changing an appointment
    NOT_CHANGEABLE = "not_changeable"
    TOO_LATE = "too_late"
    CHANGED_MEANWHILE = "changed_meanwhile"
    NOT_QUALIFIED = "not_qualified"
    # Staff: status changes and time off
    INVALID_TRANSITION = "invalid_transition"
    TOO_EARLY = "too_early"
    TIME_OFF = "time_off"
    INVALID_RANGE = "invalid_range"
    INVALID_LOCATION = "invalid_location"
    OVERLAPS_APPOINTMENTS = "overlaps_appointments"
    NOT_FOUND = "not_found"
    # Call-back requests (discovery.services.DiscoveryCallError)
    NOT_OPEN = "not_open"
    INVALID_OUTCOME = "invalid_outcome"
    INVALID_STATUS = "invalid_status"


class BookingError(Exception):
    """The one error a booking operation raises; `message` is fit to show a patient. `code` is
    a BookingErrorCode (a code that is not one is a bug, refused at once)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = BookingErrorCode(code)
        self.message = message


SLOT_TAKEN_MESSAGE = "That time was just taken. Please choose another time."
ALREADY_BOOKED_MESSAGE = "You already have an appointment at that time. Please check your email for its link."
SESSION_BOOKED_MESSAGE = "That follow-up visit is booked already."
TREATMENT_CONSENT_REQUIRED_MESSAGE = "Please read and agree to the treatment consent to book."
CONTACT_CONSENT_REQUIRED_MESSAGE = "Please agree to be contacted, so we can call you at this time."
DATE_OF_BIRTH_REQUIRED_MESSAGE = (
    "This patient's record has no date of birth yet (a discovery call asks none): it is needed to book a treatment."
)


def book_appointment(
    *,
    service: Service,
    location: Location,
    practitioner: Practitioner | None,
    start: datetime,
    patient_details: PatientDetails | None = None,
    patient: Patient | None = None,
    screening: ScreeningAnswers,
    consent_given: bool,
    source: str = Appointment.Source.ONLINE,
    now: datetime | None = None,
    consent_version: str | None = None,
    series: TreatmentSeries | None = None,
    series_session: int | None = None,
    actor: AbstractBaseUser | None = None,
    returning_patient_reason: str = "",
    with_intake: bool = True,
    concern: str = "",
    caller_timezone: str = "",
) -> Appointment:
    """Book `start` for the patient; practitioner=None assigns a free qualified one.

    The patient: `patient`, a record already chosen (reception's pick, a follow-up's source),
    booked as it is; or `patient_details` as typed, recognised or created by
    find_or_create_patient. One of the two.

    `with_intake=False`: a free discovery call booked without the medical intake (the
    patient's wizard). `patient_details` may leave out the date of birth; no screening is kept
    (only its red flags are read: `ONE_OF_THE_RED_FLAGS` is the call's short "is any of these
    happening now?"); `consent_given` is consent to be contacted, and no treatment consent is
    recorded; `concern` (what is going on, in the caller's words) and `caller_timezone` (the
    clock they were told the time on) are kept. Reception and the API still ask the intake
    for a call, and it is kept as for a treatment.

    `consent_version`: the version the patient was shown; a newer one must be read first.
    `series`, `series_session`: the treatment series, and which of its sessions, this visit is.
    `actor`: the staff member booking (reception, for a caller or at the desk), recorded in the
    history; None is the patient online. Staff book under the staff rules (BookingRules.for_staff:
    from the current grid time, up to STAFF_BOOKING_HORIZON_DAYS ahead), and may book a
    returning-only service for a patient the system has not seen when they give
    `returning_patient_reason` (e.g. "treated here before the system"), kept on the appointment.
    Patients online never can.
    Raises BookingError with code urgent_care, consent_required, consent_changed,
    slot_unavailable, initial_assessment_required, already_booked or session_booked.
    """
    if (series is None) != (series_session is None):
        raise ValueError("A series visit needs both its series and its session number.")
    if not with_intake and service.kind != Service.Kind.DISCOVERY_CALL:
        raise ValueError("Only a discovery call is booked without the medical intake.")
    unknown_flags = set(screening.red_flags) - set(RED_FLAGS) - {ONE_OF_THE_RED_FLAGS}
    if unknown_flags:
        raise ValueError(f"Unknown red flags: {sorted(unknown_flags)}")
    if (patient is None) == (patient_details is None):
        raise ValueError("Book for a patient record or for typed details, one of the two.")
    if with_intake and (concern or caller_timezone):
        raise ValueError("With the intake, the answers go in a screening.")
    if patient is not None:
        born = patient.date_of_birth
    else:
        assert patient_details is not None  # one of the two, as checked above
        born = patient_details.date_of_birth
    if with_intake and born is None:
        if patient is None:
            raise ValueError("With the intake, the patient's date of birth is asked.")
        raise BookingError("date_of_birth_required", DATE_OF_BIRTH_REQUIRED_MESSAGE)
    if screening.red_flags:
        # Nothing is written for a refused attempt: no health detail is kept of it.
        raise BookingError(
            "urgent_care",
            "Your answers suggest you may need urgent care. Please do not wait for an appointment: "
            "call your local emergency number or go to the nearest emergency department now.",
        )
    if not consent_given:
        raise BookingError(
            "consent_required", TREATMENT_CONSENT_REQUIRED_MESSAGE if with_intake else CONTACT_CONSENT_REQUIRED_MESSAGE
        )
    returning_patient_reason = returning_patient_reason.strip()[:200]
    if returning_patient_reason and actor is None:
        raise ValueError("Only staff may book a returning-only service for a patient the system has not seen.")

    now = now or timezone.now()
    # A unique-reference clash (1 in 27 billion) retries the whole transaction.
    for _attempt in range(3):
        try:
            with busy_when_locked_out():
                return _book_in_transaction(
                    service=service,
                    location=location,
                    practitioner=practitioner,
                    start=start,
                    patient_details=patient_details,
                    patient=patient,
                    screening=screening,
                    source=source,
                    now=now,
                    consent_version=consent_version,
                    series=series,
                    series_session=series_session,
                    actor=actor,
                    returning_patient_reason=returning_patient_reason,
                    with_intake=with_intake,
                    concern=concern.strip()[:2000],
                    caller_timezone=caller_timezone,
                )
        except IntegrityError as error:
            _raise_booking_error_for(error)
            if "appointment_reference_key" not in str(error):
                raise
    raise RuntimeError("Could not draw a unique booking reference")


BUSY_MESSAGE = "Many bookings are being made at this moment. Nothing was changed: please try again in a few seconds."
# PostgreSQL's lock_not_available: a lock waited for longer than lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


def in_a_transaction() -> None:
    """Row locks are taken inside a transaction: outside one a lock ends at once and guards
    nothing, so the lock helpers refuse. How long they wait for another's lock is bounded on
    every connection (lock_timeout, BOOKING_LOCK_TIMEOUT_MS in settings): a stuck transaction
    must not take every app server's workers with it; busy_when_locked_out then says "busy,
    try again"."""
    if not connection.in_atomic_block:
        raise RuntimeError("Row locks are taken inside a transaction (transaction.atomic).")


@contextlib.contextmanager
def busy_when_locked_out():
    """A lock that waited out lock_timeout becomes the one domain error, code busy."""
    try:
        yield
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:
            raise BookingError("busy", BUSY_MESSAGE) from error
        raise


def lock_practitioner(practitioner_id: int) -> None:
    """Hold the practitioner's row until the transaction ends. Every write that takes or gives
    back a practitioner's time (a reschedule, a corrected no-show, time off) takes this lock
    before any appointment row, as book_appointment does: they queue instead of interleaving,
    and never deadlock. FOR NO KEY UPDATE, not FOR UPDATE: a row that points at the practitioner
    (the freed time a cancellation's trigger writes) has its foreign key checked at COMMIT with
    FOR KEY SHARE, which must not wait for a booking that in turn waits for that transaction's
    schedule stamp (booking_schedule_stamp)."""
    in_a_transaction()
    Practitioner.objects.select_for_update(no_key=True).filter(pk=practitioner_id).first()


def _raise_booking_error_for(error: IntegrityError) -> None:
    """The exclusion constraints are the backstop for writers that skip the locks: their
    violations are the same domain errors the locked checks give."""
    if "appointment_no_overlap_per_practitioner" in str(error):
        raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE) from error
    if "appointment_no_overlap_per_patient" in str(error):
        raise BookingError("already_booked", ALREADY_BOOKED_MESSAGE) from error
    if "appointment_one_live_per_series_session" in str(error):
        raise BookingError("session_booked", SESSION_BOOKED_MESSAGE) from error


@transaction.atomic
def _book_in_transaction(
    *,
    service,
    location,
    practitioner,
    start,
    patient_details,
    patient,
    screening,
    source,
    now,
    consent_version,
    series,
    series_session,
    actor,
    returning_patient_reason,
    with_intake,
    concern,
    caller_timezone,
) -> Appointment:
    consent = current_consent() if with_intake else None
    if consent is not None and consent_version is not None and consent_version != consent.version:
        raise BookingError(
            "consent_changed",
            "Our treatment consent was updated while you were booking. Please read it again and agree to book.",
        )
    # The patient's row is locked first (then the practitioners): a double-submitted form
    # waits here and then finds the first submission's appointment below.
    if patient is not None:
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
    else:
        patient = find_or_create_patient(details=patient_details, lock=True)

    # Lock the candidates' rows (in id order, so two bookings never deadlock; NO KEY, as
    # lock_practitioner says): concurrent bookings for the same practitioner queue here, then
    # each re-checks the time below.
    candidates = sorted(
        Practitioner.objects.select_for_update(no_key=True)
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
        start,
        service=service,
        location=location,
        practitioner_ids=[candidate.pk for candidate in candidates],
        now=now,
        rules=BookingRules.for_staff() if actor is not None else None,
    )
    if chosen is None:
        # Only on this failure path, one more query to tell a double submission apart.
        if Appointment.objects.live().filter(patient=patient).overlapping(start, start + timedelta(minutes=1)).exists():
            raise BookingError("already_booked", ALREADY_BOOKED_MESSAGE)
        raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE)
    # Checked only once the time is known to be free, so the answer to "is this person
    # our patient?" is not given away by a request for a time nobody could have.
    if service.who_can_book != Service.WhoCanBook.RETURNING or _has_visited(patient, before=start):
        returning_patient_reason = ""  # only recorded where it was what allowed the booking
    elif not returning_patient_reason:
        raise BookingError(
            "initial_assessment_required",
            "Please book an initial assessment first: follow-up visits are for returning patients.",
        )
    appointment = Appointment(
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
        series=series,
        series_session=series_session,
        returning_patient_reason=returning_patient_reason,
        concern=concern,
        caller_timezone=caller_timezone,
    )
    if actor is not None:
        set_history_user(appointment, actor)
        set_change_reason(appointment, "booked by staff")
    appointment.save(force_insert=True)
    if with_intake:  # a call booked without it keeps no health answers: they come with a treatment
        Screening.objects.create(appointment=appointment, **screening.stored())
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


def _lock_for_change(appointment: Appointment, *, by_patient: bool, now: datetime) -> Appointment:
    # of=("self",): without it PostgreSQL also locks the joined location and service rows,
    # which every booking's foreign-key check there must share: a deadlock with
    # book_appointment, and all bookings at the location waiting on one cancellation.
    in_a_transaction()
    locked = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location", "service", "practitioner")
        .get(pk=appointment.pk)
    )
    if locked.status != Appointment.Status.CONFIRMED:
        raise BookingError("not_changeable", f"This appointment is {locked.get_status_display().lower()}.")
    if by_patient and not patient_may_change(locked, now=now):
        raise BookingError("too_late", TOO_LATE_MESSAGE.format(hours=settings.BOOKING_CANCELLATION_WINDOW_HOURS))
    return locked


def _record_actor(appointment: Appointment, actor: AbstractBaseUser | None, *, done: str) -> None:
    set_change_reason(appointment, f"{done} by {'staff' if actor is not None else 'patient'}")
    appointment.changed_by = Appointment.ChangedBy.CLINIC if actor is not None else Appointment.ChangedBy.PATIENT
    if actor is not None:
        set_history_user(appointment, actor)


@busy_when_locked_out()
def cancel_appointment(
    *,
    appointment: Appointment,
    reason: str = "",
    actor: AbstractBaseUser | None,
    share_reason: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Cancel (a state, never a delete). `actor`: the staff member cancelling, any time; None is the
    patient through their link, only until the cancellation window. The worker then tells the
    patient (booking/notifications.py), with the reason only if the clinic chose `share_reason`."""
    now = now or timezone.now()
    if share_reason and actor is None:
        raise ValueError("Only the clinic chooses to share its reason; the patient knows their own.")
    with transaction.atomic():
        locked = _lock_for_change(appointment, by_patient=actor is None, now=now)
        locked.status = Appointment.Status.CANCELLED
        locked.cancelled_at = now
        locked.cancellation_reason = reason.strip()[:500]
        locked.cancellation_reason_shared = share_reason and bool(locked.cancellation_reason)
        locked.sequence += 1
        _record_actor(locked, actor, done="cancelled")
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancellation_reason",
                "cancellation_reason_shared",
                "sequence",
                "changed_by",
                "updated_at",
            ]
        )
    return locked


NOT_QUALIFIED_MESSAGE = "{practitioner} does not give {service} at {location}."


CHANGED_MEANWHILE_MESSAGE = "This appointment was changed meanwhile (moved or updated by someone else): look again."


@busy_when_locked_out()
def reschedule_appointment(
    *,
    appointment: Appointment,
    new_start: datetime,
    actor: AbstractBaseUser | None,
    new_practitioner: Practitioner | None = None,
    if_unchanged_since: datetime | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move to another free start, through the same engine and locks as a booking.

    `actor`: the staff member moving it (reception: the calendar's drop, its Move page, the
    admin), recorded in the history; staff may move a confirmed appointment at any time, to a
    start the staff rules allow, and to `new_practitioner` (qualified for its service at its
    location). None is the patient through their link: the same practitioner, until the
    cancellation window, under the patients' rules.
    `if_unchanged_since`: the appointment's updated_at as the page showed it; a move decided on
    a picture someone else has changed since is refused, not applied over their change.

    Raises BookingError: not_changeable, too_late, changed_meanwhile, not_qualified,
    slot_unavailable (taken, time off, outside the practitioner's hours or the rules),
    already_booked (the patient has another appointment then).
    """
    now = now or timezone.now()
    if actor is None and new_practitioner is not None:
        raise ValueError("Patients move their appointment with the same practitioner.")
    with transaction.atomic():
        # The practitioner it is with now, read afresh: the caller's copy may be older than a
        # move someone else has committed since.
        current_id = Appointment.objects.filter(pk=appointment.pk).values_list("practitioner_id", flat=True).get()
        target_id = new_practitioner.pk if new_practitioner is not None else current_id
        # Both practitioners' rows, in id order as book_appointment locks them: the time given
        # back and the time taken, without a deadlock against a booking for either.
        for practitioner_id in sorted({current_id, target_id}):
            lock_practitioner(practitioner_id)
        locked = _lock_for_change(appointment, by_patient=actor is None, now=now)
        if locked.practitioner_id != current_id or (
            if_unchanged_since is not None and locked.updated_at != if_unchanged_since
        ):
            # Moved between the fresh read and the lock (its practitioner's row is then not
            # locked), or since the page that asked for this move was drawn.
            raise BookingError("changed_meanwhile", CHANGED_MEANWHILE_MESSAGE)
        if target_id != locked.practitioner_id:
            qualified = bookable_practitioners(
                service=locked.service, location=locked.location, practitioner=new_practitioner
            ).exists()
            if not qualified:
                raise BookingError(
                    "not_qualified",
                    NOT_QUALIFIED_MESSAGE.format(
                        practitioner=new_practitioner, service=locked.service.name, location=locked.location.name
                    ),
                )
        free = slot_at(
            new_start,
            service=locked.service,
            location=locked.location,
            practitioner_ids=[target_id],
            now=now,
            ignoring_appointment_id=locked.pk,
            rules=BookingRules.for_staff() if actor is not None else None,
        )
        if free is None:
            raise BookingError("slot_unavailable", SLOT_TAKEN_MESSAGE)
        locked.practitioner_id = target_id
        locked.start, locked.end = free.start, free.end
        locked.blocked_until = free.end + timedelta(minutes=locked.service.buffer_after_minutes)
        # The reminder belongs to the new time: a move after it went out gets one again.
        locked.reminder_sent_at = None
        locked.sequence += 1
        locked.moved_at = now
        _record_actor(locked, actor, done="rescheduled")
        try:
            with transaction.atomic():
                locked.save(
                    update_fields=[
                        "practitioner",
                        "start",
                        "end",
                        "blocked_until",
                        "reminder_sent_at",
                        "sequence",
                        "moved_at",
                        "changed_by",
                        "updated_at",
                    ]
                )
        except IntegrityError as error:
            _raise_booking_error_for(error)
            raise
    return locked


# Treatment series: "book my follow-ups" --------------------------------------------------
#
# The series row is made first, in a short transaction that holds the source appointment's
# row: two submissions of the form queue there, and the second finds the first's series and
# books nothing. Then each session is booked by book_appointment, each in its own transaction
# like any booking, never inside one around them all: a session that fails (taken, time off,
# too far ahead) would roll back the sessions booked before it, and every practitioner and
# patient lock would be held until the last session. A session is booked or it is not, and
# the series page shows which.

FOLLOW_UPS_UNAVAILABLE_MESSAGE = (
    "Follow-up visits cannot be booked online from this appointment. Please call the clinic and we will help."
)
SERIES_CONSENT_CHANGED_MESSAGE = (
    "Our treatment consent has been updated since this page was shown. Please read it and agree to book."
)


@dataclass(frozen=True)
class SessionOutcome:
    number: int  # 1: the first follow-up
    wanted_start: datetime
    appointment: Appointment | None = None
    error: BookingError | None = None  # why it was not booked


@dataclass(frozen=True)
class SeriesResult:
    series: TreatmentSeries
    created: bool  # False: an earlier submission made this series, and this one booked nothing
    sessions: list[SessionOutcome]

    @property
    def booked(self) -> list[Appointment]:
        return [outcome.appointment for outcome in self.sessions if outcome.appointment is not None]


def follow_up_starts(*, after: datetime, zone: ZoneInfo, sessions: int, interval_weeks: int) -> list[datetime]:
    """The instants of `sessions` visits, every `interval_weeks` weeks after `after`, each at
    after's wall-clock time in `zone`: 10:00 stays 10:00 when the clocks change in between
    (the real interval is then an hour more or less). A wall time that a clock change skips
    becomes what local_instant makes of it (02:30 becomes 03:30)."""
    local = timezone.localtime(after, zone)
    return [
        local_instant(local.date() + timedelta(weeks=interval_weeks * number), local.time(), zone)
        for number in range(1, sessions + 1)
    ]


def book_follow_ups(
    *,
    appointment: Appointment,
    sessions: int,
    interval_weeks: int,
    consent_given: bool,
    consent_version: str,
    now: datetime | None = None,
) -> SeriesResult:
    """Book `sessions` (1-6) follow-up visits after `appointment`, every `interval_weeks` (1 or 2)
    weeks at its local time, with its practitioner and location, for its patient.

    Each visit carries the screening answers given with `appointment`: `consent_given` says the
    patient confirmed they still apply and agreed to the consent text of `consent_version`.
    Sessions that cannot be booked (taken, time off, beyond the booking horizon, another
    appointment of the patient's) are left unbooked, each with its BookingError in the result;
    the others stay booked. Called again for the same appointment, it books nothing and returns
    the series the first call made (created=False).

    Raises BookingError, and then books nothing: consent_required, consent_changed,
    invalid_series or follow_ups_unavailable (not a confirmed treatment with a follow-up service
    its practitioner gives there).
    """
    if not consent_given:
        raise BookingError(
            "consent_required", "Please confirm that your health answers still apply and that you agree to the consent."
        )
    if not 1 <= sessions <= TreatmentSeries.MAX_SESSIONS or interval_weeks not in TreatmentSeries.Interval.values:
        raise BookingError(
            "invalid_series", f"Choose 1 to {TreatmentSeries.MAX_SESSIONS} visits, every week or every two weeks."
        )
    now = now or timezone.now()
    series, created = _start_series(
        appointment=appointment, sessions=sessions, interval_weeks=interval_weeks, consent_version=consent_version
    )
    if not created:
        return SeriesResult(series=series, created=False, sessions=[])
    source = series.source_appointment
    # The answers given with the source; no red flags: the patient confirmed none applies now.
    screening = ScreeningAnswers.given_with(source.screening)
    outcomes = []
    rules = BookingRules.from_settings()
    for number, wanted_start in enumerate(series.wanted_starts, start=1):
        if wanted_start > rules.latest_start(now):
            error = BookingError("beyond_horizon", f"Bookings open {settings.BOOKING_HORIZON_DAYS} days ahead.")
            outcomes.append(SessionOutcome(number, wanted_start, error=error))
            continue
        try:
            booked = _book_series_visit(
                series, number, wanted_start, patient=source.patient, screening=screening, now=now
            )
        except BookingError as error:
            outcomes.append(SessionOutcome(number, wanted_start, error=error))
        else:
            outcomes.append(SessionOutcome(number, wanted_start, appointment=booked))
    # Now the worker sends one email for the visits booked (booking/notifications.py).
    TreatmentSeries.objects.filter(pk=series.pk).update(booked_at=timezone.now())
    return SeriesResult(series=series, created=True, sessions=outcomes)


@transaction.atomic
def _start_series(
    *, appointment: Appointment, sessions: int, interval_weeks: int, consent_version: str
) -> tuple[TreatmentSeries, bool]:
    # of=("self",): the joined rows are only read (see _lock_for_change). Held only
    # while the series row is made: the sessions are booked after this commits.
    source = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("service__follow_up_service", "location", "practitioner", "patient", "screening")
        .get(pk=appointment.pk)
    )
    existing = TreatmentSeries.objects.filter(source_appointment=source).first()
    if existing is not None:
        return existing, False
    follow_up = follow_up_service_offered(source)
    if follow_up is None:
        raise BookingError("follow_ups_unavailable", FOLLOW_UPS_UNAVAILABLE_MESSAGE)
    consent = current_consent()
    if consent_version != consent.version:
        raise BookingError("consent_changed", SERIES_CONSENT_CHANGED_MESSAGE)
    series = TreatmentSeries.objects.create(
        source_appointment=source,
        service=follow_up,
        practitioner=source.practitioner,
        location=source.location,
        interval_weeks=interval_weeks,
        sessions_requested=sessions,
        wanted_starts=follow_up_starts(
            after=source.start, zone=source.location.zone, sessions=sessions, interval_weeks=interval_weeks
        ),
        consent=consent,
    )
    return series, True


def book_series_session(
    *, series: TreatmentSeries, session: int, start: datetime, now: datetime | None = None
) -> Appointment:
    """Book session `session` of a series at `start`: one of the other times offered for a
    week that could not be booked, or whose visit was cancelled. The same rules as any booking,
    with the answers and consent given for the series.

    Raises BookingError: invalid_session, session_booked, or any of book_appointment's
    (consent_changed when the consent text has changed since the series was booked).
    """
    if not 1 <= session <= series.sessions_requested:
        raise BookingError("invalid_session", "That visit is not one of your follow-ups.")
    # Only to say it kindly: the unique constraint refuses a second live visit anyway.
    if series.appointments.live().filter(series_session=session).exists():
        raise BookingError("session_booked", SESSION_BOOKED_MESSAGE)
    source = Appointment.objects.select_related("patient", "screening").get(pk=series.source_appointment_id)
    return _book_series_visit(
        series,
        session,
        start,
        patient=source.patient,
        screening=ScreeningAnswers.given_with(source.screening),
        now=now or timezone.now(),
    )


def _book_series_visit(
    series: TreatmentSeries,
    session: int,
    start: datetime,
    *,
    patient: Patient,
    screening: ScreeningAnswers,
    now: datetime,
) -> Appointment:
    return book_appointment(
        service=series.service,
        location=series.location,
        practitioner=series.practitioner,
        start=start,
        patient=patient,
        screening=screening,
        consent_given=True,  # given for the series (book_follow_ups' consent_given)
        consent_version=series.consent.version,
        source=Appointment.Source.ONLINE,
        now=now,
        series=series,
        series_session=session,
    )


# Status changes at the front desk ------------------------------------------------------
#
# confirmed -> arrived        on the appointment's local day or later (not for a future day:
#                             that is a click on the wrong row)
# confirmed/arrived -> completed   once the start time has passed
# confirmed -> no_show        once the start time has passed; never from arrived (the patient is here)
# no_show -> arrived/completed     correcting a mistaken no-show: the patient did come
# cancelled and completed are final (book again instead); a no-show is final but for that correction.

_STAFF_TRANSITIONS: dict[str, set[str]] = {
    Appointment.Status.ARRIVED: {Appointment.Status.CONFIRMED, Appointment.Status.NO_SHOW},
    Appointment.Status.COMPLETED: {
        Appointment.Status.CONFIRMED,
        Appointment.Status.ARRIVED,
        Appointment.Status.NO_SHOW,
    },
    Appointment.Status.NO_SHOW: {Appointment.Status.CONFIRMED},
}
_TARGET_WORDS: dict[str, str] = {
    Appointment.Status.ARRIVED: "arrived",
    Appointment.Status.COMPLETED: "completed",
    Appointment.Status.NO_SHOW: "a no-show",
}


def mark_arrived(
    *, appointment: Appointment, by: AbstractBaseUser | None = None, now: datetime | None = None
) -> Appointment:
    """The patient is at the desk. From confirmed, on the appointment's local day or after;
    also from no-show, to correct a no-show marked by mistake (the time must still be free)."""
    return _change_status(appointment, to=Appointment.Status.ARRIVED, by=by, now=now)


def mark_completed(
    *, appointment: Appointment, by: AbstractBaseUser | None = None, now: datetime | None = None
) -> Appointment:
    """The visit took place. From confirmed or arrived once the start time has passed; also from
    no-show, to correct a no-show marked by mistake (the time must still be free)."""
    return _change_status(appointment, to=Appointment.Status.COMPLETED, by=by, now=now)


def mark_no_show(
    *, appointment: Appointment, by: AbstractBaseUser | None = None, now: datetime | None = None
) -> Appointment:
    """The patient did not come. Only from confirmed and once the start time has passed: an
    arrived patient is no no-show. Undo a mistaken no-show with mark_arrived or mark_completed."""
    return _change_status(appointment, to=Appointment.Status.NO_SHOW, by=by, now=now)


# The staff's status buttons (the practitioner's appointment page, the front desk's panel), in order.
STATUS_CHANGES = [Appointment.Status.ARRIVED, Appointment.Status.COMPLETED, Appointment.Status.NO_SHOW]


def allowed_status_changes(appointment: Appointment, *, now: datetime | None = None) -> list[str]:
    """The changes the booking services would accept now: asked of their own rule, so the page
    never offers a button the service refuses (a race can still refuse one; the view says why).
    Not the no-show correction's overlap check, which only the write can make."""
    now = now or timezone.now()
    allowed: list[str] = []
    for status in STATUS_CHANGES:
        try:
            refuse_unless_allowed(appointment, to=status, now=now)
        except BookingError:
            continue
        allowed.append(status)
    return allowed


def mark_status(
    *, appointment: Appointment, status: str, by: AbstractBaseUser | None = None, now: datetime | None = None
) -> Appointment:
    """One of the staff's status buttons: arrived, completed or no-show, with their rules."""
    marks: dict[str, Callable[..., Appointment]] = {
        Appointment.Status.ARRIVED: mark_arrived,
        Appointment.Status.COMPLETED: mark_completed,
        Appointment.Status.NO_SHOW: mark_no_show,
    }
    return marks[status](appointment=appointment, by=by, now=now)


@busy_when_locked_out()
def _change_status(
    appointment: Appointment, *, to: str, by: AbstractBaseUser | None, now: datetime | None
) -> Appointment:
    """Raises BookingError with code invalid_transition, too_early or slot_unavailable;
    the messages are for staff."""
    now = now or timezone.now()
    with transaction.atomic():
        if appointment.status == Appointment.Status.NO_SHOW:
            # Making a no-show live again takes the practitioner's time back: time off cannot be
            # added meanwhile.
            lock_practitioner(appointment.practitioner_id)
        # of=("self",): the location row is joined only to read its zone; locking it too
        # would make every booking at the location wait (see _lock_for_change).
        locked = Appointment.objects.select_for_update(of=("self",)).select_related("location").get(pk=appointment.pk)
        refuse_unless_allowed(locked, to=to, now=now)
        correcting_no_show = locked.status == Appointment.Status.NO_SHOW
        if correcting_no_show and _time_off_over(locked):
            raise BookingError(
                "time_off",
                "Cannot correct this no-show: the practitioner (or the location) has time off at that time since. "
                "Remove the time off first if the visit did take place.",
            )
        locked.status = to
        locked.sequence += 1
        marked = f"marked {Appointment.Status(to).label.lower()}"
        set_change_reason(locked, f"no-show corrected: {marked}" if correcting_no_show else marked)
        if by is not None:
            set_history_user(locked, by)
        try:
            # A no-show's time was given back: if someone else has been booked into it since,
            # the exclusion constraints refuse to make this one live again.
            with transaction.atomic():
                locked.save(update_fields=["status", "sequence", "updated_at"])
        except IntegrityError as error:
            if "appointment_no_overlap_per_practitioner" in str(error):
                raise BookingError(
                    "slot_unavailable",
                    "Cannot correct this no-show: the practitioner's time has been booked for someone else since. "
                    "Book the patient a new appointment instead.",
                ) from error
            if "appointment_no_overlap_per_patient" in str(error):
                raise BookingError(
                    "slot_unavailable",
                    "Cannot correct this no-show: the patient has another appointment at that time now.",
                ) from error
            raise
    return locked


def refuse_unless_allowed(appointment: Appointment, *, to: str, now: datetime) -> None:
    current = appointment.status
    if current == to:
        raise BookingError("invalid_transition", f"Already marked as {_TARGET_WORDS[to]}.")
    if current not in _STAFF_TRANSITIONS[to]:
        current_words = appointment.get_status_display().lower()
        article = "an" if current_words[0] in "aeiou" else "a"
        message = f"Cannot mark {article} {current_words} appointment as {_TARGET_WORDS[to]}."
        if current == Appointment.Status.ARRIVED and to == Appointment.Status.NO_SHOW:
            message = "Cannot mark an arrived appointment as a no-show: the patient came."
        raise BookingError("invalid_transition", message)
    zone = appointment.location.zone
    if to == Appointment.Status.ARRIVED:
        if timezone.localtime(appointment.start, zone).date() > timezone.localtime(now, zone).date():
            raise BookingError(
                "too_early",
                f"Cannot mark as arrived before the appointment's day "
                f"({timezone.localtime(appointment.start, zone):%a %d %b %Y}).",
            )
    elif now < appointment.start:
        raise BookingError(
            "too_early",
            f"Cannot mark as {_TARGET_WORDS[to]} before the start time "
            f"({staff_date_time(timezone.localtime(appointment.start, zone), year=False)}).",
        )


# Time off a practitioner takes from their schedule pages ---------------------------------
#
# Time off makes a practitioner less available, so it takes the lock bookings take: the
# practitioner's row. A booking and a time off for the same practitioner then queue on that
# row, and whichever comes second sees the first (under READ COMMITTED each statement after
# the lock reads what the first committed): the booking's engine run finds the time off, or
# the time off finds the booking. Without the lock both could check, find nothing, and insert.


class TimeOffOverlapsAppointments(BookingError):
    """Time off refused because patients are booked in it. `appointments` (with their
    locations) are listed so reception can move them first."""

    def __init__(self, appointments: list[Appointment]):
        self.appointments = appointments
        lines = "; ".join(_appointment_line(appointment) for appointment in appointments)
        count = len(appointments)
        noun = "a booked appointment" if count == 1 else f"{count} booked appointments"
        super().__init__(
            "overlaps_appointments",
            f"This time off overlaps {noun}: {lines}. Ask reception to move "
            f"{'it' if count == 1 else 'them'}, then add the time off.",
        )


def _appointment_line(appointment: Appointment) -> str:
    # The reference and the location's own local time: what reception searches by and reads.
    when = staff_date_time(appointment.local_start, zone_name=True)
    return f"{appointment.reference} {when} at {appointment.location.name}"


def add_time_off(
    *,
    practitioner: Practitioner,
    start: datetime,
    end: datetime,
    reason: str,
    by: AbstractBaseUser | None,
    location: Location | None = None,
) -> TimeOff:
    """The practitioner is away from `start` to `end` (aware instants), everywhere.

    `location` names whose local time the times were typed in (needed to show them again
    when the practitioner works in several zones; see booking.models.time_off_zone).
    Raises BookingError with code invalid_range, invalid_location or overlaps_appointments
    (a TimeOffOverlapsAppointments listing them); nothing is stored then.
    """
    if start >= end:
        raise BookingError("invalid_range", "The end must be after the start.")
    if location is not None and not practitioner.locations.filter(pk=location.pk).exists():
        raise BookingError("invalid_location", f"{practitioner} does not work at {location}.")
    with transaction.atomic():
        lock_practitioner(practitioner.pk)
        # The same test as the engine's: the appointment itself must not touch time off;
        # its buffer may (cleaning up as the break begins is fine).
        overlapping = list(
            Appointment.objects.live()
            .filter(practitioner=practitioner, start__lt=end, end__gt=start)
            .select_related("location")
            .order_by("start")
        )
        if overlapping:
            raise TimeOffOverlapsAppointments(overlapping)
        time_off = TimeOff(
            practitioner=practitioner, location=location, start=start, end=end, reason=reason.strip()[:200]
        )
        set_history_user(time_off, by)
        set_change_reason(time_off, "added by the practitioner")
        time_off.save()
    return time_off


def _time_off_over(appointment: Appointment) -> bool:
    return (
        TimeOff.objects.filter(Q(practitioner_id=appointment.practitioner_id) | Q(location_id=appointment.location_id))
        .filter(start__lt=appointment.end, end__gt=appointment.start)
        .exists()
    )


def remove_time_off(
    *, time_off: TimeOff, practitioner: Practitioner, by: AbstractBaseUser | None, now: datetime | None = None
) -> None:
    """Remove one of the practitioner's own time off that has not ended (past time off is the
    record of absences); its time becomes bookable again. Raises BookingError (not_found) for
    anyone else's, a past one, or one already removed."""
    now = now or timezone.now()
    with transaction.atomic():
        # Locked so that two clicks on "Remove" record one removal, not two.
        own = TimeOff.objects.select_for_update().filter(pk=time_off.pk, practitioner=practitioner, end__gt=now).first()
        if own is None:
            raise BookingError("not_found", "That time off is not in your schedule (it may have been removed already).")
        set_history_user(own, by)
        set_change_reason(own, "removed by the practitioner")
        own.delete()

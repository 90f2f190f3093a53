"""Writes for discovery-call requests: submitting one, and reception working on it.

Status machine (anything else raises DiscoveryCallError with a message for reception):

    new ──any call logged──▶ contacted
    contacted ──3rd unanswered call, nobody ever reached──▶ no_answer
    no_answer ──a later call gets through──▶ contacted
    new | contacted | no_answer ──▶ booked (mark_request_booked), not_a_fit or closed (close_request)

booked, not_a_fit and closed are final.

Locks: a patient's row before a request's row, everywhere (convert_to_patient, the phone
booking's book_appointment + mark_request_booked, merge_patients); two transactions taking
them in opposite orders deadlock.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.models import Appointment
from booking.services import BookingError
from clinic.history import set_change_reason, set_history_user
from clinic.locks import advisory_xact_lock
from clinic.models import Condition
from discovery.models import CallAttempt, DiscoveryCallRequest
from patients.models import Patient
from patients.services import PatientDetails, find_or_create_patient

REPEAT_WINDOW = timedelta(hours=24)
UNANSWERED_ATTEMPTS_BEFORE_NO_ANSWER = 3

Status = DiscoveryCallRequest.Status
FINAL_STATUSES = frozenset({Status.BOOKED, Status.NOT_A_FIT, Status.CLOSED})


class DiscoveryCallError(BookingError):
    """The one error these operations raise; `message` is written for reception.

    A BookingError, so that the phone-booking form, which books and then calls
    mark_request_booked in one transaction, shows it like any other booking refusal."""

    def __init__(self, message: str, *, code: str):
        super().__init__(code, message)


@dataclass(frozen=True)
class CallBackDetails:
    name: str
    phone: str  # E.164
    email: str
    best_time: str
    concern: str = ""
    conditions: tuple[Condition, ...] = ()
    heard_about: str = ""
    heard_about_other: str = ""
    consent_to_contact: bool = False
    caller_timezone: str = ""  # IANA; empty: the clinic's call-back zone


def submit_call_request(*, details: CallBackDetails, now: datetime | None = None) -> tuple[DiscoveryCallRequest, bool]:
    """Store a call-back request; created=False when this phone number already asked in the
    last 24 hours. Either way the caller gets a request of its own, with its own reference, and
    an acknowledgement to the address typed: answering with the earlier request (or with no
    email) would tell anyone who types a stranger's number that this person asked a pain clinic
    for a call. A repeat is kept with the earlier request (repeat_of, closed): reception works
    one request, and is not notified twice. Its acknowledgement is skipped only when it would
    go to the address the earlier one went to (a double click), which the caller cannot see."""
    if not details.consent_to_contact:
        raise DiscoveryCallError("Please agree to be contacted so we can call you back.", code="consent_required")
    now = now or timezone.now()
    # A unique-reference clash (1 in 28 million per pair) retries the whole transaction.
    for _attempt in range(3):
        try:
            return _submit_in_transaction(details=details, now=now)
        except IntegrityError as error:
            if "discoverycallrequest_reference_key" not in str(error):
                raise
    raise RuntimeError("Could not draw a unique discovery-call reference")


@transaction.atomic
def _submit_in_transaction(*, details: CallBackDetails, now: datetime) -> tuple[DiscoveryCallRequest, bool]:
    # Look-then-insert is only safe if two submissions for one number cannot interleave:
    # a transaction-scoped advisory lock on the number serialises them (other numbers are
    # not held up), and is released by the commit that makes the new row visible.
    advisory_xact_lock(f"discovery-call:{details.phone}")
    existing = (
        DiscoveryCallRequest.objects.filter(
            phone=details.phone, created_at__gt=now - REPEAT_WINDOW, repeat_of__isnull=True
        )
        .order_by("-created_at")
        .first()
    )
    call_request = DiscoveryCallRequest(
        name=details.name.strip(),
        phone=details.phone,
        email=details.email.strip(),
        best_time=details.best_time,
        caller_timezone=details.caller_timezone,
        concern=details.concern.strip(),
        heard_about=details.heard_about,
        heard_about_other=details.heard_about_other.strip()
        if details.heard_about == DiscoveryCallRequest.HeardAbout.OTHER
        else "",
        consent_to_contact=True,
        consented_at=now,
        created_at=now,
    )
    if existing is not None:
        call_request.repeat_of = existing
        call_request.status = DiscoveryCallRequest.Status.CLOSED
        call_request.clinic_notified_at = now  # reception has the first one
        if call_request.email.lower() == existing.email.lower():
            call_request.acknowledgement_sent_at = now  # they have the first acknowledgement
        set_change_reason(call_request, f"asked again: kept with {existing.reference}")
    # The author is the public, even when a logged-in staff member's cookie rides along.
    set_history_user(call_request, None)
    call_request.save(force_insert=True)
    if details.conditions:
        call_request.conditions.set(details.conditions)
    return call_request, existing is None


def _locked(call_request: DiscoveryCallRequest) -> DiscoveryCallRequest:
    return DiscoveryCallRequest.objects.select_for_update().get(pk=call_request.pk)


def _refuse_if_final(call_request: DiscoveryCallRequest, consequence: str) -> None:
    if call_request.status in FINAL_STATUSES:
        raise DiscoveryCallError(
            f"Request {call_request.reference} is {call_request.get_status_display().lower()}, so {consequence}.",
            code="not_open",
        )


def _save(call_request: DiscoveryCallRequest, *, by, reason: str, fields: list[str]) -> None:
    set_history_user(call_request, by)
    set_change_reason(call_request, reason)
    call_request.save(update_fields=[*fields, "updated_at"])


def log_call_attempt(
    *,
    call_request: DiscoveryCallRequest,
    outcome: str,
    note: str = "",
    by=None,
    now: datetime | None = None,
) -> CallAttempt:
    """Record a call and move the request on: any attempt makes it contacted; the third
    unanswered one, if nobody was ever reached, makes it no_answer."""
    if outcome not in CallAttempt.Outcome.values:
        raise DiscoveryCallError("Please choose what happened on the call.", code="invalid_outcome")
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock makes the count below and the new status agree when two
        # receptionists log calls on the same request at once.
        locked = _locked(call_request)
        _refuse_if_final(locked, "no more calls can be logged on it")
        attempt = CallAttempt(request=locked, outcome=outcome, note=note.strip(), by=by, attempted_at=now)
        set_history_user(attempt, by)
        attempt.save()
        outcomes = list(locked.attempts.values_list("outcome", flat=True))
        unanswered = sum(1 for each in outcomes if each != CallAttempt.Outcome.REACHED)
        ever_reached = CallAttempt.Outcome.REACHED in outcomes
        if not ever_reached and unanswered >= UNANSWERED_ATTEMPTS_BEFORE_NO_ANSWER:
            new_status = Status.NO_ANSWER
        else:
            new_status = Status.CONTACTED
        if locked.status != new_status:
            locked.status = new_status
            _save(locked, by=by, reason=f"call attempt: {attempt.get_outcome_display().lower()}", fields=["status"])
    call_request.status = locked.status
    return attempt


def convert_to_patient(
    *,
    call_request: DiscoveryCallRequest,
    first_name: str,
    last_name: str,
    date_of_birth: date,
    email: str | None = None,
    phone: str | None = None,
    by=None,
) -> Patient:
    """Find the patient (email + date of birth) or create one, and link the request to them.
    An existing patient's record is not changed (find_or_create_patient's rule)."""
    with transaction.atomic():
        # Lock order: the patient's row, then the request's, as the phone booking takes them
        # (book_appointment locks the patient, then mark_request_booked locks the request).
        # Locking the request first and then pointing it at the patient (whose foreign-key
        # check waits on a booking's lock of that patient) deadlocks with that booking.
        # The contact details for the patient are read without a lock; the status is
        # checked again once the request is locked.
        current = DiscoveryCallRequest.objects.only("pk", "reference", "status", "email", "phone").get(
            pk=call_request.pk
        )
        _refuse_if_final(current, "it cannot be converted any more")
        patient = find_or_create_patient(
            details=PatientDetails(
                first_name=first_name,
                last_name=last_name,
                email=email or current.email,
                phone=phone or current.phone.as_e164,
                date_of_birth=date_of_birth,
            ),
            lock=True,
        )
        locked = _locked(call_request)
        _refuse_if_final(locked, "it cannot be converted any more")
        if locked.patient_id != patient.pk:
            locked.patient = patient
            _save(locked, by=by, reason="converted to patient", fields=["patient"])
    call_request.patient = patient
    return patient


def mark_request_booked(*, call_request_id: int, appointment: Appointment, by) -> DiscoveryCallRequest:
    """The phone-booking form books `appointment` and then calls this, in its own
    transaction: the request and the booking are saved together or not at all."""
    with transaction.atomic():
        locked = DiscoveryCallRequest.objects.select_for_update().filter(pk=call_request_id).first()
        if locked is None:
            raise DiscoveryCallError("That discovery-call request no longer exists.", code="not_found")
        if locked.status == Status.BOOKED and locked.appointment_id == appointment.pk:
            return locked  # the same booking reported twice
        _refuse_if_final(locked, "it cannot be marked booked")
        locked.status = Status.BOOKED
        locked.appointment = appointment
        locked.patient_id = appointment.patient_id
        _save(locked, by=by, reason=f"booked {appointment.reference}", fields=["status", "appointment", "patient"])
    return locked


def close_request(*, call_request: DiscoveryCallRequest, status: str, by=None) -> DiscoveryCallRequest:
    """Close a request as not a fit, or simply closed (e.g. they booked online themselves)."""
    if status not in {Status.NOT_A_FIT, Status.CLOSED}:
        raise DiscoveryCallError("A request can only be closed as “not a fit” or “closed”.", code="invalid_status")
    with transaction.atomic():
        locked = _locked(call_request)
        _refuse_if_final(locked, "it cannot be changed any more")
        locked.status = status
        _save(locked, by=by, reason=f"marked {Status(status).label.lower()}", fields=["status"])
    call_request.status = locked.status
    return locked

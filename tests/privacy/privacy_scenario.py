"""One person the clinic holds a lot about, for the export and anonymise tests: visits booked
through the real services (one completed, one cancelled with a reason), screening free text, a
call-back request with a concern and a call note, a waiting-list place, a merged duplicate and
a staff edit, each leaving its history."""

from dataclasses import dataclass
from datetime import date, timedelta

from booking.models import Appointment
from booking.services import book_appointment, cancel_appointment, mark_completed
from discovery.models import DiscoveryCallRequest
from discovery.services import CallBackDetails, log_call_attempt, submit_call_request
from patients.models import Patient
from patients.services import PatientDetails, ScreeningAnswers, record_history_baseline
from privacy.services import merge_patients
from tests.factories import PatientFactory
from waitlist.models import WaitlistEntry
from waitlist.services import Contact, Wish, join_waitlist

FIRST_NAME = "Zephyrine"
LAST_NAME = "Quillfeather"
EMAIL = "zephyrine.quillfeather@example.com"
PHONE = "+16145550123"
DATE_OF_BIRTH = date(1971, 3, 9)
OLD_EMAIL = "zq-duplicate@example.com"
NEEDLING_NOTES = "Fainted-once-marker after needling in 2019"
OTHER_CONDITIONS = "Hemophilia-marker and a pacemaker"
CANCELLATION_REASON = "Flare-up-marker of my herniated disc"
CONCERN = "Shooting-pain-marker down the left leg"
CALL_NOTE = "Said the MRI-marker shows L5 compression"
HEARD_ABOUT_OTHER = "My neurologist-marker"

IDENTITY = (FIRST_NAME, LAST_NAME, EMAIL, PHONE, OLD_EMAIL)
FREE_TEXT = (NEEDLING_NOTES, OTHER_CONDITIONS, CANCELLATION_REASON, CONCERN, CALL_NOTE, HEARD_ABOUT_OTHER)


@dataclass
class Person:
    patient: Patient
    completed: Appointment
    cancelled: Appointment
    call_request: DiscoveryCallRequest
    entry: WaitlistEntry


def details(**changes) -> PatientDetails:
    fields = {
        "first_name": FIRST_NAME,
        "last_name": LAST_NAME,
        "email": EMAIL,
        "phone": PHONE,
        "date_of_birth": DATE_OF_BIRTH,
    }
    return PatientDetails(**{**fields, **changes})


def past_visit(*, service, location, start, screening: ScreeningAnswers | None = None) -> Appointment:
    """Booked a few days before `start` (the booking rules judged at that moment)."""
    return book_appointment(
        service=service,
        location=location,
        practitioner=None,
        start=start,
        patient_details=details(),
        screening=screening or ScreeningAnswers(),
        consent_given=True,
        now=start - timedelta(days=3),
    )


def person_with_everything(*, service, location, start, staff, booking_day, sciatica) -> Person:
    """`start`: a time the clinic is open; the visits are 7 and 14 days before it."""
    completed = past_visit(
        service=service,
        location=location,
        start=start - timedelta(days=14),
        screening=ScreeningAnswers(
            blood_thinners=True,
            needled_before=True,
            previous_needling_notes=NEEDLING_NOTES,
            other_conditions=OTHER_CONDITIONS,
        ),
    )
    mark_completed(appointment=completed, by=staff)
    cancelled = past_visit(service=service, location=location, start=start - timedelta(days=7))
    cancel_appointment(appointment=cancelled, reason=CANCELLATION_REASON, actor=staff, now=start - timedelta(days=8))
    patient = completed.patient

    # A staff edit of the record, and a duplicate under an older address merged into it.
    record_history_baseline(patient_id=patient.pk)
    patient.first_name = FIRST_NAME  # same value: the edit is the history row, by `staff`
    patient._history_user = staff
    patient.save()
    duplicate = PatientFactory(
        first_name=FIRST_NAME, last_name=LAST_NAME, email=OLD_EMAIL, phone=PHONE, date_of_birth=DATE_OF_BIRTH
    )
    merge_patients(keep=patient, duplicates=[duplicate], by=staff)

    call_request, _ = submit_call_request(
        details=CallBackDetails(
            name=f"{FIRST_NAME} {LAST_NAME}",
            phone=PHONE,
            email=EMAIL,
            best_time="morning",
            concern=CONCERN,
            conditions=(sciatica,),
            heard_about="other",
            heard_about_other=HEARD_ABOUT_OTHER,
            consent_to_contact=True,
        )
    )
    log_call_attempt(call_request=call_request, outcome="reached", note=CALL_NOTE, by=staff)
    entry = join_waitlist(
        wish=Wish(service=service, location=location, practitioner=None, first_day=booking_day, last_day=booking_day),
        contact=Contact(first_name=FIRST_NAME, last_name=LAST_NAME, email=EMAIL.upper(), phone=PHONE),
    )
    patient.refresh_from_db()
    completed.refresh_from_db()
    cancelled.refresh_from_db()
    return Person(patient=patient, completed=completed, cancelled=cancelled, call_request=call_request, entry=entry)

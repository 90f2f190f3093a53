"""Writes for patient records: recognising a patient, their screening answers' shape, the
consent in force. Screening answers are written with their appointment (booking.services);
merging, export and anonymising are above every app (privacy.services)."""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower

from clinic.history import set_change_reason, set_history_date, set_history_user
from patients.models import ConsentText, Patient, Screening

RED_FLAGS = {
    "bladder_bowel": "Loss of bowel or bladder control",
    "progressive_weakness": "Leg weakness getting worse quickly, over hours or days",
    "sudden_neuro": "Sudden, severe changes in feeling, strength, balance or speech",
    "both_legs": "Symptoms in both legs at once",
    "trauma": "Sciatica that started after a fall, an accident or another significant injury",
}
# The answer to a discovery call's one short question, "is any of these happening now?":
# which one is not asked.
ONE_OF_THE_RED_FLAGS = "one_of_them"


@dataclass(frozen=True)
class PatientDetails:
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164
    date_of_birth: date | None  # None: a caller booking a free discovery call, which asks none


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


def find_or_create_patient(*, details: PatientDetails, lock: bool = False) -> Patient:
    """The patient with this email and date of birth, or a new one.

    INSERT ... ON CONFLICT DO NOTHING on patient_email_dob_unique, then read the row:
    two simultaneous first bookings end with one patient, and no savepoint is needed.
    A returning patient's stored name and phone are not overwritten from a public form:
    knowing someone's email and birthday must not let a stranger change their record.
    A caller (no date of birth, a discovery call) is recognised by email and phone instead.
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
    same = (
        Q(date_of_birth__isnull=True, phone=details.phone)
        if details.date_of_birth is None
        else Q(date_of_birth=details.date_of_birth)
    )
    return patients.alias(email_lower=Lower("email")).get(same, email_lower=Lower(Value(email)))


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
    set_history_user(as_created, None)  # not the editor: this is how the record came to us
    set_history_date(as_created, as_created.created_at)
    Patient.history.bulk_history_create([as_created], default_change_reason="as created with a booking")


class PatientRecordError(Exception):
    """Why a change to a patient's record was refused; `message` is fit to show the receptionist."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def add_date_of_birth(*, patient: Patient, date_of_birth: date, by) -> Patient:
    """Give a caller's record (a discovery call asks no date of birth) the one reception was
    told, when they book a treatment; audited with `by`. Refused when another record already
    has this email and date of birth: that is the same person, to merge first."""
    with transaction.atomic():
        record_history_baseline(patient_id=patient.pk)
        locked = Patient.objects.select_for_update().get(pk=patient.pk)
        if locked.date_of_birth is not None:
            return locked
        locked.date_of_birth = date_of_birth
        set_history_user(locked, by)
        set_change_reason(locked, "date of birth added when booking a treatment")
        try:
            with transaction.atomic():
                locked.save(update_fields=["date_of_birth", "updated_at"])
        except IntegrityError as error:
            if "patient_email_dob_unique" not in str(error):
                raise
            raise PatientRecordError(
                f"Another patient record has {locked.email} and this date of birth: the same person. "
                "Merge the two records first, then book."
            ) from None
    return locked


def current_consent() -> ConsentText:
    return ConsentText.objects.latest()

"""Writes for patient records. Screening answers are written with their appointment (booking.services)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Value
from django.db.models.functions import Lower

from patients.models import ConsentText, Patient

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


def current_consent() -> ConsentText:
    return ConsentText.objects.latest()

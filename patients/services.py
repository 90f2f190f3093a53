"""Writes for patient records. Screening answers are written with their appointment (booking.services)."""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction

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


def find_or_create_patient(*, details: PatientDetails) -> tuple[Patient, bool]:
    """The patient with this email and date of birth, or a new one. Returns (patient, created).

    A returning patient's stored name and phone are not overwritten from a public form:
    knowing someone's email and birthday must not let a stranger change their record.
    """
    email = details.email.strip()
    existing = Patient.objects.filter(email__iexact=email, date_of_birth=details.date_of_birth).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            return (
                Patient.objects.create(
                    first_name=details.first_name.strip(),
                    last_name=details.last_name.strip(),
                    email=email,
                    phone=details.phone,
                    date_of_birth=details.date_of_birth,
                ),
                True,
            )
    except IntegrityError:
        # Another booking created the same patient a moment ago (patient_email_dob_unique).
        return Patient.objects.get(email__iexact=email, date_of_birth=details.date_of_birth), False


def current_consent() -> ConsentText:
    return ConsentText.objects.latest()

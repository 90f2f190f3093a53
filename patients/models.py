"""Patients, their safety screening and their consent. Health data: see the privacy rules in README."""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from clinic.single_line import no_control_characters

# The change reason on a merged duplicate's deletion record: how its history is found again.
MERGED_INTO_REASON = "merged into patient #{pk}"


class Patient(models.Model):
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80)
    email = models.EmailField(max_length=254)
    phone = PhoneNumberField(help_text="Stored in E.164, e.g. +16145550142.")
    # None only for someone who has booked nothing but a free discovery call: a call asks no
    # date of birth; their first treatment booking makes a record with one (reception merges).
    date_of_birth = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Every change, with who made it and when; a merged duplicate's last state stays here.
    history = HistoricalRecords()

    class Meta:
        ordering = ["last_name", "first_name"]
        # The admin's search ("contains", any case) on each field it searches: trigram indexes, so
        # a large install's 40,000 records are not read in full for every search (docs/PERFORMANCE.md).
        indexes = [
            GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=f"patient_{field}_search")
            for field in ("first_name", "last_name", "email", "phone")
        ]
        permissions = [
            ("merge_patients", "Can merge duplicate patient records"),
            ("export_patient", "Can export a patient's personal data"),
            ("anonymise_patient", "Can anonymise a patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=no_control_characters("first_name"), name="patient_first_name_single_line"
            ),
            models.CheckConstraint(condition=no_control_characters("last_name"), name="patient_last_name_single_line"),
            # A returning patient is recognised by email + date of birth, with no account:
            # the pair is unique, so two simultaneous first bookings cannot create twins.
            models.UniqueConstraint(Lower("email"), "date_of_birth", name="patient_email_dob_unique"),
            # A caller (no date of birth) is recognised by email and phone: a second call from
            # them finds their record, and a call booked with someone else's email alone
            # does not attach to theirs (nor send their phone our call).
            models.UniqueConstraint(
                Lower("email"),
                "phone",
                condition=Q(date_of_birth__isnull=True),
                name="patient_caller_email_phone_unique",
            ),
            models.CheckConstraint(condition=~Q(first_name=""), name="patient_first_name_not_empty"),
            models.CheckConstraint(condition=~Q(last_name=""), name="patient_last_name_not_empty"),
            models.CheckConstraint(condition=~Q(email=""), name="patient_email_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ConsentText(models.Model):
    """The consent wording a patient agrees to. Never edited once used: publish a new version."""

    version = models.CharField(max_length=20, unique=True)
    body = models.TextField()
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"

    def __str__(self) -> str:
        return f"Consent v{self.version}"


class Screening(models.Model):
    """The safety answers given with one booking, shown to its practitioner. They flag, never block."""

    appointment = models.OneToOneField("booking.Appointment", on_delete=models.PROTECT, related_name="screening")
    pregnant = models.BooleanField("pregnant or possibly pregnant", default=False)
    blood_thinners = models.BooleanField("takes blood thinners / anticoagulants", default=False)
    bleeding_disorder = models.BooleanField(default=False)
    needle_fear = models.BooleanField("strong fear of needles", default=False)
    needled_before = models.BooleanField("had needling before", default=False)
    previous_needling_notes = models.CharField("how previous needling went", max_length=500, blank=True)
    other_conditions = models.TextField("other medical conditions", max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Screening for {self.appointment_id}"

    @property
    def flags(self) -> list[str]:
        labels = {
            "pregnant": "Pregnant",
            "blood_thinners": "Blood thinners",
            "bleeding_disorder": "Bleeding disorder",
            "needle_fear": "Needle fear",
        }
        return [label for field, label in labels.items() if getattr(self, field)]

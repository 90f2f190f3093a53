"""Free discovery-call requests: people who asked the clinic to call them back.

What they wrote about their pain (`concern`, `conditions`) is health information: it is
shown in the admin only, never in URLs, logs or emails. The submitter's IP address is
not stored (the rate limit counts it in the cache, hashed, for an hour).
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from booking.models import REFERENCE_ALPHABET
from clinic.single_line import no_control_characters

NAME_MAX = 120
CONCERN_MAX = 2000
HEARD_ABOUT_OTHER_MAX = 200
NOTE_MAX = 1000


def new_reference() -> str:
    # "DC-" tells a call-back request from a booking (K7Q-4M2P) when read out over the phone.
    return "DC-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(5))


class DiscoveryCallRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=DiscoveryCallRequest.OPEN_STATUSES)


class DiscoveryCallRequest(models.Model):
    class BestTime(models.TextChoices):
        MORNING = "morning", "Weekday morning (9 am – 12 pm)"
        AFTERNOON = "afternoon", "Weekday afternoon (12 – 5 pm)"
        EVENING = "evening", "Weekday evening (5 – 7 pm)"

    class HeardAbout(models.TextChoices):
        SEARCH = "search", "Search engine"
        BLOG = "blog", "An article on our website"
        SOCIAL = "social", "Social media"
        FRIEND = "friend", "A friend or family member"
        DOCTOR = "doctor", "My doctor or another health professional"
        OTHER = "other", "Somewhere else"

    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        BOOKED = "booked", "Booked"
        NOT_A_FIT = "not_a_fit", "Not a fit"
        NO_ANSWER = "no_answer", "No answer"
        CLOSED = "closed", "Closed"

    # Still to be worked on by reception; the others are final.
    OPEN_STATUSES = [Status.NEW, Status.CONTACTED, Status.NO_ANSWER]

    reference = models.CharField(max_length=8, unique=True, default=new_reference, editable=False)
    name = models.CharField(max_length=NAME_MAX)
    phone = PhoneNumberField(help_text="Stored in E.164, e.g. +16145550142.")
    email = models.EmailField(max_length=254)
    best_time = models.CharField("best time to call", max_length=10, choices=BestTime.choices)
    caller_timezone = models.CharField(
        "caller's time zone",
        max_length=64,
        blank=True,
        help_text="The clock the best time is on: the caller's browser, their choice, or their number's. "
        "Empty (older requests): the clinic's call-back zone.",
    )
    conditions = models.ManyToManyField(
        "clinic.Condition", blank=True, related_name="discovery_call_requests", verbose_name="what it is about"
    )
    concern = models.TextField("what is going on", max_length=CONCERN_MAX, blank=True)
    heard_about = models.CharField("how they heard of us", max_length=10, choices=HeardAbout.choices, blank=True)
    heard_about_other = models.CharField("heard of us elsewhere", max_length=HEARD_ABOUT_OTHER_MAX, blank=True)
    consent_to_contact = models.BooleanField("agreed to be contacted")
    consented_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discovery_call_requests",
        help_text="Set when reception converts the request into a patient record.",
    )
    appointment = models.ForeignKey(
        "booking.Appointment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="discovery_call_requests",
        help_text="The appointment booked from this request.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledgement_sent_at = models.DateTimeField(null=True, blank=True)
    clinic_notified_at = models.DateTimeField(null=True, blank=True)
    repeat_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
        help_text=(
            "The same phone number asked within 24 hours before: this request is kept with that one (closed, no "
            "second notice to reception); the person got this request's own reference."
        ),
    )

    objects = DiscoveryCallRequestQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "discovery call request"
        ordering = ["-created_at"]
        indexes = [
            # The 24-hour repeat check: this phone's latest requests.
            models.Index(fields=["phone", "-created_at"], name="discovery_call_phone_created"),
            # Reception's list: new requests, oldest waiting first.
            models.Index(fields=["status", "created_at"], name="discovery_call_status_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=no_control_characters("name"), name="discovery_call_name_single_line"),
            models.CheckConstraint(
                condition=no_control_characters("heard_about_other"),
                name="discovery_call_heard_about_other_single_line",
            ),
            models.CheckConstraint(condition=Q(consent_to_contact=True), name="discovery_call_consent_given"),
            models.CheckConstraint(
                condition=Q(best_time__in=["morning", "afternoon", "evening"]), name="discovery_call_best_time_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["new", "contacted", "booked", "not_a_fit", "no_answer", "closed"]),
                name="discovery_call_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(heard_about__in=["", "search", "blog", "social", "friend", "doctor", "other"]),
                name="discovery_call_heard_about_valid",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="discovery_call_name_not_empty"),
            models.CheckConstraint(condition=~Q(email=""), name="discovery_call_email_not_empty"),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(appointment__isnull=False),
                name="discovery_call_booked_has_appointment",
            ),
            models.CheckConstraint(
                condition=Q(repeat_of__isnull=True) | Q(status="closed"), name="discovery_call_repeat_is_closed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.name}"


class CallAttempt(models.Model):
    """One call reception made about a request, whatever came of it."""

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached them"
        NO_ANSWER = "no_answer", "No answer"
        LEFT_VOICEMAIL = "left_voicemail", "Left a voicemail"
        WRONG_NUMBER = "wrong_number", "Wrong number"

    request = models.ForeignKey(DiscoveryCallRequest, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    note = models.TextField(max_length=NOTE_MAX, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="call_attempts"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["attempted_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=["reached", "no_answer", "left_voicemail", "wrong_number"]),
                name="call_attempt_outcome_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.attempted_at:%Y-%m-%d %H:%M} UTC"

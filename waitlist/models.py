"""The waiting list: patients who asked to be told when a time opens, and the times offered.

A time opens when a live appointment is cancelled or moved, or time off is removed or
shortened. Database triggers (migration 0002) note each such stretch in FreedTime in the
same transaction, whoever writes (a patient, reception in the admin, a practitioner); the
worker turns them into offers (waitlist.services.offer_freed_times) and emails them.

No health data here: what the patient wrote when booking stays with the booking.
"""

import secrets

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from booking.models import Appointment
from clinic.models import Location, Practitioner, Service
from clinic.single_line import no_control_characters

NAME_MAX = 80


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits: the link is the patient's only key


class WaitlistEntryQuerySet(models.QuerySet):
    def waiting(self, now=None):
        """Still on the list: neither left, nor booked through an offer, nor past their range."""
        return self.filter(status=WaitlistEntry.Status.WAITING, expires_at__gt=now or timezone.now())


class WaitlistEntry(models.Model):
    """One patient's wish: this service at this location, with this practitioner or anyone,
    on a day between first_day and last_day (the location's calendar), at these times of day."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked an offered time"
        LEFT = "left", "Left the list"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Empty: anyone."
    )
    first_day = models.DateField()
    last_day = models.DateField(help_text="Inclusive, in the location's calendar.")
    expires_at = models.DateTimeField(help_text="The end of the last day, in the location's time zone.")
    mornings = models.BooleanField(default=True, help_text="Starts before 12:00.")
    afternoons = models.BooleanField(default=True, help_text="Starts from 12:00 to before 17:00.")
    evenings = models.BooleanField(default=True, help_text="Starts from 17:00.")
    first_name = models.CharField(max_length=NAME_MAX)
    last_name = models.CharField(max_length=NAME_MAX)
    email = models.EmailField()
    phone = PhoneNumberField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    left_at = models.DateTimeField(null=True, blank=True)
    joined_email_sent_at = models.DateTimeField(null=True, blank=True)

    objects = WaitlistEntryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        verbose_name = "waiting list entry"
        verbose_name_plural = "waiting list entries"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["location", "expires_at"], name="waitlist_entry_location_expiry")]
        constraints = [
            models.CheckConstraint(
                condition=no_control_characters("first_name"), name="waitlist_entry_first_name_single_line"
            ),
            models.CheckConstraint(
                condition=no_control_characters("last_name"), name="waitlist_entry_last_name_single_line"
            ),
            models.CheckConstraint(condition=Q(first_day__lte=F("last_day")), name="waitlist_entry_days_ordered"),
            models.CheckConstraint(
                condition=Q(mornings=True) | Q(afternoons=True) | Q(evenings=True),
                name="waitlist_entry_some_time_of_day",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "booked", "left"]), name="waitlist_entry_status_valid"
            ),
            # Joining again updates the place on the list instead of adding a second one,
            # so one freed time is never offered twice to the same person.
            models.UniqueConstraint(
                Lower("email"),
                "service",
                "location",
                condition=Q(status="waiting"),
                name="waitlist_entry_one_waiting_per_email",
            ),
        ]

    def __str__(self) -> str:
        # No name: this text lands in the admin log and in messages.
        return f"Waiting list #{self.pk}: {self.service} at {self.location}"

    @property
    def days_in_words(self) -> str:
        """ "on Wednesday 2 December" or "Wednesday 2 December to Friday 4 December 2026"."""
        if self.first_day == self.last_day:
            return f"on {self.first_day:%A %-d %B}"
        first = f"{self.first_day:%A %-d %B}" + (
            "" if self.first_day.year == self.last_day.year else f" {self.first_day.year}"
        )
        return f"{first} to {self.last_day:%A %-d %B %Y}"

    @property
    def times_in_words(self) -> str:
        """ "mornings", "mornings or afternoons", "mornings, afternoons or evenings"."""
        times = [name for name in ("mornings", "afternoons", "evenings") if getattr(self, name)]
        if len(times) == 3:
            return "any time of day"
        return " or ".join(times)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    def wants_time_of_day(self, local_hour: int) -> bool:
        if local_hour < 12:
            return self.mornings
        if local_hour < 17:
            return self.afternoons
        return self.evenings


class WaitlistOffer(models.Model):
    """A freed time offered to one waiting patient. Several may be offered the same time:
    whoever books it first through book_appointment has it, the others are told it went."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.PROTECT, related_name="offers")
    # The entry's location, kept here too: the worker's checks on offers then read no other row.
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When the offer email went out.")
    booked_appointment = models.OneToOneField(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="waitlist_offer"
    )
    gone_at = models.DateTimeField(
        null=True, blank=True, help_text="When the patient was told the time went to someone else."
    )

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="waitlist_offer_start_before_end"),
            models.UniqueConstraint(fields=["entry", "practitioner", "start"], name="waitlist_offer_once_per_entry"),
        ]

    def __str__(self) -> str:
        return f"Offer #{self.pk} for waiting list #{self.entry_id}"

    @property
    def local_start(self):
        return timezone.localtime(self.start, self.location.zone)


class FreedTime(models.Model):
    """A stretch of a practitioner's (or a location's) time that became free. Written only
    by the triggers of migration 0002; read once by the worker (processed_at)."""

    practitioner = models.ForeignKey(Practitioner, null=True, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, null=True, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "freed time"
        verbose_name_plural = "freed times"
        indexes = [
            models.Index(fields=["id"], condition=Q(processed_at__isnull=True), name="freed_time_unprocessed"),
        ]

    def __str__(self) -> str:
        return f"Freed time #{self.pk}"

"""A practitioner's private calendar feed: a secret link their calendar app subscribes to."""

import secrets

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from simple_history.models import HistoricalRecords

from clinic.models import Practitioner

FEED_TOKEN_MIN_LENGTH = 43  # secrets.token_urlsafe(32): 256 bits in URL-safe base64


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """The link is the only credential a calendar app can present: whoever holds it reads the
    practitioner's appointments with patients' names. Regenerating replaces the token, so the
    old link stops working at once."""

    practitioner = models.OneToOneField(Practitioner, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, default=new_feed_token, editable=False)
    full_patient_names = models.BooleanField(
        default=False, help_text="Off: patients appear as first name and initial (“Ada L.”)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(null=True, blank=True, help_text="When the link was last regenerated.")

    # Who regenerated the link or changed the names setting, and when. The token is a
    # credential: not copied into the history.
    history = HistoricalRecords(excluded_fields=["token"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token"], name="calendar_feed_token_unique"),
            # A short or empty token would be guessable: only generated ones are accepted.
            models.CheckConstraint(
                condition=Q(GreaterThanOrEqual(Length("token"), FEED_TOKEN_MIN_LENGTH)),
                name="calendar_feed_token_long_enough",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.practitioner}"

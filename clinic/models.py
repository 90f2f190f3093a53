"""The catalogue: where the clinic works, who treats, what can be booked, what is treated; and
the staff logins' account lockouts; the outbox of emails the worker sends."""

import zoneinfo

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from phonenumber_field.modelfields import PhoneNumberField


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            "“%(value)s” is not an IANA time zone. Use a name such as America/New_York or Asia/Kolkata.",
            params={"value": value},
        )


class ActiveQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class CatalogueEntry(models.Model):
    """What every public catalogue item has: a name, a URL slug, an order, and a switch to hide it."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=80, unique=True)
    display_order = models.PositiveSmallIntegerField(default=100)
    is_active = models.BooleanField("active", default=True, help_text="Inactive items are hidden from the site.")

    objects = ActiveQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["display_order", "name"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="%(class)s_name_not_empty"),
            models.CheckConstraint(condition=~Q(slug=""), name="%(class)s_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Location(CatalogueEntry):
    address = models.TextField(help_text="Street address as patients should read it; one line per row.")
    phone = PhoneNumberField(help_text="The number patients call or text for this location.")
    timezone = models.CharField(
        "time zone",
        max_length=64,
        validators=[validate_time_zone],
        help_text="IANA name, e.g. America/New_York. Appointment times are shown in this zone.",
    )
    town = models.CharField(
        max_length=80,
        blank=True,
        help_text="How patients name this place's clock: “Calgary” gives “Calgary time”. Empty: the time zone's city.",
    )
    is_by_phone = models.BooleanField(
        "by phone",
        default=False,
        help_text=(
            "Not a place to visit: we call the patient at the booked time. Only discovery calls can be "
            "booked here, and it is not listed among the clinics."
        ),
    )

    class Meta(CatalogueEntry.Meta):
        constraints = [
            *CatalogueEntry.Meta.constraints,
            models.CheckConstraint(condition=~Q(timezone=""), name="location_timezone_not_empty"),
        ]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def call_name(self) -> str:
        """Whom a patient is told to call: the clinic by its name, the phone line as "us"
        ("Please call us", never "Please call By phone")."""
        return "us" if self.is_by_phone else self.name

    @property
    def clock_words(self) -> str:
        """The clock its times are on, as a patient says it: "Calgary time", never an IANA name.
        Patient pages and emails name it with every time: a patient may book from anywhere."""
        from clinic.clock import zone_in_words

        return f"{self.town} time" if self.town else zone_in_words(self.zone)


class Service(CatalogueEntry):
    class Kind(models.TextChoices):
        TREATMENT = "treatment", "Treatment"
        DISCOVERY_CALL = "discovery_call", "Discovery call"

    class WhoCanBook(models.TextChoices):
        ANYONE = "anyone", "Anyone"
        NEW = "new", "New patients only"
        RETURNING = "returning", "Returning patients only"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TREATMENT)
    duration_minutes = models.PositiveSmallIntegerField(help_text="Length of the appointment itself.")
    buffer_after_minutes = models.PositiveSmallIntegerField(
        default=0, help_text="Time kept free after the appointment (notes, cleaning the room)."
    )
    price = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, help_text="Leave empty for a free service."
    )
    who_can_book = models.CharField(max_length=10, choices=WhoCanBook.choices, default=WhoCanBook.ANYONE)
    uses_needles = models.BooleanField(
        default=True, help_text="Untick for needle-free services (e.g. cupping), offered to needle-fearful patients."
    )
    short_description = models.CharField(max_length=240)
    what_to_expect = models.TextField(blank=True)
    session_guidance = models.TextField(blank=True, help_text="How many sessions patients usually need.")
    side_effects = models.TextField(blank=True)
    before_visit_advice = models.TextField(blank=True)
    after_visit_advice = models.TextField(blank=True)
    not_suitable_for = models.TextField(blank=True, help_text="Who this service is not suitable for.")
    follow_up_service = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": Kind.TREATMENT},
        help_text=(
            "The service booked for follow-up visits (e.g. the follow-up after an initial assessment). "
            "Empty: the same service, unless it is for new patients only."
        ),
    )

    class Meta(CatalogueEntry.Meta):
        constraints = [
            *CatalogueEntry.Meta.constraints,
            models.CheckConstraint(condition=Q(kind__in=["treatment", "discovery_call"]), name="service_kind_valid"),
            models.CheckConstraint(
                condition=Q(who_can_book__in=["anyone", "new", "returning"]), name="service_who_can_book_valid"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=480), name="service_duration_5_to_480_min"
            ),
            models.CheckConstraint(condition=Q(buffer_after_minutes__lte=240), name="service_buffer_at_most_240_min"),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0), name="service_price_not_negative"
            ),
        ]

    def get_absolute_url(self) -> str:
        return reverse("clinic:service_detail", args=[self.slug])

    def clean(self) -> None:
        super().clean()
        if self.follow_up_service_id and self.kind == self.Kind.DISCOVERY_CALL:
            raise ValidationError({"follow_up_service": "A discovery call has no follow-up visits: leave this empty."})

    @property
    def is_free(self) -> bool:
        return self.price is None or self.price == 0

    @property
    def is_by_phone(self) -> bool:
        return self.kind == self.Kind.DISCOVERY_CALL

    @property
    def is_for_returning_patients(self) -> bool:
        return self.who_can_book == self.WhoCanBook.RETURNING


class Practitioner(CatalogueEntry):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="practitioner",
        help_text="The login this practitioner uses to see their own schedule.",
    )
    title = models.CharField(max_length=120, help_text="Profession, e.g. Physiotherapist.")
    credentials = models.CharField(max_length=200, blank=True, help_text="e.g. PT, DPT, certified in dry needling.")
    bio = models.TextField(blank=True)
    services = models.ManyToManyField(Service, through="PractitionerService", related_name="practitioners")
    locations = models.ManyToManyField(Location, related_name="practitioners", blank=True)

    class Meta(CatalogueEntry.Meta):
        pass

    def get_absolute_url(self) -> str:
        return reverse("clinic:practitioner_detail", args=[self.slug])


class PractitionerService(models.Model):
    """A practitioner's qualification to deliver a service (dry needling needs its own certification)."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="qualifications")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="qualifications")

    class Meta:
        verbose_name = "qualified service"
        constraints = [
            models.UniqueConstraint(fields=["practitioner", "service"], name="practitioner_service_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} — {self.service}"


class Condition(CatalogueEntry):
    summary = models.CharField(max_length=300)
    body = models.TextField(help_text="Plain text; blank lines separate paragraphs.")
    urgent_signs = models.TextField(
        blank=True,
        help_text="When to get urgent care instead of booking, for this condition (plain text). "
        "Empty: the page shows the general warning. Shown once, above the treatments.",
    )
    related_services = models.ManyToManyField(Service, related_name="conditions", blank=True)

    class Meta(CatalogueEntry.Meta):
        pass

    def get_absolute_url(self) -> str:
        return reverse("clinic:condition_detail", args=[self.slug])


class AccountLockoutQuerySet(models.QuerySet):
    def in_force(self, *, now):
        return self.filter(unlocked_at__isnull=True, locked_until__gt=now)


class AccountLockout(models.Model):
    """A staff login paused after too many wrong passwords for one username from any address
    (clinic/staff_auth.py). It ends by itself at `locked_until`, or earlier when reception or
    an admin unlocks it: a state, never a deleted row."""

    username = models.CharField(max_length=255, help_text="As typed at the login; it may name no account.")
    failures = models.PositiveIntegerField(help_text="Wrong passwords counted when the lock began.")
    locked_at = models.DateTimeField()
    locked_until = models.DateTimeField()
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the email telling the account's owner was claimed."
    )
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AccountLockoutQuerySet.as_manager()

    class Meta:
        ordering = ["-locked_at"]
        indexes = [models.Index(fields=["username", "-locked_at"], name="lockout_username_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(locked_until__gt=models.F("locked_at")), name="lockout_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(unlocked_at__isnull=True) | Q(unlocked_at__gte=models.F("locked_at")),
                name="lockout_unlocked_after_start",
            ),
            models.CheckConstraint(
                condition=Q(unlocked_at__isnull=True, unlocked_by__isnull=True) | Q(unlocked_at__isnull=False),
                name="lockout_unlocked_by_only_when_unlocked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} locked at {self.locked_at:%Y-%m-%d %H:%M} UTC"


class OutboundMessage(models.Model):
    """One email the worker sends, from its claim to its end (clinic/outbox.py): sent, or not
    delivered and why. The text is kept only until then."""

    class State(models.TextChoices):
        SENDING = "sending", "Sending"
        QUEUED = "queued", "Waiting for the mail server"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not delivered"

    purpose = models.CharField(max_length=60, help_text="What it is: “Confirmation email”, “Reminder email”…")
    about_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    about_id = models.PositiveBigIntegerField()
    about = GenericForeignKey("about_type", "about_id")
    about_label = models.CharField(max_length=80, help_text="“booking K7Q-4M2P”: a reference, never a name.")
    message_id = models.CharField("Message-ID", max_length=255, unique=True)
    recipients = ArrayField(models.CharField(max_length=254))
    state = models.CharField(max_length=10, choices=State)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, help_text="What went wrong: never the email's text.")
    content = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["about_type", "about_id"], name="outbound_about"),
            models.Index(
                fields=["state", "next_attempt_at", "lease_until"],
                name="outbound_pending",
                condition=Q(state__in=["sending", "queued"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["sending", "queued", "sent", "failed"]), name="outbound_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state="sending") | Q(lease_until__isnull=False), name="outbound_sending_has_lease"
            ),
            models.CheckConstraint(
                condition=~Q(state="queued") | Q(next_attempt_at__isnull=False), name="outbound_queued_has_next_attempt"
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False), name="outbound_sent_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(state="failed") | Q(failed_at__isnull=False), name="outbound_failed_has_time"
            ),
            # Once it has ended, the text (the patient's name, their appointment) is gone.
            models.CheckConstraint(
                condition=Q(state__in=["sending", "queued"]) | Q(content__isnull=True),
                name="outbound_ended_keeps_no_text",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} for {self.about_label}: {self.get_state_display()}"


class IdempotentRequest(models.Model):
    """A POST sent with an Idempotency-Key, and the answer it got: the same request sent again
    (a phone's retry, the balancer's after an app server died under it) gets that answer again
    instead of being done twice (api/idempotency.py). Kept a day, as long as a retry is likely."""

    key = models.CharField(max_length=100, unique=True)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status = models.PositiveSmallIntegerField()
    answer = models.BinaryField(editable=False)
    content_type = models.CharField(max_length=100)
    about_reference = models.CharField(
        max_length=12, blank=True, help_text="The booking or call-back the answer names (for anonymisation)."
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="idempotent_created"),
            models.Index(fields=["about_reference"], name="idempotent_about", condition=~Q(about_reference="")),
        ]

    def __str__(self) -> str:
        return f"{self.status} answered {self.created_at:%Y-%m-%d %H:%M} UTC"

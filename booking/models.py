"""Schedules and appointments. Times are stored in UTC; rules are in the location's local time."""

import secrets
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from clinic.clock import staff_date_time, staff_time
from clinic.models import Location, Practitioner, Service
from clinic.zones import known_zone, patient_clock_words


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()  # only used inside the exclusion constraint


class WorkingHours(models.Model):
    """One weekly range of a practitioner at a location, in the location's wall-clock time."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    effective_from = models.DateField(null=True, blank=True, help_text="Empty: since always.")
    effective_to = models.DateField(null=True, blank=True, help_text="Empty: until further notice. Inclusive.")

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["practitioner", "location", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(condition=Q(start_time__lt=F("end_time")), name="working_hours_start_before_end"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_valid"),
            models.CheckConstraint(
                condition=Q(effective_from__isnull=True)
                | Q(effective_to__isnull=True)
                | Q(effective_from__lte=F("effective_to")),
                name="working_hours_effective_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} at {self.location}: {self.get_weekday_display()} {self.start_time}–{self.end_time}"


def local_period(start: datetime, end: datetime, zone: tzinfo) -> str:
    """E.g. "Mon 02 Mar 2026 9:00 AM–5:00 PM EST" (CLOCK_FORMAT); both ends in full over several days or across a
    clock change, each with its own abbreviation."""
    start, end = timezone.localtime(start, zone), timezone.localtime(end, zone)
    if start.date() == end.date() and start.tzname() == end.tzname():
        return f"{staff_date_time(start)}–{staff_time(end, zone_name=True)}"
    return f"{staff_date_time(start, zone_name=True)} – {staff_date_time(end, zone_name=True)}"


class TimeOff(models.Model):
    """A practitioner away, or a whole location closed, from start to end (UTC instants)."""

    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.CASCADE, related_name="time_off"
    )
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="closures")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "time off"
        verbose_name_plural = "time off"
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="time_off_start_before_end"),
            models.CheckConstraint(
                condition=Q(practitioner__isnull=False) | Q(location__isnull=False),
                name="time_off_for_practitioner_or_location",
            ),
        ]

    def __str__(self) -> str:
        who = self.practitioner or self.location
        # Shown in the admin's messages, titles and history: in the local time it was typed in,
        # or in UTC, named, when the practitioner works in more than one zone.
        zone = time_off_zone(location=self.location, practitioner=self.practitioner) or UTC
        return f"{who} off {local_period(self.start, self.end, zone)}"


def time_off_zone(*, location: Location | None, practitioner: Practitioner | None) -> ZoneInfo | None:
    """The zone time off is entered and shown in: its location's, else the one zone all the
    practitioner's locations share. None when that is ambiguous (or there is no location):
    then the location must be named. practitioner.locations may be prefetched."""
    if location is not None:
        return location.zone
    if practitioner is None:
        return None
    zone_names = {place.timezone for place in practitioner.locations.all()}
    return ZoneInfo(zone_names.pop()) if len(zone_names) == 1 else None


REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone


# No appointment, with its buffer, lasts longer (a constraint): a read of one day's bookings
# needs to look only this far back for one that started before the day and still runs.
APPOINTMENT_SPAN_LIMIT = timedelta(days=1)


def new_reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(7))
    return f"{code[:3]}-{code[3:]}"


def new_manage_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


# The characters of secrets.token_urlsafe, up to Appointment.manage_token's max_length.
MANAGE_TOKEN_RE = r"[A-Za-z0-9_-]{1,64}"  # noqa: S105 (a pattern, not a secret)


class AppointmentQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=Appointment.LIVE_STATUSES)

    def overlapping(self, start, end):
        return self.filter(start__lt=end, blocked_until__gt=start)


class Appointment(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Confirmed"
        ARRIVED = "arrived", "Arrived"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class Source(models.TextChoices):
        ONLINE = "online", "Online"
        PHONE = "phone", "Phone"
        WALK_IN = "walk_in", "Walk-in"

    class ChangedBy(models.TextChoices):
        PATIENT = "patient", "The patient"
        CLINIC = "clinic", "The clinic"

    # Appointments that hold the practitioner's time. A no-show's time has passed, and a
    # cancelled one's is free again; both stay as rows for the record.
    LIVE_STATUSES = [Status.CONFIRMED, Status.ARRIVED, Status.COMPLETED]

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_until = models.DateTimeField(
        help_text="End plus the service's buffer: the practitioner is busy until then."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ONLINE)
    reference = models.CharField(max_length=8, unique=True, default=new_reference, editable=False)
    manage_token = models.CharField(max_length=64, unique=True, default=new_manage_token, editable=False)
    # The treatment consent agreed to; None only for a free discovery call, which asks for
    # consent to be contacted instead (the database refuses a treatment without it).
    consent = models.ForeignKey(
        "patients.ConsentText", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    consented_at = models.DateTimeField(
        help_text="When the treatment consent was given; for a discovery call, the consent to be contacted."
    )
    # A discovery call's own few words from the caller (health data: staff pages only, never
    # in emails, calendar files or feeds); treatments keep their answers in a Screening.
    concern = models.TextField("what is going on", max_length=2000, blank=True)
    caller_timezone = models.CharField(
        "caller's time zone",
        max_length=64,
        blank=True,
        help_text="For a call by phone: the clock the caller was told its time on (their browser's, their "
        "number's or their choice). Empty: the location's.",
    )
    cancellation_reason = models.CharField(max_length=500, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    aftercare_sent_at = models.DateTimeField(null=True, blank=True)
    series = models.ForeignKey(
        "TreatmentSeries", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    series_session = models.PositiveSmallIntegerField(
        "session in series",
        null=True,
        blank=True,
        help_text="Which of its series' sessions this visit is (1: the first follow-up), also when moved.",
    )
    returning_patient_reason = models.CharField(
        max_length=200,
        blank=True,
        help_text=(
            "Why reception booked a service for returning patients for someone the system has no earlier "
            "treatment of (e.g. treated here before the system). Staff bookings only."
        ),
    )
    # What reaches the patient after a change (booking/notifications.py).
    sequence = models.PositiveIntegerField(
        default=0,
        help_text="The calendar file's SEQUENCE: 0 when booked, one more on every change of time, place or status.",
    )
    changed_by = models.CharField(
        max_length=10,
        choices=ChangedBy.choices,
        blank=True,
        help_text="Who made the last move, or the cancellation: told to the patient in the notice.",
    )
    moved_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason_shared = models.BooleanField(
        "tell the patient the reason",
        default=False,
        help_text="The clinic chose to put its cancellation reason in the email to the patient.",
    )
    # The time and practitioner the patient's last email (and its calendar file) stated: a move
    # notice is due while they differ from the appointment's own.
    told_start = models.DateTimeField(null=True, blank=True)
    told_practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    move_notice_sent_at = models.DateTimeField(null=True, blank=True)
    cancellation_notice_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AppointmentQuerySet.as_manager()
    # Every change, with who made it and when. The manage token is a credential: not copied.
    history = HistoricalRecords(excluded_fields=["manage_token"])

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["practitioner", "start"], name="appointment_practitioner_start"),
            models.Index(fields=["location", "start"], name="appointment_location_start"),
            # Availability reads a window by "busy until after its start": without it, a year of a
            # practitioner's history is read and filtered (docs/PERFORMANCE.md, the large install).
            models.Index(fields=["practitioner", "blocked_until"], name="appointment_practitioner_busy"),
            # The front desk's day reads every location's appointments that start within a day of
            # it (the practitioners' time taken elsewhere): APPOINTMENT_SPAN_LIMIT bounds them.
            models.Index(fields=["start"], name="appointment_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="appointment_start_before_end"),
            models.CheckConstraint(condition=Q(end__lte=F("blocked_until")), name="appointment_buffer_not_negative"),
            models.CheckConstraint(
                condition=Q(blocked_until__lte=F("start") + APPOINTMENT_SPAN_LIMIT), name="appointment_within_a_day"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["confirmed", "arrived", "completed", "cancelled", "no_show"]),
                name="appointment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=["online", "phone", "walk_in"]), name="appointment_source_valid"
            ),
            models.CheckConstraint(
                condition=Q(changed_by__in=["", "patient", "clinic"]), name="appointment_changed_by_valid"
            ),
            # The backstop against double booking, whatever code path writes: no two live
            # appointments of one practitioner may overlap, buffers included. Needs btree_gist
            # for the "=" on practitioner inside a GiST index.
            ExclusionConstraint(
                name="appointment_no_overlap_per_practitioner",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocked_until", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["confirmed", "arrived", "completed"]),
            ),
            # A patient cannot be in two places at once: a double-submitted form, or two
            # tabs, must not leave them holding two practitioners' time.
            ExclusionConstraint(
                name="appointment_no_overlap_per_patient",
                expressions=[
                    ("patient", RangeOperators.EQUAL),
                    (TsTzRange("start", "end", RangeBoundary()), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["confirmed", "arrived", "completed"]),
            ),
            # Patients online are held to "returning patients only"; only a booking made by
            # staff (by phone or at the desk) can carry the reason that overrode it.
            models.CheckConstraint(
                condition=Q(returning_patient_reason="") | ~Q(source="online"),
                name="appointment_returning_override_by_staff_only",
            ),
            models.CheckConstraint(
                condition=Q(series__isnull=True, series_session__isnull=True)
                | Q(series__isnull=False, series_session__isnull=False, series_session__gte=1),
                name="appointment_series_session_with_series",
            ),
            # One live visit per session of a series: two tabs offering other times for the
            # same missing week cannot both book it. A cancelled one can be booked again.
            models.UniqueConstraint(
                fields=["series", "series_session"],
                condition=Q(status__in=["confirmed", "arrived", "completed"]),
                name="appointment_one_live_per_series_session",
            ),
        ]

    def __str__(self) -> str:
        # The admin's titles, breadcrumbs, messages and log: the location's local time, with the
        # zone's abbreviation (which also tells apart the two 01:30s of a fall-back night). No
        # patient name or service: this text is stored in the admin log and in messages.
        # Lists that show it select_related location and practitioner.
        local = self.local_start
        return f"{self.reference} {local:%a %d %b %Y} {staff_time(local, zone_name=True)}, {self.practitioner}"

    @property
    def patient_zone(self) -> ZoneInfo:
        """The clock the patient is told this appointment's time on: for a call, the caller's
        own when they gave one; else the location's."""
        return known_zone(self.caller_timezone) or self.location.zone

    @property
    def patient_local_start(self) -> datetime:
        return timezone.localtime(self.start, self.patient_zone)

    @property
    def patient_clock_words(self) -> str:
        """That clock as the patient says it: "Calgary time"."""
        return patient_clock_words(known_zone(self.caller_timezone), self.location)

    @property
    def local_start(self):
        return timezone.localtime(self.start, self.location.zone)


class TreatmentSeries(models.Model):
    """Follow-up visits booked together from one appointment ("book my follow-ups"): up to six
    sessions of `service`, every week or two, at the source appointment's local time with its
    practitioner. Each session is an Appointment of its own (its `series` and `series_session`);
    a session that could not be booked has no live appointment. Written once by
    booking.services.book_follow_ups; the appointments carry the audit trail."""

    MAX_SESSIONS = 6

    class Interval(models.IntegerChoices):
        WEEKLY = 1, "Every week"
        FORTNIGHTLY = 2, "Every two weeks"

    # One series per appointment: a double-submitted form never books the weeks twice.
    source_appointment = models.OneToOneField(Appointment, on_delete=models.PROTECT, related_name="follow_up_series")
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="+", help_text="The follow-up service booked."
    )
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="treatment_series")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="treatment_series")
    interval_weeks = models.PositiveSmallIntegerField("interval", choices=Interval.choices)
    sessions_requested = models.PositiveSmallIntegerField()
    # Kept so that the weeks that could not be booked are known later, and shown.
    wanted_starts = ArrayField(models.DateTimeField(), help_text="The instants asked for, one per session, in order.")
    consent = models.ForeignKey(
        "patients.ConsentText",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The consent the patient agreed applies to these visits.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The visits booked together are confirmed in one email once all were tried (booked_at);
    # a visit booked later on its own gets its own confirmation.
    booked_at = models.DateTimeField(null=True, blank=True, help_text="When booking its visits was done.")
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "treatment series"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(interval_weeks__in=[1, 2]), name="treatment_series_interval_1_or_2"),
            models.CheckConstraint(
                condition=Q(sessions_requested__gte=1, sessions_requested__lte=6),
                name="treatment_series_1_to_6_sessions",
            ),
            models.CheckConstraint(
                condition=Q(wanted_starts__len=F("sessions_requested")),
                name="treatment_series_one_start_per_session",
            ),
        ]

    def __str__(self) -> str:
        # No patient name: this text is stored in the admin log and in messages.
        return f"{self.sessions_requested} × {self.service}, {self.get_interval_weeks_display().lower()}"

"""Emails to patients, sent by the worker (send_due_notifications), never inside a request.

Three per appointment: the confirmation when it is booked, a reminder before it, and
aftercare advice once it has been marked completed.

Never twice, at most once: clinic.emails.send_once claims each email's `*_sent_at` column
(a patient confused by duplicates is worse than a missing confirmation they can re-open
from the manage link).

Each claim is an UPDATE of the appointment table alone: conditions on other tables are
scalar subqueries, never joins. With a join Django moves every condition into an
`id IN (SELECT ...)` subquery, and a second worker blocked on the row lock would then
re-check `*_sent_at IS NULL` against the old snapshot and send again.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import DateTimeField, F, Func, OuterRef, QuerySet, Subquery, Value
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from booking.calendar import appointment_ics, manage_url
from booking.models import Appointment
from booking.services import cancellation_deadline, patient_may_change
from clinic.emails import render_email, send_once
from clinic.models import Location, Service

logger = logging.getLogger(__name__)

BATCH = 200
# A reminder this close to the start is too late to help (the patient may be on the way);
# after a worker outage such reminders are skipped. At most half the reminder lead, so a
# short REMINDER_HOURS_BEFORE still leaves a window to send in.
REMINDER_LATEST_LEAD = timedelta(hours=2)
# The most any zone's clock change moves the wall clock (Antarctica/Troll: 2 hours).
CLOCK_CHANGE_MAX = timedelta(hours=2)
# Aftercare is about the days right after a visit: one marked completed long afterwards
# (a back-office catch-up), or found after an outage, gets none.
AFTERCARE_STALE_AFTER = timedelta(days=3)


class WallClockHoursBefore(Func):
    """`start` moved back by `hours` on the wall clock of `zone` (an IANA name, in SQL).

    24 hours before a Monday 09:00 is Sunday 09:00 local time, also when the clocks change
    in between (then 23 or 25 real hours): what "a reminder the day before" means to a
    patient. In PostgreSQL, timestamptz AT TIME ZONE gives the local wall-clock time and
    timestamp AT TIME ZONE reads one back; a local time skipped by a spring-forward is read
    with the offset before the change (02:30 becomes 03:30 daylight time), one repeated by a
    fall-back as the second, standard-time one.
    """

    output_field = DateTimeField()

    def __init__(self, start, zone, *, hours: int):
        super().__init__(start, zone, Value(int(hours)))

    def as_sql(self, compiler, connection, **extra_context):
        (start, start_params), (zone, zone_params), (hours, hours_params) = (
            compiler.compile(expression) for expression in self.get_source_expressions()
        )
        sql = f"((({start}) AT TIME ZONE ({zone})) - make_interval(hours => {hours})) AT TIME ZONE ({zone})"
        return sql, (*start_params, *zone_params, *hours_params, *zone_params)


def _location_zone() -> Subquery:
    return Subquery(Location.objects.filter(pk=OuterRef("location_id")).order_by().values("timezone")[:1])


def _reminder_lead() -> tuple[timedelta, timedelta]:
    hours_before = timedelta(hours=settings.REMINDER_HOURS_BEFORE)
    return hours_before, min(REMINDER_LATEST_LEAD, hours_before / 2)


def _reminders_due(now: datetime) -> QuerySet[Appointment]:
    """Confirmed appointments whose reminder moment (REMINDER_HOURS_BEFORE before the start, on
    the location's wall clock) has come, that start more than REMINDER_LATEST_LEAD from now,
    and that were booked before that moment: a later booking just had its confirmation, which
    carries the same advice and link, so a reminder minutes after it would only be noise."""
    hours_before, latest_lead = _reminder_lead()
    due_at = WallClockHoursBefore(F("start"), _location_zone(), hours=settings.REMINDER_HOURS_BEFORE)
    return Appointment.objects.filter(
        status=Appointment.Status.CONFIRMED,
        reminder_sent_at__isnull=True,
        start__gt=now + latest_lead,
        # A cheap bound first, so the zone arithmetic runs only near the window: no clock
        # change anywhere moves the wall clock by more than two hours.
        start__lt=now + hours_before + CLOCK_CHANGE_MAX,
    ).filter(LessThanOrEqual(due_at, Value(now)), LessThan(F("created_at"), due_at))


def _aftercare_due(now: datetime) -> QuerySet[Appointment]:
    """Treatments marked completed, once over, that started within AFTERCARE_STALE_AFTER.
    A discovery call is no treatment: no aftercare."""
    return Appointment.objects.filter(
        status=Appointment.Status.COMPLETED,
        aftercare_sent_at__isnull=True,
        end__lte=now,
        start__gte=now - AFTERCARE_STALE_AFTER,
        service__in=Service.objects.filter(kind=Service.Kind.TREATMENT).values("pk"),
    )


def due_confirmations(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Appointment.objects.filter(
            status=Appointment.Status.CONFIRMED, confirmation_sent_at__isnull=True, start__gt=now
        ).values_list("pk", flat=True)[:BATCH]
    )


def due_reminders(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_reminders_due(now).order_by("start").values_list("pk", flat=True)[:BATCH])


def due_aftercare(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_aftercare_due(now).order_by("start").values_list("pk", flat=True)[:BATCH])


def send_confirmation(appointment_id: int) -> bool:
    """Send the booking confirmation once. Returns False when another sender already has it."""
    claimable = Appointment.objects.filter(status=Appointment.Status.CONFIRMED, confirmation_sent_at__isnull=True)
    return _send_once(appointment_id, claimable, "confirmation_sent_at", _confirmation_message, "Confirmation")


def _send_once(appointment_id: int, claimable, column: str, build, what: str) -> bool:
    return send_once(
        appointment_id,
        claimable=claimable,
        column=column,
        build=build,
        load=Appointment.objects.select_related("patient", "practitioner", "location", "service"),
        what=what,
        noun="booking",
        logger=logger,
    )


def send_reminder(appointment_id: int) -> bool:
    """Send the reminder once, if it is (still) due. Returns False when it is not, or another
    sender already has it; the due conditions are part of the claim, so an appointment
    cancelled or moved since due_reminders() ran gets none."""
    now = timezone.now()
    return _send_once(appointment_id, _reminders_due(now), "reminder_sent_at", _reminder_message, "Reminder")


def send_aftercare(appointment_id: int) -> bool:
    """Send the aftercare advice once, if it is (still) due. Returns False otherwise."""
    now = timezone.now()
    return _send_once(appointment_id, _aftercare_due(now), "aftercare_sent_at", _aftercare_message, "Aftercare")


def _message(appointment: Appointment, template: str, context: dict) -> EmailMultiAlternatives:
    context = {"appointment": appointment, "clinic_name": settings.CLINIC_NAME, **context}
    # Templates show every time in the current time zone (UTC in the worker): the patient
    # reads the clock of the place they are going to.
    with timezone.override(appointment.location.zone):
        return render_email(template, context, to=[appointment.patient.email])


def _confirmation_message(appointment: Appointment) -> EmailMultiAlternatives:
    message = _message(
        appointment,
        "confirmation",
        {
            "manage_url": manage_url(appointment),
            "local_start": appointment.local_start,
            "address_lines": _address_lines(appointment),
        },
    )
    message.attach(f"appointment-{appointment.reference}.ics", appointment_ics(appointment), "text/calendar")
    return message


def _address_lines(appointment: Appointment) -> list[str]:
    return [line.strip() for line in appointment.location.address.splitlines() if line.strip()]


def _reminder_message(appointment: Appointment) -> EmailMultiAlternatives:
    return _message(
        appointment,
        "reminder",
        {
            "manage_url": manage_url(appointment),
            "local_start": appointment.local_start,
            "address_lines": _address_lines(appointment),
            # The reminder may come after the online cancellation window has closed
            # (with the defaults it comes just as it closes): then the patient is told to call.
            "may_change_online": patient_may_change(appointment),
            "change_until": cancellation_deadline(appointment),
        },
    )


def _aftercare_message(appointment: Appointment) -> EmailMultiAlternatives:
    return _message(
        appointment,
        "aftercare",
        {"local_start": appointment.local_start, "book_url": settings.SITE_URL + reverse("booking:start")},
    )

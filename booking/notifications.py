"""Emails to patients, sent by the worker (send_due_notifications), never inside a request.

Per appointment: the confirmation when it is booked, a reminder before it, aftercare advice
once it has been marked completed, and a notice of every change the patient must know of: a
move (once it has settled: CHANGE_NOTICE_SETTLE_SECONDS) and a cancellation. Whoever made the
change (the patient's page or API, reception's calendar, admin or Book for a caller), the
services record it on the appointment and this module tells the patient: one path for all.

What the patient was last told (told_start, told_practitioner) is kept on the appointment:
a move notice is due while the appointment differs from it, so two moves before the notice
goes out send one, from the time they knew to the final one; a move back to the time they
knew sends none; a move before the confirmation went out needs none (it states the new time).

Never built twice: clinic.outbox.send_once claims each email's `*_sent_at` column, and
records the email; the outbox delivers it at least once (a rare second copy, after a worker
died mid-send, is the same email with the same Message-ID). Why: clinic/outbox.py.

Each claim is an UPDATE of the appointment table alone: conditions on other tables are
scalar subqueries, never joins. With a join Django moves every condition into an
`id IN (SELECT ...)` subquery, and a second worker blocked on the row lock would then
re-check `*_sent_at IS NULL` against the old snapshot and send again.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, transaction
from django.db.models import DateTimeField, Exists, F, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from booking.calendar import ics_content_type, manage_url, patient_ics
from booking.models import Appointment, TreatmentSeries
from booking.services import cancellation_deadline, patient_may_change
from clinic.emails import render_email
from clinic.models import Location, Practitioner, Service
from clinic.outbox import record, send_once, send_recorded

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

    # Its own SQL: no function, template or arg_joiner to take, as Func.as_sql's do.
    def as_sql(self, compiler, connection, **extra_context):  # type: ignore[override]
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
    carries the same advice and link, so a reminder minutes after it would only be noise (and
    so for a move notice sent after it)."""
    hours_before, latest_lead = _reminder_lead()
    due_at = WallClockHoursBefore(F("start"), _location_zone(), hours=settings.REMINDER_HOURS_BEFORE)
    return (
        Appointment.objects.filter(
            status=Appointment.Status.CONFIRMED,
            reminder_sent_at__isnull=True,
            start__gt=now + latest_lead,
            # A cheap bound first, so the zone arithmetic runs only near the window: no clock
            # change anywhere moves the wall clock by more than two hours.
            start__lt=now + hours_before + CLOCK_CHANGE_MAX,
        )
        .filter(LessThanOrEqual(due_at, Value(now)), LessThan(F("created_at"), due_at))
        # Not while a move is still to be told (its notice says the new time), and not after a
        # move notice that went out since the reminder moment: it said it all, minutes ago.
        .exclude(_MOVE_NOT_TOLD & Q(told_start__isnull=False))
        .filter(Q(move_notice_sent_at__isnull=True) | LessThan(F("move_notice_sent_at"), due_at))
    )


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


def _unconfirmed(now: datetime) -> QuerySet[Appointment]:
    """Confirmed, still to come, and not confirmed to the patient yet."""
    return Appointment.objects.filter(
        status=Appointment.Status.CONFIRMED, confirmation_sent_at__isnull=True, start__gt=now
    )


def _confirmations_due(now: datetime) -> QuerySet[Appointment]:
    """Unconfirmed and not waiting for its series' one email."""
    series_confirmed = TreatmentSeries.objects.filter(confirmation_sent_at__isnull=False).values("pk")
    return _unconfirmed(now).filter(Q(series__isnull=True) | Q(series__in=series_confirmed))


def due_confirmations(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_confirmations_due(now).values_list("pk", flat=True)[:BATCH])


# A series whose booking was cut off (booked_at never set) is confirmed this long after it began.
SERIES_BOOKING_GIVEN_UP_AFTER = timedelta(minutes=10)


def _series_confirmations_due(now: datetime) -> QuerySet[TreatmentSeries]:
    return TreatmentSeries.objects.filter(
        Q(booked_at__isnull=False) | Q(created_at__lte=now - SERIES_BOOKING_GIVEN_UP_AFTER),
        Exists(_unconfirmed(now).filter(series=OuterRef("pk"))),
        confirmation_sent_at__isnull=True,
    )


def due_series_confirmations(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_series_confirmations_due(now).order_by("pk").values_list("pk", flat=True)[:BATCH])


def send_series_confirmation(series_id: int) -> bool:
    """One email, with one calendar file, for the follow-up visits booked together. The series'
    claim, its visits' confirmation claims and the email's text are one transaction: no visit is
    confirmed both on its own and in the series email, and none cancelled meanwhile is listed.
    False when it is not due, another sender has it, or no visit is left to confirm."""
    now = timezone.now()
    try:
        with transaction.atomic():
            if not _series_confirmations_due(now).filter(pk=series_id).update(confirmation_sent_at=now):
                return False
            visits = list(
                _unconfirmed(now)
                .filter(series_id=series_id)
                .select_for_update(of=("self",))
                .select_related("patient", "practitioner", "location", "service")
                .order_by("start")
            )
            if not visits:  # cancelled since the claim's check: nothing to confirm, nothing claimed
                transaction.set_rollback(True)
                return False
            Appointment.objects.filter(pk__in=[visit.pk for visit in visits]).update(
                confirmation_sent_at=now, **_TOLD_NOW
            )
            series = TreatmentSeries.objects.select_related("source_appointment").get(pk=series_id)
            message = _series_message(series, visits)
            queued = record(
                message, what="Series confirmation", about=series, label=f"series #{series_id} ({len(visits)} visits)"
            )
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Series confirmation for series #%s could not be written; will retry", series_id)
        raise
    return send_recorded(queued, message, logger=logger)


def due_reminders(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_reminders_due(now).order_by("start").values_list("pk", flat=True)[:BATCH])


def due_aftercare(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_aftercare_due(now).order_by("start").values_list("pk", flat=True)[:BATCH])


# The appointment is not where the patient's last email put it.
_MOVE_NOT_TOLD = Q(~Q(told_start=F("start")) | ~Q(told_practitioner=F("practitioner")))
# A move to a time this close is told at once, without waiting for it to settle.
MOVE_TOLD_AT_ONCE_WITHIN = timedelta(hours=2)


def _moves_due(now: datetime) -> QuerySet[Appointment]:
    """Confirmed, still to come, told of before (the confirmation went out), now at another time
    or with another practitioner than the patient was told, and not moved for a settling while."""
    settled_before = now - timedelta(seconds=settings.CHANGE_NOTICE_SETTLE_SECONDS)
    return Appointment.objects.filter(
        _MOVE_NOT_TOLD,
        # Settled, or so soon that waiting would tell the patient too late.
        Q(moved_at__lte=settled_before) | Q(start__lte=now + MOVE_TOLD_AT_ONCE_WITHIN),
        status=Appointment.Status.CONFIRMED,
        confirmation_sent_at__isnull=False,
        told_start__isnull=False,
        start__gt=now,
    )


def _cancellations_due(now: datetime) -> QuerySet[Appointment]:
    """Cancelled appointments the patient had been told of, whose time is still to come."""
    return Appointment.objects.filter(
        status=Appointment.Status.CANCELLED,
        cancellation_notice_sent_at__isnull=True,
        confirmation_sent_at__isnull=False,
        start__gt=now,
    )


def due_move_notices(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_moves_due(now).order_by("start").values_list("pk", flat=True)[:BATCH])


def due_cancellation_notices(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(_cancellations_due(now).order_by("start").values_list("pk", flat=True)[:BATCH])


_LOAD = Appointment.objects.select_related("patient", "practitioner", "location", "service", "told_practitioner")
# What an email about the appointment's time tells the patient, written by its claim: the
# outbox then delivers that very email (at least once), so the claim is never undone.
_TOLD_NOW = {"told_start": F("start"), "told_practitioner": F("practitioner")}


def send_confirmation(appointment_id: int) -> bool:
    """Send the booking confirmation once. Returns False when another sender already has it."""
    claimable = _confirmations_due(timezone.now())
    return _send_once(
        appointment_id,
        claimable,
        "confirmation_sent_at",
        _confirmation_message,
        "Confirmation",
        also_claim=_TOLD_NOW,
    )


def send_cancellation_notice(appointment_id: int) -> bool:
    """Tell the patient of a cancellation once. False when it is not due or another sender has it."""
    now = timezone.now()
    return _send_once(
        appointment_id, _cancellations_due(now), "cancellation_notice_sent_at", _cancelled_message, "Cancellation"
    )


def send_move_notice(appointment_id: int) -> bool:
    """Tell the patient their appointment has moved: from what they were last told to where it
    is now. The claim replaces the told values it read, so of two senders one wins; the other
    finds them changed. Claim and email text in one transaction, as send_once's. False when no
    notice is due (or no longer)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            told = (
                Appointment.objects.filter(pk=appointment_id)
                .values("told_start", "told_practitioner_id", "move_notice_sent_at")
                .first()
            )
            if told is None or told["told_start"] is None:
                return False
            claimed = (
                _moves_due(now)
                .filter(
                    pk=appointment_id, told_start=told["told_start"], told_practitioner_id=told["told_practitioner_id"]
                )
                .update(move_notice_sent_at=now, **_TOLD_NOW)
            )
            if not claimed:
                return False
            appointment = _LOAD.get(pk=appointment_id)
            before = Practitioner.objects.get(pk=told["told_practitioner_id"])
            message = _moved_message(appointment, told_start=told["told_start"], told_practitioner=before)
            queued = record(message, what="Move notice", about=appointment, label=f"booking {appointment.reference}")
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Move notice for booking #%s could not be written; will retry", appointment_id)
        raise
    return send_recorded(queued, message, logger=logger)


def _send_once(appointment_id: int, claimable, column: str, build, what: str, **claim) -> bool:
    return send_once(
        appointment_id,
        claimable=claimable,
        column=column,
        build=build,
        load=_LOAD,
        what=what,
        noun="booking",
        logger=logger,
        **claim,
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
    # reads the clock of the place they are going to (a caller, their own: patient_zone).
    with timezone.override(appointment.patient_zone):
        return render_email(template, context, to=[appointment.patient.email])


def _attach_calendar_file(message: EmailMultiAlternatives, appointment: Appointment) -> EmailMultiAlternatives:
    message.attach(
        f"appointment-{appointment.reference}.ics", patient_ics([appointment]), ics_content_type([appointment])
    )
    return message


def _confirmation_message(appointment: Appointment) -> EmailMultiAlternatives:
    message = _message(
        appointment,
        "confirmation",
        {
            "manage_url": manage_url(appointment),
            "local_start": appointment.patient_local_start,
            "address_lines": _address_lines(appointment),
        },
    )
    return _attach_calendar_file(message, appointment)


def _moved_message(appointment: Appointment, *, told_start: datetime, told_practitioner) -> EmailMultiAlternatives:
    message = _message(
        appointment,
        "moved",
        {
            "manage_url": manage_url(appointment),
            "local_start": appointment.patient_local_start,
            "told_start": timezone.localtime(told_start, appointment.patient_zone),
            "told_practitioner": told_practitioner,
            "address_lines": _address_lines(appointment),
            "moved_by_clinic": appointment.changed_by == Appointment.ChangedBy.CLINIC,
            "change_window_hours": settings.BOOKING_CANCELLATION_WINDOW_HOURS,
        },
    )
    return _attach_calendar_file(message, appointment)


def _series_message(series: TreatmentSeries, visits: list[Appointment]) -> EmailMultiAlternatives:
    first = visits[0]
    message = _message(
        first,
        "series_confirmation",
        {
            "visits": [
                {"visit": visit, "local_start": visit.local_start, "manage_url": manage_url(visit)} for visit in visits
            ],
            "missing": series.sessions_requested - series.appointments.live().count(),
            "follow_ups_url": settings.SITE_URL
            + reverse("booking:follow_ups", args=[series.source_appointment.manage_token]),
            "address_lines": _address_lines(first),
            "change_window_hours": settings.BOOKING_CANCELLATION_WINDOW_HOURS,
        },
    )
    message.attach("follow-up-visits.ics", patient_ics(visits), ics_content_type(visits))
    return message


def _cancelled_message(appointment: Appointment) -> EmailMultiAlternatives:
    # The time and practitioner the patient knew: a move they were not told of yet is moot.
    known_start = appointment.told_start or appointment.start
    message = _message(
        appointment,
        "cancelled",
        {
            "local_start": timezone.localtime(known_start, appointment.patient_zone),
            "practitioner": appointment.told_practitioner or appointment.practitioner,
            "cancelled_by_clinic": appointment.changed_by == Appointment.ChangedBy.CLINIC,
            "reason": appointment.cancellation_reason if appointment.cancellation_reason_shared else "",
            "book_url": settings.SITE_URL + reverse("booking:start"),
        },
    )
    return _attach_calendar_file(message, appointment)


def _address_lines(appointment: Appointment) -> list[str]:
    return [line.strip() for line in appointment.location.address.splitlines() if line.strip()]


def _reminder_message(appointment: Appointment) -> EmailMultiAlternatives:
    return _message(
        appointment,
        "reminder",
        {
            "manage_url": manage_url(appointment),
            "local_start": appointment.patient_local_start,
            "address_lines": _address_lines(appointment),
            # The reminder may come after the online cancellation window has closed
            # (with the defaults it comes just as it closes): then the patient is told to call.
            "may_change_online": patient_may_change(appointment),
            "change_until": timezone.localtime(cancellation_deadline(appointment), appointment.patient_zone),
        },
    )


def _aftercare_message(appointment: Appointment) -> EmailMultiAlternatives:
    return _message(
        appointment,
        "aftercare",
        {"local_start": appointment.patient_local_start, "book_url": settings.SITE_URL + reverse("booking:start")},
    )

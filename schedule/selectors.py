"""Read paths of the practitioner's schedule pages (their days, one appointment and its
patient's record) and of their private calendar feed.

Every read takes the practitioner and filters by them in the query: another practitioner's
appointment is never loaded, so it cannot leak into a page. Each page costs a fixed number
of queries, whatever the number of appointments (see the tests' query bounds).

Time zones: each appointment is shown in its own location's zone. The practitioner's "today"
and their time off without a location are read in their main zone: the zone of their first
location in the clinic's order (display order, then name), else the site's zone.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
    prefetch_related_objects,
)
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment, TimeOff, time_off_zone
from booking.selectors import (
    SCREENING_FLAGS,
    ScreeningFlag,
    clipped_to_day,
    screening_or_none,
    with_new_patient_flag,
)
from booking.services import allowed_status_changes
from clinic.clock import clocks_change_on, staff_time
from clinic.models import Location, Practitioner, Service
from patients.models import Screening
from schedule.models import CalendarFeed

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from booking.selectors import AppointmentWithNewPatientFlag, NewPatientFlag

    class NewPatientFlagAndVisitNumber(NewPatientFlag):
        visit_number: int | None

    AppointmentWithVisitNumber = WithAnnotations[Appointment, NewPatientFlagAndVisitNumber]


@dataclass(frozen=True)
class PractitionerZones:
    main: ZoneInfo  # "today" and time off without a location are read here
    names: frozenset[str]  # the zones of all their locations

    def today(self) -> date:
        return timezone.localtime(timezone.now(), self.main).date()


def practitioner_zones(practitioner: Practitioner) -> PractitionerZones:
    """One query. Also fills practitioner.locations' cache, which time_off_zone reads."""
    prefetch_related_objects([practitioner], "locations")
    locations = list(practitioner.locations.all())
    main = locations[0].zone if locations else ZoneInfo(settings.TIME_ZONE)
    return PractitionerZones(main=main, names=frozenset(location.timezone for location in locations))


@dataclass(frozen=True)
class ScheduleEntry:
    appointment: Appointment
    local_start: datetime
    times: str  # "09:00–10:00", with the zone's abbreviation where a bare clock could mislead
    is_new_patient: bool
    visit_number: int | None  # the patient's nth live treatment; None when cancelled, a no-show or a call
    screening_flags: list[ScreeningFlag]


@dataclass(frozen=True)
class TimeAway:
    times: str  # "all day", "until 12:00", "from 13:00" or "12:00–13:00"
    reason: str
    closed_location: Location | None = None  # set for a closure of one of their locations


@dataclass
class ScheduleDay:
    day: date
    is_today: bool
    entries: list[ScheduleEntry] = field(default_factory=list)  # live and no-shows, in time order
    cancelled: list[ScheduleEntry] = field(default_factory=list)
    time_away: list[TimeAway] = field(default_factory=list)


@dataclass
class PractitionerSchedule:
    today: date
    days: list[ScheduleDay]
    names_zones: bool  # appointments in more than one zone: every time carries its abbreviation


def practitioner_schedule(
    *, practitioner: Practitioner, zones: PractitionerZones, first_day: date, last_day: date
) -> PractitionerSchedule:
    """The practitioner's appointments, time off and closures of their locations, day by day.

    An appointment belongs to its location's local calendar day. Two queries, however many
    appointments (one more, from practitioner_zones, to get `zones`).
    """
    # Local days run from UTC-12 to UTC+14: every zone's day lies inside the UTC day with a
    # day's margin either side. A coarse bound the (practitioner, start) index can use,
    # refined by each row's local date in SQL.
    window_start = datetime.combine(first_day - timedelta(days=1), time(0), tzinfo=UTC)
    window_end = datetime.combine(last_day + timedelta(days=2), time(0), tzinfo=UTC)
    appointments = list(
        _with_visit_number(with_new_patient_flag(Appointment.objects.filter(practitioner=practitioner)))
        .filter(start__gte=window_start, start__lt=window_end)
        .annotate(local_date=_local_date())
        .filter(local_date__gte=first_day, local_date__lte=last_day)
        .select_related("patient", "service", "location", "screening")
        .order_by("start", "pk")
    )
    time_off = list(
        TimeOff.objects.filter(
            Q(practitioner=practitioner)
            | Q(practitioner__isnull=True, location__in=[place.pk for place in practitioner.locations.all()]),
            start__lt=window_end,
            end__gt=window_start,
        )
        .select_related("location")
        .order_by("start", "pk")
    )
    zone_names = zones.names | {appointment.location.timezone for appointment in appointments}
    names_zones = len(zone_names) > 1

    today = zones.today()
    dates = [first_day + timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    days = {day: ScheduleDay(day=day, is_today=day == today) for day in dates}
    for appointment in appointments:
        entry = _entry(appointment, names_zones=names_zones)
        schedule_day = days[appointment.local_date]
        if appointment.status == Appointment.Status.CANCELLED:
            schedule_day.cancelled.append(entry)
        else:
            schedule_day.entries.append(entry)
    for away in time_off:
        zone = time_off_zone(location=away.location, practitioner=practitioner) or zones.main
        for schedule_day in days.values():
            day_start = local_instant(schedule_day.day, time(0), zone)
            day_end = local_instant(schedule_day.day + timedelta(days=1), time(0), zone)
            if away.start < day_end and away.end > day_start:
                clock = _clock(zone, named=names_zones or clocks_change_on(schedule_day.day, zone))
                schedule_day.time_away.append(
                    TimeAway(
                        times=clipped_to_day(away, day_start, day_end, clock),
                        reason=away.reason,
                        closed_location=away.location if away.practitioner_id is None else None,
                    )
                )
    return PractitionerSchedule(today=today, days=list(days.values()), names_zones=names_zones)


def _local_date() -> Cast:
    # PostgreSQL's timezone(zone, instant): the wall-clock time at the row's own location.
    local_wall_clock = Func(F("location__timezone"), F("start"), function="timezone", output_field=DateTimeField())
    return Cast(local_wall_clock, DateField())


def _with_visit_number(
    appointments: "QuerySet[AppointmentWithNewPatientFlag]",
) -> "QuerySet[AppointmentWithVisitNumber]":
    """Annotate `visit_number`: how many live treatments the patient has had with the clinic,
    any practitioner, up to and including this one (the first visit is 1). Only for live
    treatments: a cancelled appointment or a no-show is no visit. One subquery, no query per row."""
    visits_so_far = (
        Appointment.objects.live()
        .filter(patient=OuterRef("patient"), service__kind=Service.Kind.TREATMENT, start__lte=OuterRef("start"))
        .order_by()
        .values("patient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return appointments.annotate(
        visit_number=Case(
            When(
                status__in=Appointment.LIVE_STATUSES, service__kind=Service.Kind.TREATMENT, then=Subquery(visits_so_far)
            ),
            default=None,
            output_field=IntegerField(),
        )
    )


def _entry(appointment: "AppointmentWithVisitNumber", *, names_zones: bool) -> ScheduleEntry:
    zone = appointment.location.zone
    local_start = timezone.localtime(appointment.start, zone)
    clock = _clock(zone, named=names_zones or clocks_change_on(local_start.date(), zone))
    screening = screening_or_none(appointment)
    return ScheduleEntry(
        appointment=appointment,
        local_start=local_start,
        times=f"{clock(appointment.start)}–{clock(appointment.end)}",
        # The badge prepares for a first visit: a cancelled one will not take place.
        is_new_patient=appointment.is_new_patient and appointment.status != Appointment.Status.CANCELLED,
        visit_number=appointment.visit_number,
        screening_flags=[flag for flag in SCREENING_FLAGS if screening and getattr(screening, flag.field)],
    )


def _clock(zone: ZoneInfo, *, named: bool):
    return lambda instant: staff_time(timezone.localtime(instant, zone), zone_name=named)


# One appointment --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningAnswer:
    question: str
    answer: str
    is_flag: bool  # one of the flags the day shows as a badge, answered yes


@dataclass(frozen=True)
class PreviousVisit:
    appointment: Appointment
    local_start: datetime


@dataclass
class AppointmentDetail:
    appointment: Appointment
    local_start: datetime
    local_end: datetime
    patient_age: int | None  # None: a caller who gave no date of birth (a discovery call)
    screening: Screening | None
    screening_flags: list[ScreeningFlag]
    screening_answers: list[ScreeningAnswer]
    consented_at: datetime  # local
    callers_start: datetime | None  # a call's start on the caller's clock, when it is another
    previous_visits: list[PreviousVisit]  # newest first, all practitioners
    status_changes: list[str]  # the statuses it may be marked as now


def appointment_for_practitioner(*, practitioner: Practitioner, pk: int) -> Appointment:
    """The practitioner's own appointment, or Http404: another's is not found, not forbidden."""
    return get_object_or_404(
        Appointment.objects.select_related("patient", "service", "location", "consent", "screening"),
        pk=pk,
        practitioner=practitioner,
    )


def appointment_detail(*, practitioner: Practitioner, pk: int) -> AppointmentDetail:
    """Two queries: the appointment with its patient, screening and consent; the patient's earlier
    appointments. Those are the clinic's record of the patient, so they include other
    practitioners' appointments, but only their dates, services, practitioner and status."""
    appointment = appointment_for_practitioner(practitioner=practitioner, pk=pk)
    zone = appointment.location.zone
    previous = (
        Appointment.objects.filter(patient=appointment.patient_id, start__lt=appointment.start)
        .select_related("service", "practitioner", "location")
        .order_by("-start", "-pk")
    )
    screening = screening_or_none(appointment)
    local_start = timezone.localtime(appointment.start, zone)
    callers = appointment.patient_zone
    return AppointmentDetail(
        appointment=appointment,
        local_start=local_start,
        local_end=timezone.localtime(appointment.end, zone),
        patient_age=_age_on(appointment.patient.date_of_birth, local_start.date())
        if appointment.patient.date_of_birth
        else None,
        callers_start=timezone.localtime(appointment.start, callers) if callers != zone else None,
        screening=screening,
        screening_flags=[flag for flag in SCREENING_FLAGS if screening and getattr(screening, flag.field)],
        screening_answers=_screening_answers(screening) if screening else [],
        consented_at=timezone.localtime(appointment.consented_at, zone),
        previous_visits=[
            PreviousVisit(appointment=visit, local_start=timezone.localtime(visit.start, visit.location.zone))
            for visit in previous
        ],
        status_changes=allowed_status_changes(appointment),
    )


# Every answer the patient gave, in the model's order: a field added to Screening shows up here.
_NOT_ANSWERS = {"id", "appointment", "created_at"}
_FLAG_FIELDS = {flag.field for flag in SCREENING_FLAGS}


def _screening_answers(screening: Screening) -> list[ScreeningAnswer]:
    answers = []
    for model_field in Screening._meta.concrete_fields:
        if model_field.name in _NOT_ANSWERS:
            continue
        value = getattr(screening, model_field.name)
        answers.append(
            ScreeningAnswer(
                question=model_field.verbose_name[:1].upper() + model_field.verbose_name[1:],
                answer=_answer_text(value),
                is_flag=model_field.name in _FLAG_FIELDS and value is True,
            )
        )
    return answers


def _answer_text(value: bool | str) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value.strip() or "Nothing given"


def _age_on(date_of_birth: date, day: date) -> int:
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    return day.year - date_of_birth.year - (0 if had_birthday else 1)


# The private calendar feed ---------------------------------------------------------------

# What the feed shows: recent history (to look back at last week) and the weeks ahead.
FEED_DAYS_BACK = 14
FEED_DAYS_AHEAD = 60

# Only what new_feed_token makes: anything else is refused without a query.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-]{43,64}")


def feed_by_token(token: str) -> CalendarFeed | None:
    """The feed a token opens, with its practitioner; None for an unknown, replaced or
    malformed token, and for a practitioner who has left (inactive, or no active login).

    The lookup is an equality on a unique index: how long it takes does not depend on how
    much of a guess matches a real token, so it leaks nothing a guesser could use."""
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    return (
        CalendarFeed.objects.select_related("practitioner")
        .filter(token=token, practitioner__is_active=True, practitioner__user__is_active=True)
        .first()
    )


def feed_of(practitioner: Practitioner) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(practitioner=practitioner).first()


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=FEED_DAYS_BACK), now + timedelta(days=FEED_DAYS_AHEAD)


def feed_appointments(*, practitioner: Practitioner, now: datetime) -> QuerySet[Appointment]:
    """The practitioner's appointments starting in the feed's window, but cancelled ones (their
    time is free again), in one query. Only the columns the feed prints are read: nothing of
    the screening, nothing of the patient but their name."""
    window_start, window_end = feed_window(now)
    return (
        Appointment.objects.filter(practitioner=practitioner, start__gte=window_start, start__lt=window_end)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("patient", "service", "location")
        .only(
            "reference",
            "start",
            "end",
            "status",
            "sequence",
            "created_at",
            "updated_at",
            "patient__first_name",
            "patient__last_name",
            "service__name",
            "location__name",
            "location__address",
            "location__timezone",
        )
        .order_by("start", "pk")
    )


def feed_time_off(*, practitioner: Practitioner, now: datetime) -> QuerySet[TimeOff]:
    """The practitioner's own time off, and the closures of the locations they work at, that
    overlap the feed's window: one query."""
    window_start, window_end = feed_window(now)
    return (
        TimeOff.objects.filter(
            Q(practitioner=practitioner)
            | Q(practitioner__isnull=True, location__in=practitioner.locations.values("pk")),
            start__lt=window_end,
            end__gt=window_start,
        )
        .select_related("location")
        .order_by("start", "pk")
    )

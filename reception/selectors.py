"""Read paths of the front desk: the day calendar of a location, a practitioner's week, the free
times an appointment can move to, and the services that fit a free time.

The calendar is a grid of ROW_MINUTES rows of real time from the first hour shown, in the
location's own zone: on the days the clocks change a row is still five real minutes, so a 25-hour
day has an hour more rows and its labels say which 1 AM is which. Each page costs a fixed number
of queries, whatever the number of appointments (see the tests' query bounds).
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from booking.availability import (
    BookingRules,
    Interval,
    WeeklyHours,
    bookable_practitioners,
    local_instant,
    schedule_inputs,
)
from booking.models import APPOINTMENT_SPAN_LIMIT, Appointment, TimeOff, WorkingHours
from booking.selectors import SCREENING_FLAGS, ScreeningFlag, clipped_to_day, screening_or_none, with_new_patient_flag
from clinic import clock
from clinic.models import Location, Practitioner, Service
from patients.models import Patient, Screening
from patients.services import ScreeningAnswers

if TYPE_CHECKING:
    from booking.selectors import AppointmentWithNewPatientFlag

ROW_MINUTES = 5  # divides every slot step (5 to 60 minutes, dividing an hour) and every offset
ROW = timedelta(minutes=ROW_MINUTES)
# What a day with nothing in it shows: a working day.
DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR = 8, 18


@dataclass(frozen=True)
class Place:
    """Rows of the grid, 1-based: what the template turns into grid-row classes."""

    row: int
    span: int


@dataclass
class Grid:
    start: datetime  # the instant of the first row (UTC)
    rows: int
    zone: ZoneInfo
    names_zone: bool  # the clocks change this day: labels carry the zone's abbreviation

    @property
    def end(self) -> datetime:
        return self.start + self.rows * ROW

    def place(self, start: datetime, end: datetime) -> Place | None:
        """The rows [start, end) covers inside the grid; None when it is outside."""
        start, end = max(start, self.start), min(end, self.end)
        if end <= start:
            return None
        first = int((start - self.start) // ROW)
        last = -int(-(end - self.start) // ROW)  # rounded up: a 10:07 end still fills its row
        return Place(row=first + 1, span=max(1, last - first))

    def clock(self, instant: datetime) -> str:
        return clock.staff_time(timezone.localtime(instant, self.zone), zone_name=self.names_zone)

    def times(self, start: datetime, end: datetime) -> str:
        return f"{self.clock(start)}–{self.clock(end)}"


@dataclass(frozen=True)
class HourMark:
    place: Place
    label: str


@dataclass
class Block:
    """An appointment in a practitioner's column: here (with its patient), or their time taken
    elsewhere (another location, or a phone call), which is as busy."""

    appointment: Appointment
    place: Place | None  # None when it is outside the grid: then it is not drawn
    buffer: Place | None  # the cleaning-up time after it, drawn apart
    times: str
    is_new_patient: bool = False
    screening_flags: list[ScreeningFlag] = field(default_factory=list)
    elsewhere: Location | None = None  # set when it is at another location
    location_named: bool = False  # in a week across several locations: the block says where
    is_call: bool = False  # a discovery call
    details_hidden: bool = False  # a call drawn as busy time only (the calls toggle is off)
    lane: int = 0  # which of `lanes` it is drawn in
    lanes: int = 1  # more than one when a no-show and the appointment booked into its time overlap

    @property
    def movable(self) -> bool:
        return self.elsewhere is None and self.appointment.status == Appointment.Status.CONFIRMED


@dataclass(frozen=True)
class Stretch:
    """Working hours, time off or a closure, in rows and in words."""

    place: Place
    times: str
    reason: str = ""
    label: str = "Away"  # "Closed" for a location's closure


@dataclass(frozen=True)
class Cell:
    """One start on the slot grid inside working hours. Free cells are where a booking can
    start (reception clicks one to book); the others are drop targets for a move all the same,
    and the engine decides."""

    place: Place
    start: datetime
    label: str
    free: bool
    location: Location  # where a booking at this time would be
    past: bool = False

    @property
    def at(self) -> str:
        """The start as Book for a caller's ?at= takes it."""
        return self.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")

    @property
    def local_day(self) -> date:
        return timezone.localtime(self.start, self.location.zone).date()


@dataclass
class Column:
    """A practitioner's day: one of the day calendar's practitioners, or one day of a week."""

    practitioner: Practitioner
    day: date | None = None  # set in a week
    location: Location | None = None  # in a week: where they work that day (the first), for its day calendar
    index: int = 0
    hours: list[Stretch] = field(default_factory=list)
    away: list[Stretch] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    cancelled: list[Block] = field(default_factory=list)
    now: Place | None = None  # the "now" line, in the column that shows this moment

    hours_text: str = ""  # "9:00 AM–12:30 PM, 1:30 PM–5:00 PM": touching ranges read as one


class _ColumnsCalendar:
    columns: list[Column]

    @property
    def cancelled(self) -> list[tuple[Column, Block]]:
        """The cancelled appointments, listed below the grid with their column."""
        return [(column, block) for column in self.columns for block in column.cancelled]


@dataclass
class DayCalendar(_ColumnsCalendar):
    location: Location
    day: date
    today: date
    hours_in_day: float  # 23 or 25 on the days the clocks change
    grid: Grid
    hour_marks: list[HourMark]
    columns: list[Column]
    closures: list[Stretch]
    now: Place | None  # the row "now" falls in, when the grid shows it
    show_calls: bool

    @property
    def clocks_change(self) -> bool:
        return self.hours_in_day != 24

    @property
    def previous_day(self) -> date:
        return self.day - timedelta(days=1)

    @property
    def next_day(self) -> date:
        return self.day + timedelta(days=1)


def calendar_locations() -> QuerySet[Location]:
    return Location.objects.active()


def _local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return local_instant(day, time(0), zone), local_instant(day + timedelta(days=1), time(0), zone)


def _hour_floor(instant: datetime, zone: ZoneInfo) -> datetime:
    local = timezone.localtime(instant, zone)
    return instant - timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)


def _hour_ceiling(instant: datetime, zone: ZoneInfo) -> datetime:
    floor = _hour_floor(instant, zone)
    return floor if floor == instant else floor + timedelta(hours=1)


def _grid(zone: ZoneInfo, day_start: datetime, day_end: datetime, spans: Iterable[tuple[datetime, datetime]]) -> Grid:
    """From the hour before the first thing the day holds to the hour after the last one, within
    the local day; a working day's hours when it holds nothing."""
    spans = [(max(start, day_start), min(end, day_end)) for start, end in spans]
    spans = [(start, end) for start, end in spans if start < end]
    day = timezone.localtime(day_start, zone).date()
    if spans:
        first = _hour_floor(min(start for start, _ in spans), zone)
        last = min(_hour_ceiling(max(end for _, end in spans), zone), day_end)
    else:
        first = local_instant(day, time(DEFAULT_FIRST_HOUR), zone)
        last = local_instant(day, time(DEFAULT_LAST_HOUR), zone)
    hours_in_day = (day_end - day_start).total_seconds() / 3600
    return Grid(start=first, rows=int((last - first) // ROW), zone=zone, names_zone=hours_in_day != 24)


def _hour_marks(grid: Grid) -> list[HourMark]:
    marks, instant = [], grid.start
    while instant < grid.end:
        local = timezone.localtime(instant, grid.zone)
        label = clock.hour_label(local) + (f" {local:%Z}" if grid.names_zone else "")
        place = grid.place(instant, instant + timedelta(hours=1))
        assert place is not None  # the hour starts inside the grid
        marks.append(HourMark(place=place, label=label))
        instant += timedelta(hours=1)
    return marks


def day_calendar(*, location: Location, day: date, now: datetime | None = None, show_calls: bool = True) -> DayCalendar:
    """One location's local day: a column per practitioner who works there that day or has an
    appointment there, in the clinic's order. Three queries, however many appointments.

    Each column holds the working hours, time off and the location's closures as stretches of
    rows, every appointment there (live ones and no-shows) as a block sized to its length with
    its buffer, the practitioner's time taken elsewhere that day (another location, phone
    calls) as busy blocks, and a cell per slot-grid start inside working hours, free or not.
    Cancelled appointments are listed apart. `show_calls=False` draws discovery calls as busy
    time without their caller.
    """
    now = now or timezone.now()
    zone = location.zone
    day_start, day_end = _local_day_bounds(day, zone)
    hours_in_day = (day_end - day_start).total_seconds() / 3600
    columns: dict[int, Column] = {}

    def column_for(practitioner: Practitioner) -> Column:
        if practitioner.pk not in columns:
            columns[practitioner.pk] = Column(practitioner=practitioner)
        return columns[practitioner.pk]

    working_hours = list(
        WorkingHours.objects.filter(location=location, weekday=day.weekday(), practitioner__is_active=True)
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=day))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .select_related("practitioner")
        .order_by("start_time")
    )
    opening = {
        hours.pk: (local_instant(day, hours.start_time, zone), local_instant(day, hours.end_time, zone))
        for hours in working_hours
    }
    for hours in working_hours:
        column_for(hours.practitioner)
    # One query for the day's appointments here and the time its practitioners (those with hours
    # here that day, or an appointment here) have taken elsewhere.
    booked_here = Q(location=location, start__gte=day_start, start__lt=day_end)
    practitioners_here = Q(practitioner_id__in=list(columns)) | Q(
        practitioner_id__in=Appointment.objects.filter(booked_here).values("practitioner_id")
    )
    taken_elsewhere = (
        Q(status__in=Appointment.LIVE_STATUSES, start__lt=day_end, blocked_until__gt=day_start)
        & practitioners_here
        & ~Q(location=location)
    )
    appointments = list(
        with_new_patient_flag(
            # The outer bounds let PostgreSQL read one day's rows by start, not scan them all.
            Appointment.objects.filter(start__gte=day_start - APPOINTMENT_SPAN_LIMIT, start__lt=day_end)
            .filter(booked_here | taken_elsewhere)
            .select_related("patient", "practitioner", "service", "screening", "location")
            .order_by("start", "pk")
        )
    )
    appointments_here = [item for item in appointments if item.location_id == location.pk]
    for appointment in appointments_here:
        column_for(appointment.practitioner)
    elsewhere = [item for item in appointments if item.location_id != location.pk]
    time_off = list(
        TimeOff.objects.filter(
            Q(practitioner_id__in=list(columns)) | Q(location=location, practitioner__isnull=True),
            start__lt=day_end,
            end__gt=day_start,
        ).order_by("start", "pk")
    )

    grid = _grid(
        zone,
        day_start,
        day_end,
        [
            *opening.values(),
            *((item.start, item.blocked_until) for item in appointments_here if item.status != "cancelled"),
            *((item.start, item.blocked_until) for item in elsewhere),
        ],
    )

    def clipped(away: TimeOff) -> str:
        return clipped_to_day(away, day_start, day_end, grid.clock)

    closures = [
        Stretch(place=place, times=clipped(away), reason=away.reason)
        for away in time_off
        if away.practitioner_id is None and (place := grid.place(away.start, away.end)) is not None
    ]
    closed = _closures_by_location(time_off)
    earliest = BookingRules.for_staff().earliest_start(now, zone)
    for pid, column in columns.items():
        _fill_column(
            column,
            grid,
            ranges=[(*opening[hours.pk], location) for hours in working_hours if hours.practitioner_id == pid],
            appointments=[
                *(item for item in appointments_here if item.practitioner_id == pid),
                *(item for item in elsewhere if item.practitioner_id == pid),
            ],
            time_off=[away for away in time_off if away.practitioner_id == pid],
            closed=closed,
            clipped=clipped,
            earliest=earliest,
            here=lambda appointment: appointment.location_id == location.pk,
            show_calls=show_calls,
        )

    ordered = sorted(
        columns.values(),
        key=lambda column: (column.practitioner.display_order, column.practitioner.name, column.practitioner.pk),
    )
    now_place = grid.place(now, now + ROW) if grid.start <= now < grid.end else None
    for index, column in enumerate(ordered):
        column.index, column.now = index, now_place
        column.away.extend(replace(closure, label="Closed") for closure in closures)
    return DayCalendar(
        location=location,
        day=day,
        today=timezone.localtime(now, zone).date(),
        hours_in_day=hours_in_day,
        grid=grid,
        hour_marks=_hour_marks(grid),
        columns=ordered,
        closures=closures,
        now=now_place,
        show_calls=show_calls,
    )


def _fill_column(
    column: Column,
    grid: Grid,
    *,
    ranges: list[tuple[datetime, datetime, Location]],
    appointments: "list[AppointmentWithNewPatientFlag]",
    time_off: list[TimeOff],
    closed: dict[int, list[Interval]],
    clipped: Callable[[TimeOff], str],
    earliest: datetime,
    here: Callable[[Appointment], bool],
    show_calls: bool = True,
    name_locations: bool = False,
) -> None:
    """One practitioner's stretch of the grid: their working `ranges` (at which location), their
    `appointments` (blocks; those not `here` are busy time elsewhere), their own `time_off`, and
    `closed`: each location's closures, which block that location's ranges. Then a cell per slot
    start inside the ranges."""
    for opens, closes, _location in ranges:
        if (place := grid.place(opens, closes)) is not None:
            column.hours.append(Stretch(place=place, times=grid.times(opens, closes)))
    merged: list[list[datetime]] = []
    for opens, closes, _location in sorted(ranges, key=lambda item: item[0]):
        if merged and opens <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], closes)
        else:
            merged.append([opens, closes])
    column.hours_text = ", ".join(grid.times(opens, closes) for opens, closes in merged)
    for away in time_off:
        if (place := grid.place(away.start, away.end)) is not None:
            column.away.append(Stretch(place=place, times=clipped(away), reason=away.reason))
    busy: list[Interval] = []
    for appointment in appointments:
        block = _block(appointment, grid)
        if not here(appointment):
            block.elsewhere = appointment.location
            block.is_call = appointment.location.is_by_phone
            block.details_hidden = block.is_call and not show_calls
        else:
            screening = screening_or_none(appointment)
            block.is_new_patient = appointment.is_new_patient
            block.screening_flags = [flag for flag in SCREENING_FLAGS if screening and getattr(screening, flag.field)]
            block.is_call = appointment.service.is_by_phone
            block.location_named = name_locations
            if appointment.status == Appointment.Status.CANCELLED:
                column.cancelled.append(block)
                continue
        if appointment.status in Appointment.LIVE_STATUSES:
            busy.append(Interval(appointment.start, appointment.blocked_until))
        if block.place is not None:
            column.blocks.append(block)
    column.blocks.sort(key=lambda block: (block.appointment.start, block.appointment.pk))
    _give_overlapping_blocks_lanes(column.blocks)
    away_times = [Interval(item.start, item.end) for item in time_off]
    column.cells = _cells(grid, ranges, earliest=earliest, busy=busy, away=away_times, closed=closed)


def _block(appointment: Appointment, grid: Grid) -> Block:
    buffer = None
    if appointment.blocked_until > appointment.end:
        buffer = grid.place(appointment.end, appointment.blocked_until)
    zone = appointment.location.zone
    if zone.key == grid.zone.key:
        times = grid.times(appointment.start, appointment.end)
    else:
        # Placed on the grid's clock, but said in its own location's, named: a Westerville
        # patient at 10:00 is at 10:00 EDT, also in a week drawn in Calgary's time.
        times = clock.staff_time_range(
            timezone.localtime(appointment.start, zone), timezone.localtime(appointment.end, zone), zone_name=True
        )
    return Block(
        appointment=appointment,
        place=grid.place(appointment.start, appointment.end),
        buffer=buffer,
        times=times,
    )


MAX_LANES = 3  # calendar.css divides a column into up to three lanes


def _give_overlapping_blocks_lanes(blocks: list[Block]) -> None:
    """Live appointments of one practitioner never overlap (the exclusion constraint), but a
    no-show keeps its block while its time is booked again: blocks that overlap, directly or
    through one another, share the column's width in lanes, each in the first lane free at its
    start. `blocks` are in start order."""
    cluster: list[Block] = []
    cluster_end = None
    for block in [*blocks, None]:
        if block is not None and cluster_end is not None and block.appointment.start < cluster_end:
            cluster.append(block)
            cluster_end = max(cluster_end, block.appointment.end)
            continue
        if len(cluster) > 1:
            lane_ends: list[datetime] = []
            for member in cluster:
                lane = next(
                    (index for index, end in enumerate(lane_ends) if end <= member.appointment.start), len(lane_ends)
                )
                if lane == len(lane_ends):
                    lane_ends.append(member.appointment.end)
                else:
                    lane_ends[lane] = member.appointment.end
                member.lane = min(lane, MAX_LANES - 1)
            for member in cluster:
                member.lanes = min(len(lane_ends), MAX_LANES)
        if block is not None:
            cluster, cluster_end = [block], block.appointment.end


def _cells(
    grid: Grid,
    ranges: list[tuple[datetime, datetime, Location]],
    *,
    earliest: datetime,
    busy: list[Interval],
    away: list[Interval],
    closed: dict[int, list[Interval]],
) -> list[Cell]:
    step = timedelta(minutes=settings.BOOKING_SLOT_STEP_MINUTES)
    cells = []
    for opens, closes, location in sorted(ranges, key=lambda item: item[0]):
        unavailable = [*busy, *away, *closed.get(location.pk, [])]
        # The grid's first row is on the hour, and the step divides an hour: stepping from the
        # first grid time at or after the opening stays on the local slot grid.
        start = grid.start + -(-(opens - grid.start) // step) * step
        while start + step <= closes:
            end = start + step
            taken = any(item.start < end and start < item.end for item in unavailable)
            if (place := grid.place(start, end)) is not None:
                past = start < earliest
                cells.append(
                    Cell(
                        place=place,
                        start=start,
                        label=grid.clock(start),
                        free=not taken and not past,
                        location=location,
                        past=past,
                    )
                )
            start = end
    return cells


# A practitioner's week ------------------------------------------------------------------------


@dataclass
class WeekCalendar(_ColumnsCalendar):
    practitioner: Practitioner
    monday: date
    today: date
    zone: ZoneInfo  # the rows' clock: the practitioner's first location's
    rows: int
    hour_marks: list[HourMark]
    columns: list[Column]  # Monday to Sunday
    locations: list[Location]
    names_locations: bool  # they work at more than one: each block and working stretch says where
    now: Place | None  # the row "now" falls in, when the week shows it (in today's column)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @property
    def previous_monday(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next_monday(self) -> date:
        return self.monday + timedelta(days=7)


def week_practitioners() -> QuerySet[Practitioner]:
    """Whose week the front desk can look at: the active practitioners, with their locations
    (week_zone reads them)."""
    return Practitioner.objects.active().prefetch_related("locations").order_by("display_order", "name", "pk")


def week_zone(practitioner: Practitioner) -> ZoneInfo:
    """The clock a practitioner's week is drawn in: their first location's, in the clinic's order."""
    locations = sorted(practitioner.locations.all(), key=lambda place: (place.display_order, place.name, place.pk))
    return locations[0].zone if locations else ZoneInfo(settings.TIME_ZONE)


def practitioner_week(*, practitioner: Practitioner, day: date, now: datetime | None = None) -> WeekCalendar:
    """Monday to Sunday of `day`'s week for one practitioner, every location they work at: a
    column per day on the same rows of local time (the zone of their first location in the
    clinic's order), each with that day's working hours, time off and closures of their
    locations, their appointments as blocks and the free cells. Three queries, however many
    appointments (and one for practitioner.locations, unless prefetched).

    Each day's rows start at the same local hour, so a week reads across; a clock change inside
    the hours shown (at 2 AM, before any clinic opens) would shift that one day's later rows.
    """
    now = now or timezone.now()
    locations = sorted(practitioner.locations.all(), key=lambda place: (place.display_order, place.name, place.pk))
    zone = week_zone(practitioner)
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=offset) for offset in range(7)]
    week_start, week_end = _local_day_bounds(monday, zone)[0], _local_day_bounds(days[-1], zone)[1]
    working_hours = list(
        WorkingHours.objects.filter(practitioner=practitioner, location__in=[place.pk for place in locations])
        .filter(Q(effective_from__isnull=True) | Q(effective_from__lte=days[-1]))
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=monday))
        .select_related("location")
        .order_by("start_time")
    )
    # A day's margin either side: a location in another zone has its own local days.
    appointments = list(
        with_new_patient_flag(
            Appointment.objects.filter(
                practitioner=practitioner,
                start__gte=week_start - timedelta(days=1),
                start__lt=week_end + timedelta(days=1),
            )
            .select_related("patient", "location", "service", "screening")
            .order_by("start", "pk")
        )
    )
    time_off = list(
        TimeOff.objects.filter(
            Q(practitioner=practitioner) | Q(practitioner__isnull=True, location__in=[place.pk for place in locations]),
            start__lt=week_end + timedelta(days=1),
            end__gt=week_start - timedelta(days=1),
        )
        .select_related("location")
        .order_by("start", "pk")
    )

    def ranges_on(day: date) -> list[tuple[datetime, datetime, Location]]:
        return [
            (
                local_instant(day, hours.start_time, hours.location.zone),
                local_instant(day, hours.end_time, hours.location.zone),
                hours.location,
            )
            for hours in working_hours
            if WeeklyHours.of(hours).applies_on(day)
        ]

    # The same local hours every day: from the earliest thing in the week to the latest.
    spans_by_day = {
        day: [
            *((opens, closes) for opens, closes, _ in ranges_on(day)),
            *(
                (item.start, item.blocked_until)
                for item in appointments
                if item.status != Appointment.Status.CANCELLED and _local_date(item.start, zone) == day
            ),
        ]
        for day in days
    }
    first_hour, last_hour = _hours_shown(spans_by_day, zone)
    rows = (last_hour - first_hour) * 60 // ROW_MINUTES
    earliest = BookingRules.for_staff().earliest_start(now, zone)
    names_locations = len(locations) > 1
    columns, now_place = [], None
    for index, day in enumerate(days):
        day_start, day_end = _local_day_bounds(day, zone)
        grid = Grid(
            start=local_instant(day, time(first_hour), zone),
            rows=rows,
            zone=zone,
            names_zone=(day_end - day_start) != timedelta(days=1),
        )
        ranges = ranges_on(day)
        column = Column(
            practitioner=practitioner,
            day=day,
            index=index,
            location=ranges[0][2] if ranges else (locations[0] if locations else None),
        )
        _fill_column(
            column,
            grid,
            ranges=ranges,
            appointments=[item for item in appointments if _local_date(item.start, zone) == day],
            time_off=[
                away
                for away in time_off
                if away.practitioner_id is not None and away.start < day_end and away.end > day_start
            ],
            closed=_closures_by_location(time_off),
            clipped=functools.partial(clipped_to_day, day_start=day_start, day_end=day_end, clock=grid.clock),
            earliest=earliest,
            here=lambda appointment: True,
            name_locations=names_locations,
        )
        for away in time_off:
            if away.practitioner_id is None and away.start < day_end and away.end > day_start:
                place = grid.place(away.start, away.end)
                if place is not None:
                    assert away.location is not None  # time off for no practitioner is a location's closure
                    column.away.append(
                        Stretch(
                            place=place,
                            times=clipped_to_day(away, day_start, day_end, grid.clock),
                            reason=f"{away.location.name}" + (f", {away.reason}" if away.reason else ""),
                            label="Closed",
                        )
                    )
        if grid.start <= now < grid.end:
            column.now = now_place = grid.place(now, now + ROW)
        columns.append(column)
    return WeekCalendar(
        practitioner=practitioner,
        monday=monday,
        today=timezone.localtime(now, zone).date(),
        zone=zone,
        rows=rows,
        hour_marks=_hour_marks(
            Grid(start=local_instant(monday, time(first_hour), zone), rows=rows, zone=zone, names_zone=False)
        ),
        columns=columns,
        locations=locations,
        names_locations=names_locations,
        now=now_place,
    )


def _local_date(instant: datetime, zone: ZoneInfo) -> date:
    return timezone.localtime(instant, zone).date()


def _closures_by_location(time_off: list[TimeOff]) -> dict[int, list[Interval]]:
    closed: dict[int, list[Interval]] = {}
    for away in time_off:
        if away.practitioner_id is None:
            assert away.location_id is not None  # time off for no practitioner is a location's closure
            closed.setdefault(away.location_id, []).append(Interval(away.start, away.end))
    return closed


def _hours_shown(spans_by_day: dict[date, list[tuple[datetime, datetime]]], zone: ZoneInfo) -> tuple[int, int]:
    """The first and last local hour any day of the week needs, whole hours; a working day's
    when the week holds nothing."""
    first, last = 24, 0
    for day, spans in spans_by_day.items():
        day_start, day_end = _local_day_bounds(day, zone)
        for start, end in spans:
            start, end = max(start, day_start), min(end, day_end)
            if start >= end:
                continue
            first = min(first, timezone.localtime(start, zone).hour)
            if end == day_end:
                last = 24
            else:
                local_end = timezone.localtime(end, zone)
                last = max(last, local_end.hour + (1 if local_end.minute or local_end.second else 0))
    if first >= last:
        return DEFAULT_FIRST_HOUR, DEFAULT_LAST_HOUR
    return first, last


# Live updates ----------------------------------------------------------------------------------

# What the day calendar draws that another desk can change, as one fingerprint: the appointments
# at the location that day (with their patient's name, screening flags and service) and the time
# taken elsewhere by its practitioners, their time off and the location's closures, working hours,
# and the practitioners' names and order. Read from the committed rows in one query, so a poll
# never mistakes a write still in flight for the new picture. Not in it: the "New patient" badge,
# which an appointment on another day can change; the minute in the version redraws it at the
# latest a minute later.
_VERSION_SQL = """
WITH day_practitioners AS (
    SELECT practitioner_id FROM booking_workinghours WHERE location_id = %(location)s
    UNION
    SELECT practitioner_id FROM booking_appointment
     WHERE location_id = %(location)s AND start >= %(day_start)s AND start < %(day_end)s
)
SELECT md5(coalesce(string_agg(part, '|' ORDER BY part), '')) FROM (
    SELECT concat_ws(',', 'a', a.id, a.status, a.practitioner_id, a.location_id, a.start, a.blocked_until,
                     a.updated_at, a.patient_id, p.first_name, p.last_name, s.pregnant, s.blood_thinners,
                     s.bleeding_disorder, s.needle_fear, sv.name) AS part
      FROM booking_appointment a
      JOIN patients_patient p ON p.id = a.patient_id
      JOIN clinic_service sv ON sv.id = a.service_id
      LEFT JOIN patients_screening s ON s.appointment_id = a.id
     WHERE a.start >= %(earliest_start)s AND a.start < %(day_end)s
       AND ((a.location_id = %(location)s AND a.start >= %(day_start)s)
            OR (a.practitioner_id IN (SELECT practitioner_id FROM day_practitioners)
                AND a.blocked_until > %(day_start)s))
    UNION ALL
    SELECT concat_ws(',', 't', id, practitioner_id, location_id, start, "end", reason)
      FROM booking_timeoff
     WHERE (practitioner_id IN (SELECT practitioner_id FROM day_practitioners)
            OR (location_id = %(location)s AND practitioner_id IS NULL))
       AND start < %(day_end)s AND "end" > %(day_start)s
    UNION ALL
    SELECT concat_ws(',', 'w', id, practitioner_id, weekday, start_time, end_time, effective_from, effective_to)
      FROM booking_workinghours WHERE location_id = %(location)s
    UNION ALL
    SELECT concat_ws(',', 'p', id, name, display_order, is_active)
      FROM clinic_practitioner WHERE id IN (SELECT practitioner_id FROM day_practitioners)
) AS parts
"""


def calendar_version(*, location: Location, day: date, show_calls: bool) -> str:
    """The fingerprint of what the day calendar of `location` on `day` shows (one query): equal
    while nothing changed."""
    day_start, day_end = _local_day_bounds(day, location.zone)
    with connection.cursor() as cursor:
        cursor.execute(
            _VERSION_SQL,
            {
                "location": location.pk,
                "day_start": day_start,
                "day_end": day_end,
                # No appointment runs longer (a constraint): the outer bounds read one day's rows by start.
                "earliest_start": day_start - APPOINTMENT_SPAN_LIMIT,
            },
        )
        (fingerprint,) = cursor.fetchone()
    minute = timezone.localtime(timezone.now(), location.zone).strftime("%H%M")
    # The minute too: the "now" line moves, and cells turn past, without any write.
    return f"{fingerprint}-{minute}-{int(show_calls)}"


# Moving an appointment ------------------------------------------------------------------------


def practitioners_for_move(*, appointment: Appointment) -> QuerySet[Practitioner]:
    """Who the appointment can move to: the practitioners qualified for its service at its location."""
    return bookable_practitioners(service=appointment.service, location=appointment.location)


# Who is calling -----------------------------------------------------------------------------------


def with_last_visit(patients: QuerySet[Patient], *, now: datetime) -> QuerySet[Patient]:
    """Annotate `last_visit`: the start of the patient's latest treatment that took place (arrived
    or completed) before now, or None. A subquery, no query per row."""
    visits = Appointment.objects.filter(
        patient=OuterRef("pk"),
        status__in=[Appointment.Status.ARRIVED, Appointment.Status.COMPLETED],
        start__lt=now,
    ).order_by("-start")
    return patients.annotate(last_visit=Subquery(visits.values("start")[:1]))


def last_screening_answers(patient_id: int | None) -> dict:
    """The safety answers given with the patient's latest booking, as the booking form's fields
    (empty when there is none): one query."""
    if patient_id is None:
        return {}
    screening = Screening.objects.filter(appointment__patient_id=patient_id).order_by("-appointment__start").first()
    return ScreeningAnswers.given_with(screening).stored() if screening else {}


def patient_label(patient: Patient) -> str:
    """ "Grace Hopper · born 9 Dec 1976 · gr…@example.com · last visit 3 Nov 2026": what tells
    two people of one name apart, with no more of the email than its first letters."""
    local, _, domain = patient.email.partition("@")
    born = patient.date_of_birth
    parts = [str(patient), f"born {born.day} {born:%b %Y}" if born else "no date of birth (a caller)"]
    parts.append(f"{local[:2]}…@{domain}")
    last_visit = getattr(patient, "last_visit", None)
    parts.append(f"last visit {last_visit.day} {last_visit:%b %Y}" if last_visit else "no visit yet")
    return " · ".join(parts)


# Book from a free cell ------------------------------------------------------------------------


def services_fitting(*, location: Location, practitioner: Practitioner, start: datetime) -> list[Service]:
    """The services `practitioner` gives at `location` that can be booked at `start` under the
    staff rules: what "Book for a caller" offers after a click on a free cell. Four queries for
    all of them (the services, then the engine's inputs once), then the pure engine per service."""
    if not Practitioner.objects.active().filter(pk=practitioner.pk, locations=location).exists():
        return []
    services = Service.objects.active().filter(qualifications__practitioner=practitioner)
    if location.is_by_phone:
        # bookable_practitioners' rule: treatments need the patient in the room.
        services = services.filter(kind=Service.Kind.DISCOVERY_CALL)
    services = list(services.order_by("display_order", "name"))
    if not services:
        return []
    day = timezone.localtime(start, location.zone).date()
    inputs = schedule_inputs(practitioner_ids=[practitioner.pk], location=location, first_day=day, last_day=day)
    now, rules = timezone.now(), BookingRules.for_staff()
    return [
        service
        for service in services
        if any(
            slot.start == start
            for slot in inputs.free_slots_for(
                service, first_day=day, last_day=day, zone=location.zone, now=now, rules=rules
            )
        )
    ]

"""Read paths of the front desk: the day calendar of a location, a practitioner's week, the free
times an appointment can move to, and the services that fit a free time.

The calendar is a grid of ROW_MINUTES rows of real time from the first hour shown, in the
location's own zone: on the days the clocks change a row is still five real minutes, so a 25-hour
day has an hour more rows and its labels say which 1 AM is which. Each page costs a fixed number
of queries, whatever the number of appointments (see the tests' query bounds).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from booking.availability import (
    BookingRules,
    Interval,
    bookable_practitioners,
    local_instant,
    schedule_inputs,
)
from booking.models import Appointment, TimeOff, WorkingHours
from booking.selectors import SCREENING_FLAGS, ScreeningFlag, clipped_to_day, screening_or_none, with_new_patient_flag
from clinic import clock
from clinic.models import Location, Practitioner, Service

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
    place: Place
    buffer: Place | None  # the cleaning-up time after it, drawn apart
    times: str
    is_new_patient: bool = False
    screening_flags: list[ScreeningFlag] = field(default_factory=list)
    elsewhere: Location | None = None  # set when it is at another location
    is_call: bool = False  # a discovery call
    details_hidden: bool = False  # a call drawn as busy time only (the calls toggle is off)
    lane: str = ""  # "a" / "b" when a no-show and the appointment booked into its time overlap

    @property
    def movable(self) -> bool:
        return self.elsewhere is None and self.appointment.status == Appointment.Status.CONFIRMED


@dataclass(frozen=True)
class Stretch:
    """Working hours, time off or a closure, in rows and in words."""

    place: Place
    times: str
    reason: str = ""


@dataclass(frozen=True)
class Cell:
    """One start on the slot grid inside working hours. Free cells are where a booking can
    start (reception clicks one to book); the others are drop targets for a move all the same,
    and the engine decides."""

    place: Place
    start: datetime
    label: str
    free: bool
    past: bool = False

    @property
    def at(self) -> str:
        """The start as Book for a caller's ?at= takes it."""
        return self.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass
class Column:
    practitioner: Practitioner
    index: int = 0
    hours: list[Stretch] = field(default_factory=list)
    away: list[Stretch] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    cancelled: list[Block] = field(default_factory=list)

    @property
    def hours_text(self) -> str:
        return ", ".join(stretch.times for stretch in self.hours)


@dataclass
class DayCalendar:
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
    def cancelled(self) -> list[tuple[Column, Block]]:
        return [(column, block) for column in self.columns for block in column.cancelled]

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
        marks.append(HourMark(place=grid.place(instant, instant + timedelta(hours=1)), label=label))
        instant += timedelta(hours=1)
    return marks


def day_calendar(*, location: Location, day: date, now: datetime | None = None, show_calls: bool = True) -> DayCalendar:
    """One location's local day: a column per practitioner who works there that day or has an
    appointment there, in the clinic's order. Five queries, however many appointments.

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
    appointments_here = list(
        with_new_patient_flag(
            Appointment.objects.filter(location=location, start__gte=day_start, start__lt=day_end)
            .select_related("patient", "practitioner", "service", "screening")
            .order_by("start", "pk")
        )
    )
    for appointment in appointments_here:
        column_for(appointment.practitioner)
    elsewhere = list(
        Appointment.objects.live()
        .filter(practitioner_id__in=list(columns))
        .exclude(location=location)
        .overlapping(day_start, day_end)
        .select_related("location", "patient", "service")
        .order_by("start", "pk")
    )
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
    busy: dict[int, list[Interval]] = {pid: [] for pid in columns}
    unavailable: dict[int, list[Interval]] = {
        pid: [Interval(away.start, away.end) for away in time_off if away.practitioner_id is None] for pid in columns
    }
    for away in time_off:
        if away.practitioner_id is None:
            continue
        unavailable[away.practitioner_id].append(Interval(away.start, away.end))
        place = grid.place(away.start, away.end)
        if place is not None:
            columns[away.practitioner_id].away.append(Stretch(place=place, times=clipped(away), reason=away.reason))
    for hours in working_hours:
        opens, closes = opening[hours.pk]
        place = grid.place(opens, closes)
        if place is not None:
            columns[hours.practitioner_id].hours.append(Stretch(place=place, times=grid.times(opens, closes)))

    for appointment in appointments_here:
        block = _block(appointment, grid)
        screening = screening_or_none(appointment)
        block.is_new_patient = appointment.is_new_patient
        block.screening_flags = [flag for flag in SCREENING_FLAGS if screening and getattr(screening, flag.field)]
        block.is_call = appointment.service.is_by_phone
        column = columns[appointment.practitioner_id]
        if appointment.status == Appointment.Status.CANCELLED:
            column.cancelled.append(block)
            continue
        if appointment.status in Appointment.LIVE_STATUSES:
            busy[appointment.practitioner_id].append(Interval(appointment.start, appointment.blocked_until))
        if block.place is not None:
            column.blocks.append(block)
    for appointment in elsewhere:
        busy[appointment.practitioner_id].append(Interval(appointment.start, appointment.blocked_until))
        block = _block(appointment, grid)
        block.elsewhere = appointment.location
        block.is_call = appointment.location.is_by_phone
        block.details_hidden = block.is_call and not show_calls
        if block.place is not None:
            columns[appointment.practitioner_id].blocks.append(block)

    earliest = BookingRules.for_staff().earliest_start(now, zone)
    step = timedelta(minutes=settings.BOOKING_SLOT_STEP_MINUTES)
    for pid, column in columns.items():
        column.blocks.sort(key=lambda block: (block.appointment.start, block.appointment.pk))
        _give_overlapping_blocks_lanes(column.blocks)
        ranges = [opening[hours.pk] for hours in working_hours if hours.practitioner_id == pid]
        column.cells = _cells(grid, ranges, step=step, earliest=earliest, busy=busy[pid], away=unavailable[pid])

    ordered = sorted(
        columns.values(),
        key=lambda column: (column.practitioner.display_order, column.practitioner.name, column.practitioner.pk),
    )
    for index, column in enumerate(ordered):
        column.index = index
    return DayCalendar(
        location=location,
        day=day,
        today=timezone.localtime(now, zone).date(),
        hours_in_day=hours_in_day,
        grid=grid,
        hour_marks=_hour_marks(grid),
        columns=ordered,
        closures=closures,
        now=grid.place(now, now + ROW) if grid.start <= now < grid.end else None,
        show_calls=show_calls,
    )


def _block(appointment: Appointment, grid: Grid) -> Block:
    buffer = None
    if appointment.blocked_until > appointment.end:
        buffer = grid.place(appointment.end, appointment.blocked_until)
    return Block(
        appointment=appointment,
        place=grid.place(appointment.start, appointment.end),
        buffer=buffer,
        times=grid.times(appointment.start, appointment.end),
    )


def _give_overlapping_blocks_lanes(blocks: list[Block]) -> None:
    """Live appointments of one practitioner never overlap (the exclusion constraint), but a
    no-show keeps its block while its time is booked again: such pairs share the column."""
    for earlier, later in pairwise(blocks):
        if later.appointment.start < earlier.appointment.end:
            earlier.lane = earlier.lane or "a"
            later.lane = "a" if earlier.lane == "b" else "b"


def _cells(
    grid: Grid,
    ranges: list[tuple[datetime, datetime]],
    *,
    step: timedelta,
    earliest: datetime,
    busy: list[Interval],
    away: list[Interval],
) -> list[Cell]:
    cells = []
    for opens, closes in sorted(ranges):
        # The grid's first row is on the hour, and the step divides an hour: stepping from the
        # first grid time at or after the opening stays on the local slot grid.
        start = grid.start + -(-(opens - grid.start) // step) * step
        while start + step <= closes:
            end = start + step
            taken = any(item.start < end and start < item.end for item in busy) or any(
                item.start < end and start < item.end for item in away
            )
            place = grid.place(start, end)
            if place is not None:
                label = grid.clock(start)
                past = start < earliest
                cells.append(Cell(place=place, start=start, label=label, free=not taken and not past, past=past))
            start = end
    return cells


# Live updates ----------------------------------------------------------------------------------

# Everything the day calendar draws that another desk can change, as one fingerprint: the
# appointments at the location that day and the time taken elsewhere by its practitioners, their
# time off and the location's closures, and working hours. Read from the committed rows in one
# query, so a poll never mistakes a write still in flight for the new picture.
_VERSION_SQL = """
WITH day_practitioners AS (
    SELECT practitioner_id FROM booking_workinghours WHERE location_id = %(location)s
    UNION
    SELECT practitioner_id FROM booking_appointment
     WHERE location_id = %(location)s AND start >= %(day_start)s AND start < %(day_end)s
)
SELECT md5(coalesce(string_agg(part, '|' ORDER BY part), '')) FROM (
    SELECT concat_ws(',', 'a', id, status, practitioner_id, location_id, start, blocked_until, updated_at) AS part
      FROM booking_appointment
     WHERE (location_id = %(location)s AND start >= %(day_start)s AND start < %(day_end)s)
        OR (practitioner_id IN (SELECT practitioner_id FROM day_practitioners)
            AND start < %(day_end)s AND blocked_until > %(day_start)s)
    UNION ALL
    SELECT concat_ws(',', 't', id, practitioner_id, location_id, start, "end", reason)
      FROM booking_timeoff
     WHERE (practitioner_id IN (SELECT practitioner_id FROM day_practitioners)
            OR (location_id = %(location)s AND practitioner_id IS NULL))
       AND start < %(day_end)s AND "end" > %(day_start)s
    UNION ALL
    SELECT concat_ws(',', 'w', id, practitioner_id, weekday, start_time, end_time, effective_from, effective_to)
      FROM booking_workinghours WHERE location_id = %(location)s
) AS parts
"""


def calendar_version(*, location: Location, day: date, show_calls: bool) -> str:
    """The fingerprint of what the day calendar of `location` on `day` shows (one query): equal
    while nothing changed."""
    day_start, day_end = _local_day_bounds(day, location.zone)
    with connection.cursor() as cursor:
        cursor.execute(_VERSION_SQL, {"location": location.pk, "day_start": day_start, "day_end": day_end})
        (fingerprint,) = cursor.fetchone()
    minute = timezone.localtime(timezone.now(), location.zone).strftime("%H%M")
    # The minute too: the "now" line moves, and cells turn past, without any write.
    return f"{fingerprint}-{minute}-{int(show_calls)}"


# Moving an appointment ------------------------------------------------------------------------


def practitioners_for_move(*, appointment: Appointment) -> QuerySet[Practitioner]:
    """Who the appointment can move to: the practitioners qualified for its service at its location."""
    return bookable_practitioners(service=appointment.service, location=appointment.location)


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

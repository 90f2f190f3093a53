"""Where availability is computed: the one engine every booking path uses.

`free_starts` (and `free_slots`, its answer as Slots) is a pure function of the rules, time
off, existing appointments, the service, the window and the time zone, so it can be tested
exhaustively without a database. `available_slots` gathers its inputs in one query (two when it must find the
qualified practitioners first), whatever the window or the number of appointments, and calls it.

Time zones: working hours are wall-clock times at the location, so each day's ranges
are turned into UTC instants for that day's own offset; across a DST change the same
09:00-17:00 is a different UTC range on each side, and a day's candidates are stepped
in absolute time from a start aligned to the step in local time.
"""

import bisect
import hashlib
import itertools
import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from booking.models import Appointment, WorkingHours
from clinic.models import Location, Practitioner, Service
from clinic.prepared import PreparedStatement

MAX_WINDOW_DAYS = 62


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime  # start + the service's duration
    practitioner_id: int


@dataclass(frozen=True)
class WeeklyHours:
    practitioner_id: int
    weekday: int  # Monday = 0
    start_time: time
    end_time: time
    effective_from: date | None = None
    effective_to: date | None = None

    @classmethod
    def of(cls, row: WorkingHours) -> "WeeklyHours":
        return cls(
            practitioner_id=row.practitioner_id,
            weekday=row.weekday,
            start_time=row.start_time,
            end_time=row.end_time,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
        )

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day <= self.effective_to)
        )


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


class StartRefusal(StrEnum):
    """Why a start is no start to book under the rules (BookingRules.refusal)."""

    PASSED = "passed"
    TOO_SOON = "too_soon"  # inside the minimum notice
    TOO_FAR = "too_far"  # beyond the horizon
    OFF_GRID = "off_grid"  # not on the step of the location's clock


# A time offered on a page drawn a while ago may have slipped out of the rules since (inside
# the notice now, say): up to this past the horizon, and from now on (staff: this before now),
# it still reaches the booking services, which answer "just taken" with the nearest free times,
# rather than "that is no time".
_REACH = timedelta(days=1)


@dataclass(frozen=True)
class BookingRules:
    """How soon and how far ahead a start may be, and on which grid: the engine offers by them,
    the API judges a requested start by them (refusal), and the web pages' and the front desk's
    forms read a chosen start by their reach (within_reach), leaving the rest to the engine.
    Patients online: the minimum notice and the booking horizon. Staff (for_staff): from the
    grid time now falls in, so a walk-in at 12:37 is booked at 12:30, and up to
    STAFF_BOOKING_HORIZON_DAYS ahead."""

    min_notice: timedelta
    horizon: timedelta
    step: timedelta
    from_current_grid_time: bool = False

    @classmethod
    def from_settings(cls) -> "BookingRules":
        return cls(
            min_notice=timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES),
            horizon=timedelta(days=settings.BOOKING_HORIZON_DAYS),
            step=timedelta(minutes=settings.BOOKING_SLOT_STEP_MINUTES),
        )

    @classmethod
    def for_staff(cls) -> "BookingRules":
        return cls(
            min_notice=timedelta(0),
            horizon=timedelta(days=settings.STAFF_BOOKING_HORIZON_DAYS),
            step=timedelta(minutes=settings.BOOKING_SLOT_STEP_MINUTES),
            from_current_grid_time=True,
        )

    def earliest_start(self, now: datetime, zone: ZoneInfo) -> datetime:
        if not self.from_current_grid_time:
            return now + self.min_notice
        following = _first_on_local_grid(now, zone, self.step_minutes)
        return following if following == now else following - self.step

    @property
    def step_minutes(self) -> int:
        return int(self.step.total_seconds() // 60)

    def latest_start(self, now: datetime) -> datetime:
        return now + self.horizon

    def refusal(self, start: datetime, *, now: datetime, zone: ZoneInfo) -> StartRefusal | None:
        """Why `start` cannot be booked under these rules, whatever the diary says; None if it can."""
        if start < self.earliest_start(now, zone):
            return StartRefusal.PASSED if start <= now or self.from_current_grid_time else StartRefusal.TOO_SOON
        if start > self.latest_start(now):
            return StartRefusal.TOO_FAR
        if _first_on_local_grid(start, zone, self.step_minutes) != start:
            return StartRefusal.OFF_GRID
        return None

    def within_reach(self, start: datetime, *, now: datetime) -> bool:
        """Could a page have offered `start` under these rules a while ago (_REACH)? Staff
        pages reach a day back, where a day ago is still on the calendar they read."""
        earliest = now - _REACH if self.from_current_grid_time else now
        return earliest <= start <= self.latest_start(now) + _REACH


def local_instant(day: date, wall_time: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a day. In a spring-forward gap the
    earlier offset applies (02:30 that does not exist becomes 03:30 local); in a
    fall-back overlap the first occurrence is taken (fold=0)."""
    return datetime.combine(day, wall_time, tzinfo=zone).astimezone(UTC)


# The days people may type (time off, the day sheet): far enough for any real use, and never
# near date.min/max, where turning a local time into UTC overflows.
EARLIEST_TYPED_DAY, LATEST_TYPED_DAY = date(2000, 1, 1), date(2200, 12, 31)
YEAR_OUT_OF_RANGE = f"Check the year: enter a date from {EARLIEST_TYPED_DAY.year} to {LATEST_TYPED_DAY.year}."


class UnclearLocalTime(ValueError):
    """A typed wall-clock time that a clock change skips or shows twice; the message says which."""


def exact_local_instant(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a time someone typed. Unlike local_instant (the engine's rule for
    opening hours), a time the clocks skip or repeat is refused, not guessed: a person
    entering time off picks a time that means one thing."""
    earlier = wall_clock.replace(tzinfo=zone, fold=0)
    later = wall_clock.replace(tzinfo=zone, fold=1)
    when = f"{wall_clock:%H:%M} on {wall_clock:%Y-%m-%d} in {zone.key}"
    if earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall_clock:
        raise UnclearLocalTime(f"{when} does not exist: the clocks go forward then. Choose a time outside the gap.")
    if earlier.utcoffset() != later.utcoffset():
        raise UnclearLocalTime(f"{when} happens twice: the clocks go back then. Choose a time outside that hour.")
    return earlier.astimezone(UTC)


def _first_on_local_grid(instant: datetime, zone: ZoneInfo, step_minutes: int) -> datetime:
    """The first instant at or after `instant` whose local time is a multiple of the step.

    Aligning by the local clock of the opening time alone is wrong on a fall-back night
    (opening at 01:50 EDT, the next grid time is 01:00 EST, ten real minutes later).
    Stepping on from there in real time stays on the grid because offsets change by
    whole hours and the step divides an hour (settings enforce it); half-hour-offset
    zones such as Asia/Kolkata are aligned here, in local time.
    """
    local = instant.astimezone(zone)
    past = (local.minute % step_minutes) * 60 + local.second
    if past == 0 and local.microsecond == 0:
        return instant
    return instant - timedelta(seconds=past, microseconds=local.microsecond) + timedelta(minutes=step_minutes)


def free_slots(**engine_inputs: Any) -> list[Slot]:
    """free_starts' answer (the same arguments) as Slots, sorted by start."""
    return slots_of(free_starts(**engine_inputs), duration=engine_inputs["duration"])


def slots_of(starts: list[tuple[int, int]], *, duration: timedelta) -> list[Slot]:
    slots = []
    for start, practitioner_id in starts:
        instant = datetime.fromtimestamp(start, UTC)
        slots.append(Slot(start=instant, end=instant + duration, practitioner_id=practitioner_id))
    return slots


def free_starts(
    *,
    duration: timedelta,
    buffer_after: timedelta,
    weekly_hours: Sequence[WeeklyHours],
    time_off: Iterable[tuple[int | None, Interval | tuple[float, float]]],
    appointments: Iterable[tuple[int, Interval | tuple[float, float]]],
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    now: datetime,
    rules: BookingRules,
) -> list[tuple[int, int]]:
    """Every (start in epoch seconds, practitioner id) free for a new appointment, sorted by
    start: the engine itself, in integers, so that a 30-day answer builds no object per
    candidate time (the datetime arithmetic per candidate was most of an uncached answer's cost).

    - `weekly_hours`: the practitioners' hours at this location; only they are considered.
    - `time_off`: (practitioner id, interval), or (None, interval) for the whole location closed.
      The appointment itself must not touch it; its buffer may (cleaning up before a break is fine).
    - `appointments`: (practitioner id, [start, end + buffer)) of live appointments anywhere.
      The new appointment plus its own buffer must not touch them: this is the same rule as
      the database's exclusion constraint, so every slot offered can be inserted.
    """
    earliest = math.ceil(rules.earliest_start(now, zone).timestamp())
    latest = math.floor(rules.latest_start(now).timestamp())
    step = rules.step_minutes * 60
    length = int(duration.total_seconds())
    blocked = length + int(buffer_after.total_seconds())

    # A start s is refused by time off u when [s, s + length) touches it, by an appointment b
    # when [s, s + length + buffer) does: s in (u.start - length, u.end), (b.start - blocked,
    # b.end). Each practitioner's refused starts, merged, are then skipped by arithmetic.
    refused: dict[int, list[tuple[float, float]]] = defaultdict(list)
    closed: list[tuple[float, float]] = []
    for practitioner_id, interval in time_off:
        start, end = _seconds(interval)
        (closed if practitioner_id is None else refused[practitioner_id]).append((start - length, end))
    for practitioner_id, interval in appointments:
        start, end = _seconds(interval)
        refused[practitioner_id].append((start - blocked, end))
    practitioner_ids = {hours.practitioner_id for hours in weekly_hours}
    refused_starts = {pid: _RefusedStarts([*closed, *refused[pid]]) for pid in practitioner_ids}

    by_weekday: dict[int, list[WeeklyHours]] = defaultdict(list)
    for hours in weekly_hours:
        by_weekday[hours.weekday].append(hours)
    found: list[tuple[int, int]] = []
    day = first_day
    midnight = _epoch(local_instant(day, time(0), zone))
    while day <= last_day:
        following = day + timedelta(days=1)
        next_midnight = _epoch(local_instant(following, time(0), zone))
        # A day of 24 hours has no clock change in it: its wall times are whole seconds after
        # its local midnight, and the local grid is the grid from midnight (the step divides an
        # hour). A day with a change goes through the zone for each time.
        plain_day = next_midnight - midnight == 86400
        for hours in by_weekday.get(day.weekday(), ()):
            if not hours.applies_on(day):
                continue
            opens, closes = _seconds_of_day(hours.start_time), _seconds_of_day(hours.end_time)
            if plain_day and opens is not None and closes is not None:
                start = midnight - (-opens // step) * step
                closing = midnight + closes
            else:
                start = _epoch(
                    _first_on_local_grid(local_instant(day, hours.start_time, zone), zone, rules.step_minutes)
                )
                closing = _epoch(local_instant(day, hours.end_time, zone))
            if start < earliest:  # on to the first grid time past the notice
                start += -(-(earliest - start) // step) * step
            last_start = min(closing - length, latest)
            pid = hours.practitioner_id
            found.extend((free, pid) for free in refused_starts[pid].grid_outside(start, last_start, step))
        day, midnight = following, next_midnight
    return sorted(set(found))


def _seconds(interval: "Interval | tuple[float, float]") -> tuple[float, float]:
    """An interval's ends in epoch seconds: schedule_inputs reads them so from the database."""
    if isinstance(interval, Interval):
        return interval.start.timestamp(), interval.end.timestamp()
    return interval


def _epoch(instant: datetime) -> int:
    return int(instant.timestamp())


def _seconds_of_day(wall_time: time) -> int | None:
    """A wall time as whole seconds after midnight; None when it has a fraction of a second."""
    if wall_time.microsecond:
        return None
    return wall_time.hour * 3600 + wall_time.minute * 60 + wall_time.second


class _RefusedStarts:
    """Open intervals of epoch seconds no start may fall in, merged and sorted."""

    def __init__(self, intervals: Iterable[tuple[float, float]]):
        merged: list[list[float]] = []
        for low, high in sorted(intervals):
            if merged and low < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        self._lows = [low for low, _ in merged]
        self._highs = [high for _, high in merged]

    def grid_outside(self, start: int, last: int, step: int) -> Iterable[int]:
        """start, start + step, ... up to last, without those inside an interval."""
        lows, highs = self._lows, self._highs
        index = bisect.bisect_right(highs, start)  # the first interval that ends after start
        while start <= last:
            if index < len(lows) and lows[index] < start:  # inside it: on past its end
                start += math.ceil((highs[index] - start) / step) * step
                index += 1
                while index < len(lows) and highs[index] <= start:
                    index += 1
                continue
            # Free up to the next interval's low end (itself free: the intervals are open).
            free_until = min(last, math.floor(lows[index])) if index < len(lows) else last
            yield from range(start, free_until + 1, step)
            start += ((free_until - start) // step + 1) * step


def one_start_each(starts: list[tuple[int, int]], preference: Sequence[int]) -> list[tuple[int, int]]:
    """For "any practitioner": one per start time of free_starts' answer (sorted by start), the
    first free practitioner in `preference`."""
    rank = {pid: position for position, pid in enumerate(preference)}
    chosen: list[tuple[int, int]] = []
    for start, pid in starts:
        if chosen and chosen[-1][0] == start:
            if rank[pid] < rank[chosen[-1][1]]:
                chosen[-1] = (start, pid)
        else:
            chosen.append((start, pid))
    return chosen


def bookable_practitioners(*, service: Service, location: Location, practitioner: Practitioner | None = None):
    """Active practitioners at the location qualified for the service, in the clinic's order."""
    queryset = Practitioner.objects.active().filter(locations=location, qualifications__service=service)
    if location.is_by_phone and not service.is_by_phone:
        # Whoever takes calls "by phone" may be qualified for treatments, but those need the patient in the room.
        queryset = queryset.none()
    if practitioner is not None:
        queryset = queryset.filter(pk=practitioner.pk)
    return queryset.distinct().order_by("display_order", "name", "pk")


@dataclass(frozen=True)
class ScheduleInputs:
    """What free_slots reads from the database for some practitioners at a location."""

    weekly_hours: list[WeeklyHours]
    # (practitioner id or None for the location, its start and end in epoch seconds)
    time_off: list[tuple[int | None, tuple[float, float]]]
    appointments: list[tuple[int, tuple[float, float]]]

    def free_slots_for(
        self, service: Service, *, first_day: date, last_day: date, zone: ZoneInfo, now: datetime, rules: BookingRules
    ) -> list[Slot]:
        starts = self.free_starts_for(service, first_day=first_day, last_day=last_day, zone=zone, now=now, rules=rules)
        return slots_of(starts, duration=timedelta(minutes=service.duration_minutes))

    def free_starts_for(
        self, service: Service, *, first_day: date, last_day: date, zone: ZoneInfo, now: datetime, rules: BookingRules
    ) -> list[tuple[int, int]]:
        return free_starts(
            duration=timedelta(minutes=service.duration_minutes),
            buffer_after=timedelta(minutes=service.buffer_after_minutes),
            weekly_hours=self.weekly_hours,
            time_off=self.time_off,
            appointments=self.appointments,
            first_day=first_day,
            last_day=last_day,
            zone=zone,
            now=now,
            rules=rules,
        )


def schedule_inputs(
    *,
    practitioner_ids: Sequence[int],
    location: Location,
    first_day: date,
    last_day: date,
    ignoring_appointment_id: int | None = None,
) -> ScheduleInputs:
    """The practitioners' hours at the location, their time off and the location's closures, and
    their live appointments anywhere, over the local days: one hand-written query (the ORM's
    three cost more to build than to run; tests/booking/test_available_slots.py holds it to them)."""
    zone = location.zone
    window_start = local_instant(first_day, time(0), zone)
    # Slots may run past midnight of the last day only by the service's length and buffer.
    window_end = local_instant(last_day + timedelta(days=1), time(0), zone) + timedelta(days=1)
    with connection.cursor() as cursor:
        _SCHEDULE_INPUTS.execute(
            cursor,
            {
                "ids": list(practitioner_ids),
                "location": location.pk,
                "first_day": first_day,
                "last_day": last_day,
                "window_start": window_start,
                "window_end": window_end,
                "live": list(Appointment.LIVE_STATUSES),
                "ignoring": ignoring_appointment_id,
            },
        )
        rows = cursor.fetchall()
    weekly_hours, time_off, appointments = [], [], []
    for kind, practitioner_id, weekday, start_time, end_time, effective_from, effective_to, start, end in rows:
        if kind == "h":
            hours = WeeklyHours(practitioner_id, weekday, start_time, end_time, effective_from, effective_to)
            weekly_hours.append(hours)
        elif kind == "o":  # the stretches as epoch seconds: the engine reads nothing else of them
            time_off.append((practitioner_id, (start, end)))
        else:
            appointments.append((practitioner_id, (start, end)))
    return ScheduleInputs(weekly_hours=weekly_hours, time_off=time_off, appointments=appointments)


_SCHEDULE_INPUTS_SQL = """
    SELECT 'h', practitioner_id, weekday, start_time, end_time, effective_from, effective_to,
           NULL::float8, NULL::float8
    FROM booking_workinghours
    WHERE practitioner_id = ANY(%(ids)s) AND location_id = %(location)s
      AND (effective_from IS NULL OR effective_from <= %(last_day)s)
      AND (effective_to IS NULL OR effective_to >= %(first_day)s)
    UNION ALL
    SELECT 'o', practitioner_id, NULL, NULL, NULL, NULL, NULL,
           extract(epoch FROM start)::float8, extract(epoch FROM "end")::float8
    FROM booking_timeoff
    WHERE (practitioner_id = ANY(%(ids)s) OR (location_id = %(location)s AND practitioner_id IS NULL))
      AND start < %(window_end)s AND "end" > %(window_start)s
    UNION ALL
    SELECT 'a', practitioner_id, NULL, NULL, NULL, NULL, NULL,
           extract(epoch FROM start)::float8, extract(epoch FROM blocked_until)::float8
    FROM booking_appointment
    WHERE status = ANY(%(live)s) AND practitioner_id = ANY(%(ids)s) AND id IS DISTINCT FROM %(ignoring)s
      AND start < %(window_end)s AND blocked_until > %(window_start)s
"""
_SCHEDULE_INPUTS = PreparedStatement("clinic_schedule_inputs", _SCHEDULE_INPUTS_SQL)


def available_slots(
    *,
    service: Service,
    location: Location,
    practitioner: Practitioner | None,
    first_day: date,
    last_day: date,
    now: datetime | None = None,
    practitioner_ids: Sequence[int] | None = None,
    ignoring_appointment_id: int | None = None,
    rules: BookingRules | None = None,
) -> list[Slot]:
    """Free slots for a service at a location, for one practitioner or anyone qualified.

    With practitioner=None ("anyone") there is one slot per start time. Days are the
    location's local dates, both inclusive, at most MAX_WINDOW_DAYS. Two queries; one
    when `practitioner_ids` is given (book_appointment passes the ids it has locked).
    `ignoring_appointment_id`: an appointment being moved does not block its own new time.
    `rules`: the patients' (from settings) unless staff book (BookingRules.for_staff()).
    """
    if practitioner_ids is None:
        practitioner_ids = list(
            bookable_practitioners(service=service, location=location, practitioner=practitioner).values_list(
                "pk", flat=True
            )
        )
    starts = available_starts(
        service=service,
        location=location,
        practitioner_ids=practitioner_ids,
        one_each=practitioner is not None,
        first_day=first_day,
        last_day=last_day,
        now=now,
        ignoring_appointment_id=ignoring_appointment_id,
        rules=rules,
    )
    return slots_of(starts, duration=timedelta(minutes=service.duration_minutes))


def available_starts(
    *,
    service: Service,
    location: Location,
    practitioner_ids: Sequence[int],
    one_each: bool,
    first_day: date,
    last_day: date,
    now: datetime | None = None,
    ignoring_appointment_id: int | None = None,
    rules: BookingRules | None = None,
) -> list[tuple[int, int]]:
    """available_slots' answer as (start in epoch seconds, practitioner id), in one query:
    every practitioner's free starts (one_each), else one per start time, the first free in
    the order of `practitioner_ids`."""
    if last_day < first_day or (last_day - first_day).days >= MAX_WINDOW_DAYS:
        raise ValueError(f"The window must be 1 to {MAX_WINDOW_DAYS} days.")
    if not practitioner_ids:
        return []
    inputs = schedule_inputs(
        practitioner_ids=practitioner_ids,
        location=location,
        first_day=first_day,
        last_day=last_day,
        ignoring_appointment_id=ignoring_appointment_id,
    )
    starts = inputs.free_starts_for(
        service,
        first_day=first_day,
        last_day=last_day,
        zone=location.zone,
        now=now or timezone.now(),
        rules=rules or BookingRules.from_settings(),
    )
    return starts if one_each else one_start_each(starts, preference=practitioner_ids)


def slot_at(
    start: datetime,
    *,
    service: Service,
    location: Location,
    practitioner_ids: Sequence[int],
    now: datetime,
    ignoring_appointment_id: int | None = None,
    rules: BookingRules | None = None,
) -> Slot | None:
    """The slot starting exactly at `start` with the first free of `practitioner_ids` (in that
    order), or None. The booking services ask this inside their locks."""
    local_day = timezone.localtime(start, location.zone).date()
    for slot in available_slots(
        service=service,
        location=location,
        practitioner=None,  # one slot per start: the first free in the given order
        first_day=local_day,
        last_day=local_day,
        now=now,
        practitioner_ids=practitioner_ids,
        ignoring_appointment_id=ignoring_appointment_id,
        rules=rules,
    ):
        if slot.start == start:
            return slot
    return None


# Cached answers --------------------------------------------------------------------------
#
# Availability is read far more often than the schedule changes. Answers are cached under
# the schedule version, a sequence that triggers on every table the engine reads bump
# (migration booking 0006), so any write by anyone invalidates every cached answer. The
# bump happens when the writing statement runs, slightly before its transaction commits:
# a reader in that instant can cache the old picture under the new version, so answers
# also expire after AVAILABILITY_CACHE_SECONDS. A stale answer costs at most a 409 at
# booking time: book_appointment re-checks the time under its locks and never trusts it.

AVAILABILITY_CACHE_SECONDS = 10


def cached_answer_key(version: int, *parts) -> str:
    return "availability:" + hashlib.sha256(repr((version, *parts)).encode()).hexdigest()


def pack_answer(zone_name: str, rows: Sequence[tuple[float, bytes]]) -> dict:
    """A computed answer in the shape that is cheapest to cache and to serve again:
    the slots' JSON joined once, with each slot's start and byte offset as flat arrays
    (they pickle as raw bytes, not one object per slot)."""
    starts, encoded = [start for start, _ in rows], [slot for _, slot in rows]
    offsets = array("q", itertools.accumulate((len(slot) + len(SLOT_SEPARATOR) for slot in encoded), initial=0))
    offsets.pop()  # the position after the last slot
    return {
        "timezone": zone_name,
        "starts": array("d", starts),
        "offsets": offsets,
        "encoded": SLOT_SEPARATOR.join(encoded),
    }


SLOT_SEPARATOR = b", "


def still_bookable(answer: dict, now: datetime) -> bytes:
    """The encoded slots of a cached answer that are still past the minimum notice.
    Slots are sorted by start, so the ones time has overtaken are a prefix."""
    earliest = (now + BookingRules.from_settings().min_notice).timestamp()
    index = bisect.bisect_left(answer["starts"], earliest)
    if index >= len(answer["starts"]):
        return b""
    return answer["encoded"][answer["offsets"][index] :]

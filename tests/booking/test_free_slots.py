"""The availability engine as a pure function: examples, DST edges and properties."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.availability import BookingRules, Interval, Slot, StartRefusal, WeeklyHours, free_slots, one_start_each

NEW_YORK = ZoneInfo("America/New_York")
EDMONTON = ZoneInfo("America/Edmonton")
KOLKATA = ZoneInfo("Asia/Kolkata")
RULES = BookingRules(min_notice=timedelta(hours=2), horizon=timedelta(days=60), step=timedelta(minutes=15))
MONDAY = date(2026, 6, 1)
HOUR = timedelta(hours=1)
MONDAY_MORNING = (WeeklyHours(1, 0, time(9), time(12)),)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def slots(
    *,
    hours=MONDAY_MORNING,
    duration=HOUR,
    buffer_after=timedelta(minutes=15),
    time_off=(),
    appointments=(),
    first_day=MONDAY,
    last_day=MONDAY,
    zone=NEW_YORK,
    now=None,
    rules=RULES,
):
    # By default "now" is a week before the window: no notice limit, well inside the horizon.
    now = now or datetime.combine(first_day - timedelta(days=7), time(0), tzinfo=UTC)
    return free_slots(
        duration=duration,
        buffer_after=buffer_after,
        weekly_hours=list(hours),
        time_off=list(time_off),
        appointments=list(appointments),
        first_day=first_day,
        last_day=last_day,
        zone=zone,
        now=now,
        rules=rules,
    )


def local_starts(found, zone=NEW_YORK):
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in found]


def test_an_empty_morning_offers_every_quarter_hour_that_fits():
    assert local_starts(slots()) == [
        "09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45", "11:00",
    ]  # fmt: skip


def test_slots_are_utc_and_end_after_the_service_length():
    first = slots()[0]
    assert first == Slot(start=datetime(2026, 6, 1, 13, 0, tzinfo=UTC), end=datetime(2026, 6, 1, 14, 0, tzinfo=UTC),
                         practitioner_id=1)  # fmt: skip


def test_an_appointment_and_its_buffer_block_the_time_around_it():
    booked = (1, Interval(at(MONDAY, 9), at(MONDAY, 10, 15)))  # 09:00-10:00 plus 15 min buffer
    assert local_starts(slots(appointments=[booked])) == ["10:15", "10:30", "10:45", "11:00"]


def test_the_new_appointments_own_buffer_must_not_run_into_the_next_one():
    booked = (1, Interval(at(MONDAY, 11), at(MONDAY, 12)))
    # 09:45 would end at 10:45 and its buffer at 11:00: just fits.
    assert local_starts(slots(appointments=[booked])) == ["09:00", "09:15", "09:30", "09:45"]


def test_another_practitioners_appointment_does_not_block():
    assert len(slots(appointments=[(2, Interval(at(MONDAY, 9), at(MONDAY, 12)))])) == 9


def test_time_off_blocks_the_appointment_but_not_its_buffer():
    lunch = (1, Interval(at(MONDAY, 11), at(MONDAY, 12)))
    assert local_starts(slots(time_off=[lunch])) == ["09:00", "09:15", "09:30", "09:45", "10:00"]


def test_a_closed_location_blocks_everyone():
    closed = (None, Interval(at(MONDAY, 0), at(MONDAY, 23)))
    both = (WeeklyHours(1, 0, time(9), time(12)), WeeklyHours(2, 0, time(9), time(12)))
    assert slots(hours=both, time_off=[closed]) == []


def test_minimum_notice_and_horizon():
    now = at(MONDAY, 8, 10)  # notice of 2 h: the first start is 10:10, on the grid 10:15
    assert local_starts(slots(now=now)) == ["10:15", "10:30", "10:45", "11:00"]
    far = MONDAY + timedelta(days=63)
    assert slots(first_day=far, last_day=far, hours=[WeeklyHours(1, far.weekday(), time(9), time(12))],
                 now=at(MONDAY, 9)) == []  # fmt: skip


def test_hours_apply_only_on_their_weekday_and_effective_dates():
    hours = [WeeklyHours(1, 0, time(9), time(10), effective_from=MONDAY + timedelta(days=7))]
    assert slots(hours=hours, last_day=MONDAY + timedelta(days=13)) == slots(
        hours=hours, first_day=MONDAY + timedelta(days=7), last_day=MONDAY + timedelta(days=7)
    )
    assert len(slots(hours=hours, last_day=MONDAY + timedelta(days=13))) == 1
    ended = [WeeklyHours(1, 0, time(9), time(10), effective_to=MONDAY - timedelta(days=1))]
    assert slots(hours=ended) == []


def test_opening_off_the_grid_starts_at_the_next_step():
    assert local_starts(slots(hours=[WeeklyHours(1, 0, time(9, 5), time(11))])) == ["09:15", "09:30", "09:45", "10:00"]


def test_several_ranges_a_day():
    split = [WeeklyHours(1, 0, time(9), time(10)), WeeklyHours(1, 0, time(14), time(15, 30))]
    assert local_starts(slots(hours=split)) == ["09:00", "14:00", "14:15", "14:30"]


def test_any_practitioner_gives_one_slot_per_start_in_the_clinics_order():
    both = (WeeklyHours(1, 0, time(9), time(10)), WeeklyHours(2, 0, time(9), time(10, 30)))
    found = slots(hours=both)
    starts = [(int(slot.start.timestamp()), slot.practitioner_id) for slot in found]
    assert [pid for _, pid in one_start_each(starts, preference=[2, 1])] == [2, 2, 2]
    assert [pid for _, pid in one_start_each(starts, preference=[1, 2])] == [1, 2, 2]


# --- DST ---------------------------------------------------------------------------------


def _week_of_nine_to_fives(zone, first_day):
    hours = [WeeklyHours(1, weekday, time(9), time(17)) for weekday in range(7)]
    return slots(hours=hours, first_day=first_day, last_day=first_day + timedelta(days=6), zone=zone,
                 duration=timedelta(minutes=45), buffer_after=timedelta(0))  # fmt: skip


def test_spring_forward_week_keeps_local_opening_hours_new_york():
    # DST starts Sunday 2026-03-08 in the US: 09:00 local is 14:00 UTC before, 13:00 UTC after.
    found = _week_of_nine_to_fives(NEW_YORK, date(2026, 3, 5))
    first_each_day = {}
    for slot in found:
        first_each_day.setdefault(slot.start.astimezone(NEW_YORK).date(), slot)
    assert [s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in first_each_day.values()] == ["09:00"] * 7
    assert first_each_day[date(2026, 3, 7)].start.hour == 14
    assert first_each_day[date(2026, 3, 9)].start.hour == 13
    assert {s.start.astimezone(NEW_YORK).strftime("%H:%M") for s in found} >= {"09:00", "16:15"}
    assert all(s.start.astimezone(NEW_YORK).time() <= time(16, 15) for s in found)
    assert len(found) == 7 * 30  # (8 h - 45 min) / 15 min + 1 per day, every day


def test_fall_back_week_keeps_local_opening_hours_edmonton():
    # DST ends Sunday 2026-11-01 in Canada: 09:00 local is 15:00 UTC before, 16:00 UTC after.
    found = _week_of_nine_to_fives(EDMONTON, date(2026, 10, 29))
    by_day = {}
    for slot in found:
        by_day.setdefault(slot.start.astimezone(EDMONTON).date(), []).append(slot)
    assert by_day[date(2026, 10, 31)][0].start.hour == 15
    assert by_day[date(2026, 11, 2)][0].start.hour == 16
    assert all(len(day) == 30 for day in by_day.values())


def test_a_night_range_across_the_spring_gap_is_an_hour_shorter():
    sunday = date(2026, 3, 8)
    found = slots(hours=[WeeklyHours(1, 6, time(0), time(4))], first_day=sunday, last_day=sunday,
                  buffer_after=timedelta(0))  # fmt: skip
    # 00:00-04:00 local is 3 real hours: (180 - 60) / 15 + 1 starts, none at a local time that does not exist.
    assert len(found) == 9
    assert "02:15" not in local_starts(found)
    assert all(b.start - a.start == timedelta(minutes=15) for a, b in itertools.pairwise(found))


def test_a_night_range_across_the_autumn_overlap_is_an_hour_longer():
    sunday = date(2026, 11, 1)
    found = slots(hours=[WeeklyHours(1, 6, time(0), time(4))], first_day=sunday, last_day=sunday,
                  buffer_after=timedelta(0))  # fmt: skip
    assert len(found) == 17  # 5 real hours
    assert local_starts(found).count("01:15") == 2  # 01:15 EDT and 01:15 EST are different instants
    assert len({slot.start for slot in found}) == 17


def test_a_zone_without_dst_and_a_half_hour_offset():
    found = slots(zone=KOLKATA)
    assert found[0].start == datetime(2026, 6, 1, 3, 30, tzinfo=UTC)


# --- properties --------------------------------------------------------------------------

BASE_DAY = date(2026, 10, 26)  # a week that contains the end of DST in North America
# Havana turns its clocks back at 01:00 to midnight on 1 November 2026, so that a local day
# starts twice; Kathmandu is 5:45 ahead of UTC.
ZONES = [NEW_YORK, EDMONTON, KOLKATA, ZoneInfo("US/Pacific"), ZoneInfo("America/Havana"), ZoneInfo("Asia/Kathmandu")]

quarter_hours = st.integers(min_value=0, max_value=24 * 4 - 1)


@st.composite
def weekly_hours(draw):
    rows = []
    for pid in (1, 2):
        for _ in range(draw(st.integers(0, 5))):
            start = draw(st.integers(0, 22 * 4))
            length = draw(st.integers(1, 10 * 4))
            end = min(start + length, 24 * 4 - 1)
            opening = time(start // 4, start % 4 * 15 + draw(st.sampled_from([0, 5])))
            rows.append(WeeklyHours(pid, draw(st.integers(0, 6)), opening, time(end // 4, end % 4 * 15)))
    return [row for row in rows if row.start_time < row.end_time]


@st.composite
def intervals(draw):
    start = datetime.combine(BASE_DAY, time(0), tzinfo=UTC) + timedelta(minutes=5 * draw(st.integers(0, 9 * 24 * 12)))
    return Interval(start, start + timedelta(minutes=5 * draw(st.integers(1, 48))))


@settings(max_examples=150, deadline=None)
@given(
    hours=weekly_hours(),
    appointments=st.lists(st.tuples(st.sampled_from([1, 2]), intervals()), max_size=12),
    time_off=st.lists(st.tuples(st.sampled_from([1, 2, None]), intervals()), max_size=4),
    zone=st.sampled_from(ZONES),
    duration_minutes=st.sampled_from([15, 30, 45, 60, 75]),
    buffer_minutes=st.sampled_from([0, 10, 15]),
    now_offset_hours=st.integers(-48, 96),
)
def test_no_offered_slot_leaves_working_hours_or_touches_a_booking(
    hours, appointments, time_off, zone, duration_minutes, buffer_minutes, now_offset_hours
):
    duration, buffer_after = timedelta(minutes=duration_minutes), timedelta(minutes=buffer_minutes)
    now = datetime.combine(BASE_DAY, time(12), tzinfo=UTC) + timedelta(hours=now_offset_hours)
    last_day = BASE_DAY + timedelta(days=6)
    found = slots(hours=hours, appointments=appointments, time_off=time_off, zone=zone, duration=duration,
                  buffer_after=buffer_after, first_day=BASE_DAY, last_day=last_day, now=now)  # fmt: skip
    for slot in found:
        assert slot.end - slot.start == duration
        assert now + RULES.min_notice <= slot.start <= now + RULES.horizon
        local_day = slot.start.astimezone(zone).date()
        assert BASE_DAY <= local_day <= last_day
        assert any(
            row.practitioner_id == slot.practitioner_id
            and row.applies_on(local_day)
            and datetime.combine(local_day, row.start_time, tzinfo=zone).astimezone(UTC) <= slot.start
            and slot.end <= datetime.combine(local_day, row.end_time, tzinfo=zone).astimezone(UTC)
            for row in hours
        ), "slot outside working hours"
        for pid, booked in appointments:
            if pid == slot.practitioner_id:
                assert slot.end + buffer_after <= booked.start or booked.end <= slot.start, "overlaps a booking"
        for pid, away in time_off:
            if pid in (None, slot.practitioner_id):
                assert slot.end <= away.start or away.end <= slot.start, "overlaps time off"
        assert slot.start.astimezone(zone).minute % 15 == 0, "off the grid"
    assert len(found) == len(set(found))
    assert found == sorted(found, key=lambda s: (s.start, s.practitioner_id))


@settings(max_examples=100, deadline=None)
@given(hours=weekly_hours(), appointments=st.lists(st.tuples(st.sampled_from([1, 2]), intervals()), max_size=8),
       zone=st.sampled_from(ZONES))  # fmt: skip
def test_every_free_grid_time_inside_working_hours_is_offered(hours, appointments, zone):
    """Completeness, by brute force: walk every 15-minute local time of the week."""
    duration, buffer_after = timedelta(minutes=45), timedelta(minutes=15)
    found = set(slots(hours=hours, appointments=appointments, zone=zone, duration=duration, buffer_after=buffer_after,
                      first_day=BASE_DAY, last_day=BASE_DAY + timedelta(days=6)))  # fmt: skip
    start = datetime.combine(BASE_DAY, time(0), tzinfo=zone).astimezone(UTC)
    stop = datetime.combine(BASE_DAY + timedelta(days=7), time(0), tzinfo=zone).astimezone(UTC)
    while start < stop:
        local = start.astimezone(zone)
        for pid in (1, 2):
            inside = any(
                row.practitioner_id == pid
                and row.applies_on(local.date())
                and datetime.combine(local.date(), row.start_time, tzinfo=zone).astimezone(UTC) <= start
                and start + duration <= datetime.combine(local.date(), row.end_time, tzinfo=zone).astimezone(UTC)
                for row in hours
            )
            clear = all(
                start + duration + buffer_after <= booked.start or booked.end <= start
                for owner, booked in appointments
                if owner == pid
            )
            expected = inside and clear and local.minute % 15 == 0
            assert (Slot(start, start + duration, pid) in found) == expected, (local, pid)
        start += timedelta(minutes=15)


# --- The one judgement of a start (BookingRules.refusal), as the API asks it ---------------


def test_each_reason_a_start_is_refused():
    now = at(MONDAY, 8, 10)  # notice of 2 h: 10:10 is the earliest
    judge = lambda start: RULES.refusal(start, now=now, zone=NEW_YORK)  # noqa: E731
    assert judge(at(MONDAY, 8)) is StartRefusal.PASSED
    assert judge(at(MONDAY, 10)) is StartRefusal.TOO_SOON
    assert judge(at(MONDAY, 10, 15)) is None
    assert judge(at(MONDAY, 10, 20)) is StartRefusal.OFF_GRID
    assert judge(at(MONDAY, 10, 15) + timedelta(seconds=1)) is StartRefusal.OFF_GRID
    assert judge(now + timedelta(days=60, minutes=5)) is StartRefusal.TOO_FAR


def test_the_grid_is_the_locations_clock_on_a_fall_back_night_and_at_a_half_hour_offset():
    night = date(2026, 11, 1)  # New York falls back at 02:00 EDT to 01:00 EST
    now = at(night - timedelta(days=1), 0)
    second_one_oclock = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert second_one_oclock.astimezone(NEW_YORK).strftime("%H:%M %Z") == "01:00 EST"
    assert RULES.refusal(second_one_oclock, now=now, zone=NEW_YORK) is None
    assert RULES.refusal(second_one_oclock + timedelta(minutes=15), now=now, zone=NEW_YORK) is None
    # 10:00 in Kolkata is 04:30 UTC: on the grid there, off it on a whole-hour clock.
    kolkata_ten = datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    assert RULES.refusal(kolkata_ten, now=now, zone=KOLKATA) is None
    assert RULES.refusal(kolkata_ten + timedelta(minutes=5), now=now, zone=KOLKATA) is StartRefusal.OFF_GRID


def test_staff_may_book_from_the_grid_time_now_falls_in():
    staff = BookingRules(
        min_notice=timedelta(0), horizon=timedelta(days=365), step=timedelta(minutes=15), from_current_grid_time=True
    )
    now = at(MONDAY, 12, 37)
    assert staff.refusal(at(MONDAY, 12, 30), now=now, zone=NEW_YORK) is None
    assert staff.refusal(at(MONDAY, 12, 15), now=now, zone=NEW_YORK) is StartRefusal.PASSED
    # A page drawn a while ago reaches the booking services a day either side of the rules.
    assert staff.within_reach(at(MONDAY, 12, 37) - timedelta(hours=23), now=now)
    assert not RULES.within_reach(at(MONDAY, 12), now=now)


@settings(max_examples=60, deadline=None)
@given(hours=weekly_hours(), zone=st.sampled_from(ZONES), minutes_before=st.integers(0, 7 * 24 * 60))
def test_every_start_the_engine_offers_is_one_the_rules_accept(hours, zone, minutes_before):
    now = datetime.combine(BASE_DAY, time(0), tzinfo=UTC) - timedelta(minutes=minutes_before)
    found = slots(hours=hours, zone=zone, first_day=BASE_DAY, last_day=BASE_DAY + timedelta(days=6), now=now)
    assert all(RULES.refusal(slot.start, now=now, zone=zone) is None for slot in found)

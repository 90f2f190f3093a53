"""Free starts computed in PostgreSQL (generate_series over the working hours, an anti-join on
the exclusion constraint's GiST index), against the Python engine, on the same inputs:

    DATABASE_URL=... python scripts/compare_sql_engine.py LOCATION SERVICE DAYS

Checks both give the same starts, then prints PostgreSQL's execution time (EXPLAIN ANALYZE) and
wall time per answer, and the Python engine's CPU per answer (its one inputs query runs in the
server, not counted). Issue 18 asked for both to be measured; docs/PERFORMANCE.md quotes them.
The SQL assumes working hours that open on the grid (the seeds' do).
"""

import sys
import time
from datetime import timedelta

from in_process import setup_production_like

setup_production_like()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from booking.availability import BookingRules, available_starts  # noqa: E402
from clinic.models import Location, Practitioner, Service  # noqa: E402

FREE_STARTS_SQL = """
WITH hours AS (
  SELECT wh.practitioner_id, ((d::date + wh.start_time) AT TIME ZONE %(tz)s) AS open_at,
         ((d::date + wh.end_time) AT TIME ZONE %(tz)s) AS close_at
  FROM booking_workinghours AS wh, generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d
  WHERE wh.practitioner_id = ANY(%(ids)s) AND wh.location_id = %(location)s
    AND wh.weekday = extract(isodow FROM d)::int - 1
    AND (wh.effective_from IS NULL OR wh.effective_from <= d::date)
    AND (wh.effective_to IS NULL OR wh.effective_to >= d::date)
), candidates AS (
  SELECT h.practitioner_id, s AS start
  FROM hours AS h, generate_series(h.open_at, h.close_at - %(length)s, %(step)s) AS s
  WHERE s >= %(earliest)s AND s <= %(latest)s
)
SELECT c.start, c.practitioner_id FROM candidates AS c
WHERE NOT EXISTS (
    SELECT 1 FROM booking_appointment AS a
    WHERE a.practitioner_id = c.practitioner_id AND a.status IN ('confirmed', 'arrived', 'completed')
      AND tstzrange(a.start, a.blocked_until, '[)') && tstzrange(c.start, c.start + %(blocked)s, '[)'))
  AND NOT EXISTS (
    SELECT 1 FROM booking_timeoff AS t
    WHERE (t.practitioner_id = c.practitioner_id OR (t.location_id = %(location)s AND t.practitioner_id IS NULL))
      AND t.start < c.start + %(length)s AND t."end" > c.start)
ORDER BY c.start, c.practitioner_id
"""


def main(location_slug: str, service_slug: str, days: int) -> None:
    location, service = Location.objects.get(slug=location_slug), Service.objects.get(slug=service_slug)
    team = Practitioner.objects.filter(locations=location, qualifications__service=service)
    ids = list(team.order_by("display_order", "name", "pk").values_list("pk", flat=True))
    rules, now = BookingRules.from_settings(), timezone.now()
    first = timezone.localdate(now, location.zone) + timedelta(days=3)
    last = first + timedelta(days=days - 1)
    params = {
        "tz": location.timezone,
        "first": first,
        "last": last,
        "ids": ids,
        "location": location.pk,
        "length": timedelta(minutes=service.duration_minutes),
        "step": rules.step,
        "blocked": timedelta(minutes=service.duration_minutes + service.buffer_after_minutes),
        "earliest": rules.earliest_start(now, location.zone),
        "latest": rules.latest_start(now),
    }
    with connection.cursor() as cursor:
        cursor.execute(FREE_STARTS_SQL, params)
        in_sql = [(int(start.timestamp()), pid) for start, pid in cursor.fetchall()]
        for _ in range(3):
            cursor.execute("EXPLAIN (ANALYZE, SUMMARY) " + FREE_STARTS_SQL, params)
            summary = [line for (line,) in cursor.fetchall()][-2:]
        began = time.perf_counter()
        for _ in range(50):
            cursor.execute(FREE_STARTS_SQL, params)
            cursor.fetchall()
        wall = (time.perf_counter() - began) / 50
    print(f"{location.name}, {service.name}, {days} days, {len(ids)} practitioners")
    print(f"PostgreSQL: {' '.join(summary)}; {wall * 1000:.2f} ms per answer (wall, one connection)")

    def engine() -> list[tuple[int, int]]:
        return available_starts(
            service=service,
            location=location,
            practitioner_ids=ids,
            one_each=True,
            first_day=first,
            last_day=last,
            now=now,
        )

    in_python = engine()
    began = time.process_time()
    for _ in range(50):
        engine()
    cpu = (time.process_time() - began) / 50
    print(f"Python engine: {cpu * 1000:.2f} ms CPU per answer; same starts: {in_sql == in_python} ({len(in_python)})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))

"""scripts/bench.py (`make bench`) end to end, briefly: it seeds on top of the demo clinic
(whose practitioners also take 08:30 phone calls) and every phase answers as expected."""

import re


def test_a_short_run_seeds_books_and_finds_no_double_booking(run_on_own_database):
    run = run_on_own_database("bench", ["--duration", "1", "--clients", "4", "--hot-slots", "2"], timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"Existing bookings: \d+ live", run.stdout)
    booked = re.search(r"bookings \(distinct free slots\).*201×(\d+), 409×(\d+)", run.stdout)
    assert booked and int(booked[1]) > 0
    assert "race (4 clients × 2 hot slots)" in run.stdout
    # The front desk's calendar of a booked day with four practitioners, and its idle poll.
    assert re.search(r"day calendar, \d+ days .* 4 columns, \d+ blocks", run.stdout), run.stdout[-3000:]
    assert re.search(r"calendar poll, unchanged +\d+", run.stdout)
    assert "Double bookings (SQL: overlapping live appointments of one practitioner): 0" in run.stdout

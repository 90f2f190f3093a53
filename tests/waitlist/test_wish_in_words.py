"""A waiting-list place read back as a person would write it."""

from datetime import date

import pytest

from waitlist.models import WaitlistEntry


@pytest.mark.parametrize(
    ("first", "last", "words"),
    [
        (date(2026, 12, 2), date(2026, 12, 2), "on Wednesday 2 December"),
        (date(2026, 12, 2), date(2026, 12, 9), "Wednesday 2 December to Wednesday 9 December 2026"),
        (date(2026, 12, 28), date(2027, 1, 4), "Monday 28 December 2026 to Monday 4 January 2027"),
    ],
)
def test_days(first, last, words):
    assert WaitlistEntry(first_day=first, last_day=last).days_in_words == words


@pytest.mark.parametrize(
    ("times", "words"),
    [
        ({"mornings": True}, "mornings"),
        ({"mornings": True, "afternoons": True}, "mornings or afternoons"),
        ({"afternoons": True, "evenings": True}, "afternoons or evenings"),
        ({"mornings": True, "afternoons": True, "evenings": True}, "any time of day"),
    ],
)
def test_times(times, words):
    entry = WaitlistEntry(**{"mornings": False, "afternoons": False, "evenings": False, **times})
    assert entry.times_in_words == words

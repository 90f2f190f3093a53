"""scripts/loadtest.py: how a 409 is judged, and a short run end to end."""

import re
from datetime import UTC, datetime, timedelta

import pytest

TEN = datetime(2030, 3, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def loadtest(load_script):
    return load_script("loadtest")


def refusal(loadtest, *, sent: datetime, start=TEN, blocks=timedelta(minutes=45), code="slot_unavailable"):
    received = sent + timedelta(milliseconds=80)
    return loadtest.Refusal("book", code, "maya-lindqvist", start, blocks, sent.timestamp(), received.timestamp())


def version(loadtest, *, start, minutes=45, valid_from, valid_to=None, live=True, appointment_id=1):
    return loadtest.Version(appointment_id, start, start + timedelta(minutes=minutes), live, valid_from, valid_to)


def test_a_409_is_right_when_a_live_appointment_overlapped_while_it_was_under_way(loadtest):
    sent = datetime(2030, 3, 1, 9, 0, 0, tzinfo=UTC)
    booked_just_before = version(loadtest, start=TEN + timedelta(minutes=30), valid_from=sent - timedelta(seconds=2))
    assert loadtest.taken_then(refusal(loadtest, sent=sent), [booked_just_before], own_id=None)


@pytest.mark.parametrize(
    "why",
    ["no overlap", "not live", "booked after the answer", "cancelled long before", "the moved appointment itself"],
)
def test_a_409_is_wrong_without_such_an_appointment(loadtest, why):
    sent = datetime(2030, 3, 1, 9, 0, 0, tzinfo=UTC)
    earlier = sent - timedelta(minutes=5)
    versions = {
        "no overlap": version(loadtest, start=TEN + timedelta(minutes=45), valid_from=earlier),  # starts at our end
        "not live": version(loadtest, start=TEN, valid_from=earlier, live=False),
        "booked after the answer": version(loadtest, start=TEN, valid_from=sent + timedelta(seconds=1)),
        "cancelled long before": version(loadtest, start=TEN, valid_from=earlier, valid_to=sent - timedelta(seconds=5)),
        "the moved appointment itself": version(loadtest, start=TEN, valid_from=earlier, appointment_id=7),
    }
    assert not loadtest.taken_then(refusal(loadtest, sent=sent), [versions[why]], own_id=7)


def test_a_change_stamped_just_before_the_request_still_counts_as_not_yet_committed(loadtest):
    """History is stamped before its transaction commits: within COMMIT_SLACK it may not be seen yet."""
    sent = datetime(2030, 3, 1, 9, 0, 0, tzinfo=UTC)
    cancelled_in_flight = version(
        loadtest, start=TEN, valid_from=sent - timedelta(minutes=5), valid_to=sent - timedelta(milliseconds=300)
    )
    assert loadtest.taken_then(refusal(loadtest, sent=sent), [cancelled_in_flight], own_id=None)


def test_a_short_run_with_the_database_stopped_in_the_middle_passes_its_checks(run_on_own_database):
    """10 s, 4 clients, against make serve's gunicorn and worker on a throwaway cluster that is
    stopped for 3 s in the middle: 503s while it is down, every other check as without it,
    and the confirmations delivered."""
    run = run_on_own_database("loadtest", ["--duration", "10", "--clients", "4", "--outage", "3"], timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    checks = [line for line in run.stdout.splitlines() if line.startswith(("ok ", "FAILED"))]
    assert len(checks) == 13 and all(line.startswith("ok ") for line in checks), checks
    outage = next(line for line in checks if "database stopped" in line)
    assert re.search(r"503 answered [1-9]\d* times", outage), outage
    table = run.stdout.split("statuses\n", 1)[1]
    for kind in ("page", "static file", "day picker", "availability", "book", "discovery call", "all"):
        assert f"\n{kind} " in f"\n{table}"
    assert "201 201 201 201 201 429 429 429" in run.stdout

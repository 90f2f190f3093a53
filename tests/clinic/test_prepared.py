"""clinic/prepared.py: PREPAREd once per database connection, EXECUTEd after; plain SQL when
DB_PREPARED_STATEMENTS is off (behind a pooler in transaction mode). The availability
lookups answer the same either way."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.availability import schedule_inputs
from booking.selectors import availability_request
from clinic.prepared import PreparedStatement

pytestmark = pytest.mark.django_db(transaction=True)

SUM = PreparedStatement("clinic_test_sum", "SELECT %(a)s::int + %(b)s::int, %(a)s::int")


def _prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {name for (name,) in cursor.fetchall()}


def _run(statement, **params):
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        statement.execute(cursor, params)
        row = cursor.fetchone()
    return row, [query["sql"].split()[0] for query in queries]


def test_prepared_once_per_connection_then_executed():
    assert _run(SUM, a=2, b=3) == ((5, 2), ["EXECUTE"])
    assert "clinic_test_sum" in _prepared_here()
    assert _run(SUM, a=7, b=1) == ((8, 7), ["EXECUTE"])
    connection.close()  # a new connection knows no statement: prepared again
    assert "clinic_test_sum" not in _prepared_here()
    assert _run(SUM, a=1, b=1) == ((2, 1), ["EXECUTE"])
    assert "clinic_test_sum" in _prepared_here()


def test_plain_sql_when_switched_off(settings):
    settings.DB_PREPARED_STATEMENTS = False
    plain = PreparedStatement("clinic_test_plain", "SELECT %(a)s::int * 2")
    assert _run(plain, a=21) == ((42,), ["SELECT"])
    assert "clinic_test_plain" not in _prepared_here()


@pytest.mark.parametrize("wanted", ["any", "maya-lindqvist", "nobody"])
def test_the_availability_lookups_answer_the_same_prepared_or_not(
    settings, dry_needling, westerville, physio, open_all_week, booking_day, wanted
):
    def lookups():
        asked = availability_request(
            service_slug=dry_needling.slug, location_slug=westerville.slug, practitioner_slug=wanted
        )
        inputs = schedule_inputs(
            practitioner_ids=asked.practitioner_ids or [physio.pk],
            location=westerville,
            first_day=booking_day,
            last_day=booking_day + timedelta(days=6),
        )
        return asked, inputs

    settings.DB_PREPARED_STATEMENTS = True
    prepared = lookups()
    settings.DB_PREPARED_STATEMENTS = False
    assert lookups() == prepared
    assert prepared[1].weekly_hours

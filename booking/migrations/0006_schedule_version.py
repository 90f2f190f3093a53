"""A schedule version that every write to what availability depends on bumps, by trigger.

Cached availability answers are keyed by it (booking/availability.py), so no writer,
ORM, admin, raw SQL or a future app, can leave a stale answer behind by forgetting to
invalidate. The triggers are per statement, so a bulk write bumps it once.
"""

from django.db import migrations

TABLES = [
    "booking_appointment",
    "booking_workinghours",
    "booking_timeoff",
    "clinic_practitioner",
    "clinic_practitioner_locations",
    "clinic_practitionerservice",
    "clinic_service",
    "clinic_location",
]

FORWARD = [
    "CREATE SEQUENCE booking_schedule_version",
    # Called once so last_value moves on every later nextval (before it, is_called is false).
    "SELECT nextval('booking_schedule_version')",
    """
    CREATE FUNCTION booking_bump_schedule_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM nextval('booking_schedule_version');
        RETURN NULL;
    END $$
    """,
    *[
        f"CREATE TRIGGER {table}_bumps_schedule_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION booking_bump_schedule_version()"
        for table in TABLES
    ],
]

BACKWARD = [
    *[f"DROP TRIGGER {table}_bumps_schedule_version ON {table}" for table in TABLES],
    "DROP FUNCTION booking_bump_schedule_version()",
    "DROP SEQUENCE booking_schedule_version",
]


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0005_no_overlap_per_patient"),
        ("clinic", "0003_service_uses_needles"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]

"""Schedule stamps: invalidation scoped to what changed (issue 18).

Before, one schedule version for the install: a write anywhere made every cached
availability answer stale. Now each practitioner, location and service has its own stamp,
a fresh number from the same sequence each time a row the engine reads for it changes:

    ("p", practitioner): their appointments (only a change of practitioner, start, end of the
        buffer or status: not a reminder's sent time), working hours, time off, locations,
        qualifications and their own row;
    ("l", location): its closures (time off with no practitioner) and its own row;
    ("s", service): its own row;
    ("g", 0): a TRUNCATE of any of these tables (it names no rows).

An answer is cached under the stamps of what it read (booking/selectors.py), so a booking
for one practitioner leaves another's answers valid. Row triggers, so no writer (ORM, admin,
raw SQL, a future app) can forget; each stamp row is locked by its writer until commit, which
serialises nothing new: writers for one practitioner already queue on the practitioner's lock.
"""

from django.db import migrations

# Every table the old statement triggers watched (0006), to drop them.
OLD_TABLES = [
    "booking_appointment",
    "booking_workinghours",
    "booking_timeoff",
    "clinic_practitioner",
    "clinic_practitioner_locations",
    "clinic_practitionerservice",
    "clinic_service",
    "clinic_location",
]

# (table, trigger name, WHEN condition for updates or None, the scope each row stamps)
ROW_TRIGGERS = [
    (
        "booking_appointment",
        "OLD.practitioner_id IS DISTINCT FROM NEW.practitioner_id OR OLD.start IS DISTINCT FROM NEW.start "
        "OR OLD.blocked_until IS DISTINCT FROM NEW.blocked_until OR OLD.status IS DISTINCT FROM NEW.status",
        "'p', {row}.practitioner_id",
    ),
    ("booking_workinghours", None, "'p', {row}.practitioner_id"),
    (
        "booking_timeoff",
        None,
        "CASE WHEN {row}.practitioner_id IS NULL THEN 'l' ELSE 'p' END, "
        "coalesce({row}.practitioner_id, {row}.location_id)",
    ),
    ("clinic_practitioner", None, "'p', {row}.id"),
    ("clinic_practitioner_locations", None, "'p', {row}.practitioner_id"),
    ("clinic_practitionerservice", None, "'p', {row}.practitioner_id"),
    ("clinic_service", None, "'s', {row}.id"),
    ("clinic_location", None, "'l', {row}.id"),
]


def _function(table: str, scope: str) -> str:
    new, old = scope.format(row="NEW"), scope.format(row="OLD")
    return f"""
    CREATE FUNCTION {table}_stamps_schedule() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM booking_stamp_schedule({old});
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            PERFORM booking_stamp_schedule({new});
        END IF;
        RETURN NULL;
    END $$
    """


FORWARD = [
    *[f"DROP TRIGGER {table}_bumps_schedule_version ON {table}" for table in OLD_TABLES],
    "DROP FUNCTION booking_bump_schedule_version()",
    """
    CREATE TABLE booking_schedule_stamp (
        kind char(1) NOT NULL CHECK (kind IN ('p', 'l', 's', 'g')),
        object_id bigint NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (kind, object_id)
    )
    """,
    """
    CREATE FUNCTION booking_stamp_schedule(stamp_kind char, stamp_object bigint) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO booking_schedule_stamp (kind, object_id, version)
        VALUES (stamp_kind, stamp_object, nextval('booking_schedule_version'))
        ON CONFLICT (kind, object_id) DO UPDATE SET version = EXCLUDED.version
    $$
    """,
    """
    CREATE FUNCTION booking_stamp_everything() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM booking_stamp_schedule('g', 0);
        RETURN NULL;
    END $$
    """,
    "SELECT booking_stamp_schedule('g', 0)",
]
for table, when, scope in ROW_TRIGGERS:
    FORWARD += [
        _function(table, scope),
        f"CREATE TRIGGER {table}_stamps_schedule AFTER INSERT OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_stamps_schedule()",
        f"CREATE TRIGGER {table}_update_stamps_schedule AFTER UPDATE ON {table} FOR EACH ROW "
        + (f"WHEN ({when}) " if when else "")
        + f"EXECUTE FUNCTION {table}_stamps_schedule()",
        f"CREATE TRIGGER {table}_truncate_stamps_schedule AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION booking_stamp_everything()",
    ]

BACKWARD = []
for table, _when, _scope in ROW_TRIGGERS:
    BACKWARD += [
        f"DROP TRIGGER {table}_stamps_schedule ON {table}",
        f"DROP TRIGGER {table}_update_stamps_schedule ON {table}",
        f"DROP TRIGGER {table}_truncate_stamps_schedule ON {table}",
        f"DROP FUNCTION {table}_stamps_schedule()",
    ]
BACKWARD += [
    "DROP FUNCTION booking_stamp_everything()",
    "DROP FUNCTION booking_stamp_schedule(char, bigint)",
    "DROP TABLE booking_schedule_stamp",
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
        for table in OLD_TABLES
    ],
]


class Migration(migrations.Migration):
    dependencies = [
        ("booking", "0015_discovery_call_without_intake"),
        ("clinic", "0010_location_town"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]

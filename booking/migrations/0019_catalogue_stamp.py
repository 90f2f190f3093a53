"""A stamp for the catalogue as a whole ('c'): any write to the tables that decide which
practitioners an availability answer may offer (services, locations, practitioners, where they
work and what they give) moves it on. A cached answer's lookup of slugs to rows is then kept in
each process and checked by this one stamp, instead of joining five tables on every request
(booking.selectors.availability_request). Statement triggers: catalogue writes are few."""

from django.db import migrations

CATALOGUE_TABLES = [
    "clinic_service",
    "clinic_location",
    "clinic_practitioner",
    "clinic_practitioner_locations",
    "clinic_practitionerservice",
]

FORWARD = [
    "ALTER TABLE booking_schedule_stamp DROP CONSTRAINT booking_schedule_stamp_kind_check",
    "ALTER TABLE booking_schedule_stamp ADD CONSTRAINT booking_schedule_stamp_kind_check "
    "CHECK (kind IN ('p', 'l', 's', 'g', 'c'))",
    """
    CREATE FUNCTION booking_stamp_catalogue() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM booking_stamp_schedule('c', 0);
        RETURN NULL;
    END $$
    """,
    *[
        f"CREATE TRIGGER {table}_stamps_catalogue AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION booking_stamp_catalogue()"
        for table in CATALOGUE_TABLES
    ],
    "SELECT booking_stamp_schedule('c', 0)",
]

BACKWARD = [
    *[f"DROP TRIGGER {table}_stamps_catalogue ON {table}" for table in CATALOGUE_TABLES],
    "DROP FUNCTION booking_stamp_catalogue()",
    "DELETE FROM booking_schedule_stamp WHERE kind = 'c'",
    "ALTER TABLE booking_schedule_stamp DROP CONSTRAINT booking_schedule_stamp_kind_check",
    "ALTER TABLE booking_schedule_stamp ADD CONSTRAINT booking_schedule_stamp_kind_check "
    "CHECK (kind IN ('p', 'l', 's', 'g'))",
]


class Migration(migrations.Migration):
    dependencies = [("booking", "0018_appointment_within_a_day")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]

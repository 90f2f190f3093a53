"""Note every stretch of time that becomes free, whoever frees it, in waitlist_freedtime.

In the database, like the schedule version (booking 0006): a cancellation by a patient, a
move or a cancellation by reception in the admin, a practitioner removing time off, or a
future writer that knows nothing of the waiting list all free time the same way, and the
note is written in their transaction (it exists exactly when the change committed).

Frees time:
- a live appointment (confirmed, arrived, completed) that stops being live (cancelled, or
  a no-show), moves (start, blocked_until or practitioner change) or is deleted: its old
  time, buffer included;
- time off (a practitioner's, or a location's closure) removed, moved or shortened: its old
  stretch. The worker asks the availability engine what is really free inside it.
Only stretches not yet over are noted.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE FUNCTION waitlist_note_freed_appointment_time() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status NOT IN ('confirmed', 'arrived', 'completed') OR OLD.blocked_until <= now() THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            IF NEW.status IN ('confirmed', 'arrived', 'completed')
               AND NEW.start = OLD.start
               AND NEW.blocked_until = OLD.blocked_until
               AND NEW.practitioner_id = OLD.practitioner_id THEN
                RETURN NULL;
            END IF;
        END IF;
        INSERT INTO waitlist_freedtime (practitioner_id, location_id, start, "end", created_at)
        VALUES (OLD.practitioner_id, OLD.location_id, OLD.start, OLD.blocked_until, now());
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER booking_appointment_notes_freed_time
    AFTER UPDATE OR DELETE ON booking_appointment
    FOR EACH ROW EXECUTE FUNCTION waitlist_note_freed_appointment_time()
    """,
    """
    CREATE FUNCTION waitlist_note_freed_time_off() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD."end" <= now() THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            IF NEW.start <= OLD.start AND NEW."end" >= OLD."end"
               AND NEW.practitioner_id IS NOT DISTINCT FROM OLD.practitioner_id
               AND NEW.location_id IS NOT DISTINCT FROM OLD.location_id THEN
                RETURN NULL;  -- the same or longer: nothing freed
            END IF;
        END IF;
        INSERT INTO waitlist_freedtime (practitioner_id, location_id, start, "end", created_at)
        VALUES (OLD.practitioner_id, OLD.location_id, OLD.start, OLD."end", now());
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER booking_timeoff_notes_freed_time
    AFTER UPDATE OR DELETE ON booking_timeoff
    FOR EACH ROW EXECUTE FUNCTION waitlist_note_freed_time_off()
    """,
]

BACKWARD = [
    "DROP TRIGGER booking_timeoff_notes_freed_time ON booking_timeoff",
    "DROP FUNCTION waitlist_note_freed_time_off()",
    "DROP TRIGGER booking_appointment_notes_freed_time ON booking_appointment",
    "DROP FUNCTION waitlist_note_freed_appointment_time()",
]


class Migration(migrations.Migration):
    dependencies = [("waitlist", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]

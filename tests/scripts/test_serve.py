"""scripts/dev.py serve and worker: production settings, and only a try-out fills them in."""

import json
import os
import secrets
import signal
import subprocess

import pytest

PRODUCTION = ("SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DEFAULT_FROM_EMAIL", "CLINIC_EMAIL", "CACHE_LOCAL_MEMORY")


@pytest.fixture
def dev(load_script, monkeypatch, tmp_path):
    module = load_script("dev")
    monkeypatch.setattr(module, "DATA_DIR", tmp_path)
    for name in (*PRODUCTION, "DEBUG", "REDIS_URL", "EMAIL_BACKEND", "WEB_CONCURRENCY", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    return module


def test_debug_on_is_refused(dev, monkeypatch):
    monkeypatch.setenv("DEBUG", "1")
    with pytest.raises(SystemExit, match="production settings: unset DEBUG"):
        dev.production_env(bind="127.0.0.1:8080")


def test_with_database_url_nothing_is_filled_in(dev, monkeypatch):
    """A real deployment must say everything itself: settings then fail loudly on what is missing."""
    monkeypatch.setenv("DATABASE_URL", "postgres://clinic@db.internal:5432/clinic")
    env, embedded = dev.production_env(bind="0.0.0.0:8000")
    assert not embedded
    assert env["DEBUG"] == "0"
    assert not any(name in env for name in PRODUCTION)


def test_a_try_out_on_the_embedded_server_fills_in_local_values(dev, monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(dev, "database_url", lambda: "postgres://postgres@%2Ftmp/clinic")
    monkeypatch.setenv("CLINIC_EMAIL", "front-desk@clinic.example")
    env, embedded = dev.production_env(bind="127.0.0.1:8093")
    assert embedded
    assert (env["SITE_URL"], env["ALLOWED_HOSTS"], env["CACHE_LOCAL_MEMORY"]) == (
        "http://127.0.0.1:8093",
        "127.0.0.1,localhost",
        "1",
    )
    assert env["CLINIC_EMAIL"] == "front-desk@clinic.example"  # what is set wins
    assert len(env["SECRET_KEY"]) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert dev.production_env(bind="127.0.0.1:8093")[0]["SECRET_KEY"] == env["SECRET_KEY"]  # kept


def test_with_redis_the_try_out_shares_its_cache(dev, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(dev, "database_url", lambda: "postgres://postgres@%2Ftmp/clinic")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert "CACHE_LOCAL_MEMORY" not in dev.production_env(bind="127.0.0.1:8093")[0]


def test_workers_and_threads_come_from_the_environment(dev):
    assert dev.web_concurrency({}) == (os.cpu_count(), 4)
    assert dev.web_concurrency({"WEB_CONCURRENCY": "3", "GUNICORN_THREADS": "8"}) == (3, 8)
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be a whole number of at least 1; got '0'"):
        dev.web_concurrency({"WEB_CONCURRENCY": "0"})


def test_gunicorn_runs_gthread_workers_and_no_access_log(dev):
    """Access logs would print the paths of private links, tokens included."""
    command = dev.gunicorn_command(bind="127.0.0.1:8093", workers=2, threads=4)
    assert command[1:4] == ["-m", "gunicorn", "clinic.wsgi:application"]
    assert {"--bind=127.0.0.1:8093", "--workers=2", "--threads=4", "--worker-class=gthread"} <= set(command)
    assert not any("access" in argument for argument in command)


@pytest.mark.django_db
def test_with_log_format_json_every_line_of_gunicorn_and_django_is_json(dev, load_script, tmp_path):
    """gunicorn's own lines (starting, booting workers, shutting down) as well as Django's, and
    the private link in a 404 redacted."""
    from django.db import connection

    bench = load_script("bench")  # its gunicorn helpers: a free port, waiting for /healthz, a client
    port = bench.free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": dev.with_database(dev.database_url(), connection.settings_dict["NAME"]),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DEFAULT_FROM_EMAIL": "clinic@localhost",
        "CLINIC_EMAIL": "reception@localhost",
        "CACHE_LOCAL_MEMORY": "1",
        "LOG_FORMAT": "json",
        "PYTHONWARNINGS": "ignore",  # whitenoise: no collected static files here (so: no pages, the API)
    }
    token = secrets.token_urlsafe(32)
    with (tmp_path / "stderr").open("w+") as stderr:
        server = subprocess.Popen(
            dev.gunicorn_command(bind=f"127.0.0.1:{port}", workers=1, threads=2),
            cwd=dev.ROOT,
            env=env,
            stdout=stderr,
            stderr=stderr,
        )
        try:
            bench.wait_until_healthy(server, port, tmp_path / "stderr")
            client = bench.Connection(port)
            assert client.request("GET", f"/api/v1/appointments/{token}")[0] == 404
            client.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        stderr.seek(0)
        lines = [line for line in stderr.read().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    messages = [(record["logger"], record["message"]) for record in records]
    gunicorn = [message for logger, message in messages if logger == "gunicorn.error"]
    assert any(message.startswith("Starting gunicorn") for message in gunicorn), messages
    assert any(message.startswith("Booting worker") for message in gunicorn), messages
    assert any(message.startswith("Shutting down") for message in gunicorn), messages
    assert ("django.request", "Not Found: /api/v1/appointments/[token]") in messages
    assert token not in "\n".join(lines)

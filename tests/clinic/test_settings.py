"""Production settings come from the environment and fail loudly, in one line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "clinic.example",
    "SITE_URL": "https://clinic.example",
    "DATABASE_URL": "postgres://clinic:secret@db.internal:5432/clinic",
    "DEFAULT_FROM_EMAIL": "hello@clinic.example",
    "EMAIL_HOST": "smtp.clinic.example",
    "CLINIC_EMAIL": "reception@clinic.example",
    "REDIS_URL": "redis://cache.internal:6379/0",
}

PRINT_SETTINGS = (
    "from django.conf import settings; "
    "print(settings.DEBUG, settings.ALLOWED_HOSTS, settings.DATABASES['default']['HOST'], settings.CLINIC_NAME)"
)


def _start(env: dict[str, str], code: str = PRINT_SETTINGS) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "clinic.settings", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_a_complete_production_environment_starts_with_debug_off():
    result = _start({**PRODUCTION, "CLINIC_NAME": "Westerville Physio & Wellness"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['clinic.example'] db.internal Westerville Physio & Wellness"


def test_debug_needs_only_a_database():
    result = _start({"DEBUG": "1", "DATABASE_URL": PRODUCTION["DATABASE_URL"]})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True ['127.0.0.1', 'localhost']")


@pytest.mark.parametrize(
    "changes, variable",
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"SITE_URL": None}, "SITE_URL"),
        ({"SITE_URL": "clinic.example"}, "SITE_URL"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@localhost/clinic"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT"),
        ({"DEFAULT_FROM_EMAIL": None}, "DEFAULT_FROM_EMAIL"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"}, "EMAIL_FILE_PATH"),
        ({"REDIS_URL": "http://:secret@cache.internal:6379/0"}, "REDIS_URL"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"CLINIC_EMAIL": None}, "CLINIC_EMAIL"),
    ],
)
def test_a_bad_or_missing_value_stops_start_up_with_one_line_naming_it(changes, variable):
    env = {**PRODUCTION, **{key: value for key, value in changes.items() if value is not None}}
    for key, value in changes.items():
        if value is None:
            env.pop(key)
    result = _start(env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {variable} ")
    assert "secret" not in lines[0].split(variable, 1)[1]  # never echo a password back


def test_redis_url_makes_the_cache_shared_and_without_it_each_process_has_its_own():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    shared = _start(PRODUCTION, code)
    assert shared.stdout.strip() == "django_redis.cache.RedisCache", shared.stderr
    single_process = {key: value for key, value in PRODUCTION.items() if key != "REDIS_URL"}
    local = _start({**single_process, "CACHE_LOCAL_MEMORY": "1"}, code)
    assert local.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache", local.stderr


def test_https_site_gets_secure_cookies_and_hsts():
    code = (
        "from django.conf import settings; "
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS > 0)"
    )
    result = _start(PRODUCTION, code)
    assert result.stdout.strip() == "True True True", result.stderr

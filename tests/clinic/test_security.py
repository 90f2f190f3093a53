"""Security headers on every answer, production settings that pass `check --deploy`, and staff
sessions that end after idling or after a working day."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.clinic.test_settings import PRODUCTION, ROOT, _start

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# JSON is data, never a document: nothing may load in it or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
SCHEDULE = "/schedule/"
LOGIN = "/schedule/login/"


def _directives(header: str) -> dict[str, list[str]]:
    """The header's directives by name: django-csp writes them in no fixed order."""
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


@pytest.mark.parametrize("url", ["/", "/api/v1/services", "/admin/login/"])
@pytest.mark.django_db
def test_pages_and_api_answers_carry_the_security_headers(client, catalogue, url):
    response = client.get(url)

    assert response.status_code == 200
    expected = API_CSP if url.startswith("/api/") else EXPECTED_CSP
    assert _directives(response["Content-Security-Policy"]) == _directives(expected)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = dict(item.split("=", 1) for item in response["Permissions-Policy"].split(", "))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb", "browsing-topics"):
        assert policy[feature] == "()"


def test_the_policy_allows_no_inline_script_or_style_and_nothing_from_elsewhere():
    directives = _directives(EXPECTED_CSP)
    for directive in ("script-src", "style-src"):
        assert directives[directive] == ["'self'"]
    assert not re.search(r"unsafe-(inline|eval|hashes)", EXPECTED_CSP)
    assert directives["frame-ancestors"] == directives["object-src"] == ["'none'"]


INLINE = re.compile(r"<style|\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", re.IGNORECASE)


def test_no_served_template_has_inline_script_style_or_event_handler():
    """The policy forbids them, so one added later would break its page: caught here, by name.
    Emails are not served pages and keep their inline styles (mail clients need them)."""
    templates = ROOT / "templates"
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted(templates.rglob("*.html"))
        if templates / "emails" not in path.parents
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if INLINE.search(line)
    ]
    assert offenders == []


def test_production_settings_pass_check_deploy_with_no_warnings():
    # A key of 50+ varied characters: check --deploy warns about a short or repetitive one.
    env = {**PRODUCTION, "SECRET_KEY": "k7-" + "Q2x9vLmN4pR8sT1wY6zB3cD5fG0hJ" + "aE7uKoW3iZqXn5bVyT9sUd1rHc"}
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "clinic.settings", **env}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced).", result.stdout


def test_production_over_https_has_hsts_secure_cookies_and_trusts_no_proxy_header_unless_told():
    code = (
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER)"
    )
    assert _start(PRODUCTION, code).stdout.strip() == "31536000 True True True True True True None"
    behind_a_balancer = _start({**PRODUCTION, "TRUST_X_FORWARDED_PROTO": "1"}, code)
    assert behind_a_balancer.stdout.strip().endswith("('HTTP_X_FORWARDED_PROTO', 'https')"), behind_a_balancer.stderr


def test_over_https_a_plain_http_health_check_is_answered_and_a_patient_redirected():
    code = (
        "import django; django.setup(); from django.test import Client; c = Client(HTTP_HOST='clinic.example'); "
        "print(c.get('/healthz').status_code, c.get('/book/').status_code)"
    )
    # /healthz answers 503 without a reachable database and 200 with one: either way, not 301.
    result = _start(PRODUCTION, code)
    health, page = result.stdout.split()
    assert health in {"200", "503"}, result.stderr
    assert page == "301"


def test_make_run_over_plain_http_keeps_the_policy_but_not_hsts_or_secure_cookies():
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
        "'clinic.middleware.ContentSecurityPolicyMiddleware' in s.MIDDLEWARE)"
    )
    result = _start({"DEBUG": "1", "DATABASE_URL": PRODUCTION["DATABASE_URL"]}, code)
    assert result.stdout.strip() == "0 False True", result.stderr


@pytest.mark.parametrize(
    "changes, variable",
    [
        ({"STAFF_SESSION_IDLE_MINUTES": "2"}, "STAFF_SESSION_IDLE_MINUTES"),
        ({"STAFF_SESSION_IDLE_MINUTES": "700"}, "STAFF_SESSION_IDLE_MINUTES"),
        ({"STAFF_SESSION_MAX_HOURS": "0"}, "STAFF_SESSION_MAX_HOURS"),
        ({"TRUST_X_FORWARDED_PROTO": "perhaps"}, "TRUST_X_FORWARDED_PROTO"),
    ],
)
def test_a_bad_session_or_proxy_value_stops_start_up_naming_it(changes, variable):
    result = _start({**PRODUCTION, **changes})
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"Configuration error: {variable} "), result.stderr


def _log_in(client, user) -> None:
    response = client.post(LOGIN, {"username": user.username, "password": "demo-password"})
    assert response.status_code == 302, response.content.decode()[:500]


def _is_logged_in(client) -> bool:
    response = client.get(SCHEDULE)
    return response.status_code == 200


@pytest.mark.django_db
def test_a_practitioner_session_ends_after_30_idle_minutes_and_lives_while_used(client, physio):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _log_in(client, physio.user)
        for _ in range(3):  # 87 minutes in all, never 30 in a row
            clock.shift(timedelta(minutes=29))
            assert _is_logged_in(client)
        clock.shift(timedelta(minutes=30, seconds=1))
        response = client.get(SCHEDULE)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


@pytest.mark.django_db
def test_a_busy_staff_session_still_ends_ten_hours_after_login(client, physio):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _log_in(client, physio.user)
        for _ in range(29):  # 9 h 40 min of steady work
            clock.shift(timedelta(minutes=20))
            assert _is_logged_in(client)
        clock.shift(timedelta(minutes=20))
        response = client.get(SCHEDULE)
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)

        # Logged out for good (the session is flushed), and a new login starts a new day.
        assert not _is_logged_in(client)
        _log_in(client, physio.user)
        clock.shift(timedelta(minutes=20))
        assert _is_logged_in(client)

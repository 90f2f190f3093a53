"""Brute-force protection on both staff logins (django-axes): 5 wrong passwords for one
username from one address lock that pair out for 15 minutes, on the site's own 429 page."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

PASSWORD = "demo-password"

LOGINS = [
    pytest.param(("admin:login", "receptionist", "/admin/"), id="admin"),
    pytest.param(("schedule:login", "practitioner_user", "/schedule/"), id="schedule"),
]


def attempt(client, login_url, username, password, **extra):
    # Each login sends its people home: reception to the admin, practitioners to their day.
    next_url = "/admin/" if login_url == "admin:login" else "/schedule/"
    return client.post(reverse(login_url), {"username": username, "password": password, "next": next_url}, **extra)


def fail_five_times(client, login_url, username, **extra):
    statuses = [attempt(client, login_url, username, "wrong", **extra).status_code for _ in range(5)]
    # Four times the form again with its error; the fifth failure already shows the lockout.
    assert statuses == [200, 200, 200, 200, 429]


@pytest.fixture(params=LOGINS)
def login(request, physio):
    url_name, user_fixture, home = request.param
    return url_name, request.getfixturevalue(user_fixture), home


@pytest.mark.django_db
def test_sixth_attempt_is_locked_out_even_with_the_right_password(client, login):
    url_name, user, _ = login
    fail_five_times(client, url_name, user.username)

    response = attempt(client, url_name, user.username, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many login attempts" in page
    assert "15 minutes" in page
    assert "call the clinic" in page


@pytest.mark.django_db
def test_the_lockout_page_does_not_tell_whether_the_username_exists(client, login):
    url_name, user, _ = login
    fail_five_times(client, url_name, user.username)
    fail_five_times(client, url_name, "nobody-by-this-name")

    real = attempt(client, url_name, user.username, "wrong")
    invented = attempt(client, url_name, "nobody-by-this-name", "wrong")

    assert real.status_code == invented.status_code == 429
    assert real.content.decode().replace(user.username, "") == invented.content.decode()


@pytest.mark.django_db
def test_another_username_from_the_same_address_can_still_log_in(client, login):
    url_name, user, home = login
    fail_five_times(client, url_name, "someone-else")

    response = attempt(client, url_name, user.username, PASSWORD)

    assert response.status_code == 302
    assert response.url == home


@pytest.mark.django_db
def test_the_same_username_from_another_address_can_still_log_in(client, login):
    url_name, user, home = login
    fail_five_times(client, url_name, user.username, REMOTE_ADDR="203.0.113.7")

    response = attempt(client, url_name, user.username, PASSWORD, REMOTE_ADDR="198.51.100.2")

    assert response.status_code == 302
    assert response.url == home


@pytest.mark.django_db
def test_after_the_cooloff_the_right_password_works_again(client, login):
    url_name, user, home = login
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail_five_times(client, url_name, user.username)
        traveller.shift(timedelta(minutes=14))
        assert attempt(client, url_name, user.username, PASSWORD).status_code == 429

        # That attempt, made while locked out, started the 15 minutes again.
        traveller.shift(timedelta(minutes=14))
        assert attempt(client, url_name, user.username, PASSWORD).status_code == 429
        traveller.shift(timedelta(minutes=16))
        response = attempt(client, url_name, user.username, PASSWORD)

    assert response.status_code == 302
    assert response.url == home


@pytest.mark.django_db
def test_a_successful_login_clears_the_count(client, login):
    url_name, user, _ = login
    for _ in range(4):
        attempt(client, url_name, user.username, "wrong")
    assert attempt(client, url_name, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, url_name, user.username, "wrong")

    assert attempt(client, url_name, user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_behind_a_balancer_failures_are_counted_per_client_address(client, login, settings):
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    url_name, user, _ = login
    fail_five_times(client, url_name, user.username, HTTP_X_REAL_IP="203.0.113.7")

    locked = attempt(client, url_name, user.username, PASSWORD, HTTP_X_REAL_IP="203.0.113.7")
    other_client = attempt(client, url_name, user.username, PASSWORD, HTTP_X_REAL_IP="198.51.100.2")

    assert locked.status_code == 429
    assert other_client.status_code == 302


@pytest.mark.parametrize("login_url", ["/admin/login/", "/schedule/login/"])
def test_an_absurdly_long_or_nul_username_is_a_refused_login_not_a_500(client, db, login_url):
    """Found by the fuzz tests: axes stored the username as typed, over its 255-character column."""
    for typed in ["x" * 5000, "a\x00b"]:
        response = client.post(login_url, {"username": typed, "password": "wrong"})

        assert response.status_code in {200, 429}

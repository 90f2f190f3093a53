"""The per-account ceiling on staff logins: 20 wrong passwords for one username within an hour,
from any mix of addresses, pause that login for an hour or until reception unlocks it, and the
account's owner is emailed. The per-address rule (test_login_protection.py) stays as it was."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccountLockout
from tests.helpers import worker_round

PASSWORD = "demo-password"
CEILING = 20

LOGINS = [
    pytest.param(("admin:login", "receptionist", "/admin/"), id="admin"),
    pytest.param(("schedule:login", "practitioner_user", "/schedule/"), id="schedule"),
]


@pytest.fixture(params=LOGINS)
def login(request, physio):
    url_name, user_fixture, home = request.param
    return url_name, request.getfixturevalue(user_fixture), home


@pytest.fixture(autouse=True)
def behind_a_balancer(settings):
    # The finding: the client-address header rotated by the attacker (a balancer that appends
    # to it instead of overwriting it would let them).
    settings.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"


def attempt(client, url_name, username, password, address):
    next_url = "/admin/" if url_name == "admin:login" else "/schedule/"
    return client.post(
        reverse(url_name), {"username": username, "password": password, "next": next_url}, HTTP_X_REAL_IP=address
    )


def address(n: int) -> str:
    return f"198.51.{n // 250}.{n % 250 + 1}"


def fail_from_rotating_addresses(client, url_name, username, times, first=0):
    # Two wrong passwords per address: under the per-address lock of 5, as in the attack run.
    return [attempt(client, url_name, username, "wrong", address((first + n) // 2)).status_code for n in range(times)]


@pytest.mark.django_db
def test_wrong_passwords_from_rotating_addresses_pause_the_account(client, login):
    url_name, user, _ = login

    statuses = fail_from_rotating_addresses(client, url_name, user.username, CEILING)
    right_password_elsewhere = attempt(client, url_name, user.username, PASSWORD, "203.0.113.200")

    # Each wrong password is the form again, until the 20th, which already shows the pause.
    assert statuses == [200] * (CEILING - 1) + [429]
    assert right_password_elsewhere.status_code == 429
    assert "_auth_user_id" not in client.session
    page = right_password_elsewhere.content.decode()
    assert "This login is paused" in page
    assert "ask reception" in page
    lockout = AccountLockout.objects.get(username=user.username)
    assert lockout.failures == CEILING
    assert lockout.locked_until - lockout.locked_at == timedelta(hours=1)


@pytest.mark.django_db
def test_fewer_failures_than_the_ceiling_leave_the_account_open(client, login):
    url_name, user, home = login
    fail_from_rotating_addresses(client, url_name, user.username, CEILING - 1)

    response = attempt(client, url_name, user.username, PASSWORD, "203.0.113.200")

    assert response.status_code == 302
    assert response.url == home
    assert not AccountLockout.objects.exists()


@pytest.mark.django_db
def test_failures_older_than_an_hour_do_not_count(client, login):
    url_name, user, _home = login
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail_from_rotating_addresses(client, url_name, user.username, CEILING - 1)
        traveller.shift(timedelta(minutes=61))
        fail_from_rotating_addresses(client, url_name, user.username, 1, first=100)

        response = attempt(client, url_name, user.username, PASSWORD, "203.0.113.200")

    assert response.status_code == 302


@pytest.mark.django_db
def test_an_invented_username_is_paused_on_the_same_page(client, login):
    url_name, user, _ = login
    # The page names the time the pause ends: the clock must not turn a minute between the two.
    with time_machine.travel(timezone.now(), tick=False):
        fail_from_rotating_addresses(client, url_name, user.username, CEILING)
        fail_from_rotating_addresses(client, url_name, "nobody-by-this-name", CEILING, first=100)

        real = attempt(client, url_name, user.username, "wrong", "203.0.113.200")
        invented = attempt(client, url_name, "nobody-by-this-name", "wrong", "203.0.113.201")

    assert real.status_code == invented.status_code == 429
    assert real.content == invented.content


@pytest.mark.django_db
def test_the_pause_ends_by_itself_after_the_hour(client, login):
    url_name, user, home = login
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail_from_rotating_addresses(client, url_name, user.username, CEILING)
        traveller.shift(timedelta(minutes=59))
        assert attempt(client, url_name, user.username, PASSWORD, "203.0.113.200").status_code == 429
        traveller.shift(timedelta(minutes=2))

        response = attempt(client, url_name, user.username, PASSWORD, "203.0.113.201")

    assert response.status_code == 302
    assert response.url == home


@pytest.mark.django_db
def test_reception_unlocks_it_and_failures_count_afresh(client, login, receptionist):
    url_name, user, _home = login
    fail_from_rotating_addresses(client, url_name, user.username, CEILING)
    lockout = AccountLockout.objects.get(username=user.username)
    desk = client.__class__()
    desk.force_login(receptionist)

    response = desk.post(
        reverse("admin:clinic_accountlockout_changelist"),
        {"action": "unlock", "_selected_action": [lockout.pk]},
        follow=True,
    )

    assert "Unlocked 1 login(s)" in response.content.decode()
    lockout.refresh_from_db()
    assert lockout.unlocked_by == receptionist
    assert LogEntry.objects.filter(object_id=str(lockout.pk), change_message="Unlocked").exists()
    # The twenty failures before the unlock no longer count: one more does not pause it again.
    assert attempt(client, url_name, user.username, "wrong", "203.0.113.200").status_code == 200
    assert attempt(client, url_name, user.username, PASSWORD, "203.0.113.200").status_code == 302


@pytest.mark.django_db
def test_the_account_owner_is_emailed_once_and_an_invented_name_emails_no_one(client, login):
    url_name, user, _ = login
    fail_from_rotating_addresses(client, url_name, user.username, CEILING + 3)
    fail_from_rotating_addresses(client, url_name, "nobody-by-this-name", CEILING, first=100)

    worker_round()
    worker_round()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "paused" in message.subject
    assert f"{CEILING} times within an hour" in message.body
    assert "No one got in" in message.body
    # The attacker's addresses are not the owner's business to decode, nor a log's.
    assert "198.51." not in message.body
    assert AccountLockout.objects.filter(notified_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_practitioners_cannot_see_or_unlock_paused_logins(client, practitioner_user, receptionist):
    AccountLockout.objects.create(
        username="reception",
        failures=CEILING,
        locked_at=timezone.now(),
        locked_until=timezone.now() + timedelta(hours=1),
    )
    client.force_login(practitioner_user)

    listing = client.get(reverse("admin:clinic_accountlockout_changelist"))

    assert listing.status_code in {302, 403}
    assert AccountLockout.objects.in_force(now=timezone.now()).count() == 1

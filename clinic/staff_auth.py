"""Brute-force protection of the staff logins, in two rules:

- per username and address (django-axes, the AXES_* settings): 5 wrong passwords lock that
  pair for 15 minutes; another person at the same desk can still log in;
- per account, from any address (here): ACCOUNT_LOCKOUT_FAILURES wrong passwords for one
  username within ACCOUNT_LOCKOUT_WINDOW pause that login for the same length of time, or
  until reception or an admin unlocks it, and the account's owner is emailed. An attacker who
  rotates addresses (or a header the balancer should have overwritten) gets that many guesses
  an hour, not unlimited ones.

Both count a username as typed, whether or not an account has it, and answer with the same
429 page either way: neither tells which accounts exist. Failures are axes's failure log.
"""

import logging

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from clinic.clock import staff_datetime
from clinic.emails import render_email
from clinic.models import AccountLockout, Location
from clinic.outbox import send_once
from clinic.throttling import UNKNOWN_CLIENT, client_network

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The address axes counts failures by: the same one the rate limits use
    (RATELIMIT_IP_META_KEY behind a balancer, else REMOTE_ADDR; IPv6 by its /64)."""
    network = client_network("axes", request)
    # axes stores the address in an IP column: an unreadable one is stored as unknown (NULL).
    return None if network == UNKNOWN_CLIENT else network.split("/")[0]


# axes's username column (AccessAttempt, AccessFailureLog).
USERNAME_STORED_MAX = 255


def username_as_typed(request: HttpRequest, credentials: dict | None = None) -> str:
    """The username axes counts by, as typed, cut to what its tables hold: a longer one (no real
    account has one) would fail the insert and the login page with a 500."""
    typed = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(typed).replace("\x00", "")[:USERNAME_STORED_MAX]


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """429 on the site's own page (axes calls it for both rules). Shown for any username,
    existing or not, so it tells nothing about which accounts exist."""
    lockout = getattr(request, "account_lockout", None)
    if lockout is not None:
        return render(request, "clinic/login_account_locked.html", _ends(lockout), status=429)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "clinic/login_locked_out.html", {"cooloff_minutes": minutes}, status=429)


def lockout_in_force(username_typed: str) -> AccountLockout | None:
    return AccountLockout.objects.in_force(now=timezone.now()).filter(username=username_typed).first()


class AccountLockoutBackend:
    """First of the authentication backends: refuses every password, right or wrong, for a
    username whose account is paused. It logs no one in itself (and so has no get_user: a
    session never names it as its backend)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None:
            return None
        lockout = lockout_in_force(username_as_typed(request, {"username": username}))
        if lockout is None:
            return None
        # AxesMiddleware answers with locked_out() above when this is set.
        request.axes_locked_out = True
        request.account_lockout = lockout
        raise PermissionDenied("this account is paused after too many wrong passwords")


@receiver(user_login_failed, dispatch_uid="clinic.staff_auth.count_failure_for_the_account")
def _count_failure_for_the_account(sender, credentials: dict, request=None, **kwargs) -> None:
    # Runs after axes's own receiver (axes is earlier in INSTALLED_APPS), which has written this
    # failure to its log.
    if request is None:
        return
    lockout = lock_account_if_over_the_ceiling(username_as_typed(request, credentials))
    if lockout is not None:
        request.axes_locked_out = True
        request.account_lockout = lockout


def lock_account_if_over_the_ceiling(username_typed: str) -> AccountLockout | None:
    """The lockout in force for this username, starting one if its failures since the window
    began (or since it was last unlocked) have reached ACCOUNT_LOCKOUT_FAILURES."""
    if not username_typed:
        return None
    now = timezone.now()
    with transaction.atomic():
        # One lock per username at a time: concurrent failures wait here, then see the lock.
        AccountLockout.objects.select_for_update().filter(username=username_typed).exists()
        in_force = lockout_in_force(username_typed)
        if in_force is not None:
            return in_force
        counted_from = now - settings.ACCOUNT_LOCKOUT_WINDOW
        last_unlock = AccountLockout.objects.filter(username=username_typed).aggregate(Max("unlocked_at"))
        if last_unlock["unlocked_at__max"] and last_unlock["unlocked_at__max"] > counted_from:
            counted_from = last_unlock["unlocked_at__max"]
        failures = AccessFailureLog.objects.filter(username=username_typed, attempt_time__gt=counted_from).count()
        if failures < settings.ACCOUNT_LOCKOUT_FAILURES:
            return None
        lockout = AccountLockout.objects.create(
            username=username_typed,
            failures=failures,
            locked_at=now,
            locked_until=now + settings.ACCOUNT_LOCKOUT_WINDOW,
        )
    # No address, no username in the log line: the lockout's id leads to both in the admin.
    logger.warning("Account lockout #%s: %s wrong passwords within the window", lockout.pk, failures)
    return lockout


def unlock_account(lockout: AccountLockout, *, actor) -> bool:
    """Reception or an admin lets the person in again: the lockout ends now, the per-address
    lock (axes) for that username is lifted too, and failures count afresh from here. False
    when it had already ended."""
    now = timezone.now()
    with transaction.atomic():
        ended = (
            AccountLockout.objects.in_force(now=now).filter(pk=lockout.pk).update(unlocked_at=now, unlocked_by=actor)
        )
        if ended:
            AccessAttempt.objects.filter(username=lockout.username).delete()
    return bool(ended)


def due_lockout_notices() -> list[int]:
    return list(
        AccountLockout.objects.filter(notified_at__isnull=True).order_by("locked_at").values_list("pk", flat=True)
    )


def send_lockout_notice(lockout_id: int) -> bool:
    """Tells the account's owner that their login is paused. A username that names no active
    account with an email address gets nothing (and the lockout is marked as handled)."""
    return send_once(
        lockout_id,
        claimable=AccountLockout.objects.all(),
        column="notified_at",
        build=_lockout_notice,
        load=AccountLockout.objects.all(),
        what="Account lockout",
        noun="lockout",
        logger=logger,
    )


def _lockout_notice(lockout: AccountLockout):
    account = get_user_model().objects.filter(username=lockout.username, is_active=True).exclude(email="").first()
    if account is None:
        return None
    return render_email(
        "account_locked",
        {
            "account": account,
            "lockout": lockout,
            "clinic_name": settings.CLINIC_NAME,
            "two_factor_url": settings.SITE_URL + reverse("staff_otp:enrol"),
            **_ends(lockout, account),
        },
        to=[account.email],
        html=False,
    )


def _ends(lockout: AccountLockout, account=None) -> dict:
    # 'Wed 02 Dec 2026 3:05 PM MST (America/Edmonton)'
    return {"locked_until": staff_datetime(lockout.locked_until, clinic_zone(account))}


def clinic_zone(account=None):
    """The clock a staff login's times are told on: the practitioner's own clinic, else the
    clinic's first location."""
    locations = Location.objects.active().filter(is_by_phone=False).order_by("display_order", "pk")
    practitioner_location = locations.filter(practitioners__user=account).first() if account else None
    location = practitioner_location or locations.first()
    return location.zone if location else timezone.get_default_timezone()

"""Optional TOTP second factor for every login that reaches patient data (django-otp):
staff (the admin, reception's pages) and practitioners (their schedule, with screening answers).

Such a user may enrol an authenticator app at /staff/two-factor/. Once they have a confirmed
device, their password alone no longer opens the admin or the schedule: StaffOTPMiddleware
sends the session to /staff/two-factor/verify/ until a token from the app has been given.
STAFF_OTP_REQUIRED=1 makes a device compulsory: such a user without one is sent to enrol.
Wrong codes are throttled per device by django-otp (each failure doubles the wait), for
practitioners as for staff.
"""

import functools

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "Authenticator app"
GUARDED_PREFIXES = ("/admin/", "/schedule/")
HAS_DEVICE_KEY = "staff_otp_has_device"
SEES_PATIENT_DATA_KEY = "staff_otp_sees_patient_data"


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class StaffOTPMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The path first: the public pages and the API never touch request.user (no session
        # read, no "Vary: Cookie" on their answers).
        if not _guarded(request.path_info):
            return self.get_response(request)
        user = request.user
        # is_verified is put on the user by django-otp's OTPMiddleware, which runs before this one.
        if user.is_authenticated and _sees_patient_data(request) and not user.is_verified():  # type: ignore[attr-defined]
            if _has_device(request):
                return redirect(f"{reverse('staff_otp:verify')}?next={request.get_full_path()}")
            if settings.STAFF_OTP_REQUIRED:
                return redirect("staff_otp:enrol")
        return self.get_response(request)


def _has_device(request: HttpRequest) -> bool:
    """Whether the user has an app: asked once at login (remember_device_at_login) and kept in the
    session, not a query on every admin page. A device enrolled from another session counts from
    that user's next login (sessions end after STAFF_SESSION_IDLE_MINUTES idle, and
    STAFF_SESSION_MAX_HOURS at most). A session from before this check asks every time."""
    remembered = request.session.get(HAS_DEVICE_KEY)
    return user_has_device(request.user) if remembered is None else remembered


def reaches_patient_data(user) -> bool:
    """Staff, and practitioners (an active practitioner record linked to the login)."""
    from clinic.models import Practitioner

    return user.is_staff or Practitioner.objects.filter(user=user, is_active=True).exists()


def _sees_patient_data(request: HttpRequest) -> bool:
    """Asked once at login (remember_device_at_login) and kept in the session, as _has_device."""
    remembered = request.session.get(SEES_PATIENT_DATA_KEY)
    return reaches_patient_data(request.user) if remembered is None else remembered


@receiver(user_logged_in)
def remember_device_at_login(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    sees = reaches_patient_data(user)
    request.session[SEES_PATIENT_DATA_KEY] = sees
    if sees:
        request.session[HAS_DEVICE_KEY] = user_has_device(user)


def home_for(user) -> str:
    """Where such a user works: the admin for staff, the schedule for a practitioner."""
    return reverse("admin:index") if user.is_staff else reverse("schedule:day")


def _guarded(path_info: str) -> bool:
    return path_info.startswith(GUARDED_PREFIXES) and path_info not in _login_paths()


@functools.cache
def _login_paths() -> frozenset[str]:
    """Logging in and out stays open: the second factor is asked after the password. Reversed
    once per process, not on every admin and schedule request."""
    return frozenset(reverse(name) for name in ("admin:login", "admin:logout", "schedule:login", "schedule:logout"))


def _staff_user(request: HttpRequest):
    if not request.user.is_authenticated:
        return None
    if not _sees_patient_data(request):
        raise PermissionDenied
    return request.user


@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: show its key, confirm it with one code."""
    user = _staff_user(request)
    if user is None:
        return redirect_to_login(request.path, reverse("schedule:login"))
    if user_has_device(user) and not user.is_verified():
        return redirect(f"{reverse('staff_otp:verify')}?next={request.path}")
    # One pending device per user: reloading the page keeps the key already scanned.
    device, _ = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": DEVICE_NAME})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            request.session[HAS_DEVICE_KEY] = True
            messages.success(request, "Two-step login is on: from now on we ask for a code after your password.")
            return redirect(home_for(user))
        form.add_error("token", "That code did not match. Check the app's time and try the newest code.")
    return render(
        request,
        "clinic/staff_otp_enrol.html",
        {"form": form, "config_url": device.config_url, "enrolled": user_has_device(user), "home_url": home_for(user)},
    )


@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of a staff login: a code from the enrolled app."""
    user = _staff_user(request)
    if user is None:
        return redirect_to_login(request.path, reverse("schedule:login"))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = home_for(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _device_accepting(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(next_url)
        form.add_error("token", "That code did not match. Try the newest code from your app.")
    return render(request, "clinic/staff_otp_verify.html", {"form": form, "next": next_url})


def _device_accepting(user, token: str):
    for device in devices_for_user(user, confirmed=True):
        if device.verify_token(token):
            return device
    return None


urlpatterns = (
    [
        path("two-factor/", enrol, name="enrol"),
        path("two-factor/verify/", verify, name="verify"),
    ],
    "staff_otp",
)

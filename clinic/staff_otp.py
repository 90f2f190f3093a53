"""Optional TOTP second factor for staff (django-otp).

A staff user may enrol an authenticator app at /staff/two-factor/. Once they have a confirmed
device, their password alone no longer opens the admin or the schedule: StaffOTPMiddleware
sends the session to /staff/two-factor/verify/ until a token from the app has been given.
STAFF_OTP_REQUIRED=1 makes a device compulsory: a staff user without one is sent to enrol.
"""

import functools

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
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
        if user.is_authenticated and user.is_staff and not user.is_verified():
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


@receiver(user_logged_in)
def remember_device_at_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and user.is_staff:
        request.session[HAS_DEVICE_KEY] = user_has_device(user)


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
    if not request.user.is_staff:
        raise PermissionDenied
    return request.user


@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """Add an authenticator app: show its key, confirm it with one code."""
    user = _staff_user(request)
    if user is None:
        return redirect(f"{reverse('admin:login')}?next={request.path}")
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
            messages.success(
                request, "Two-step login is on: from now on the admin asks for a code after your password."
            )
            return redirect("admin:index")
        form.add_error("token", "That code did not match. Check the app's time and try the newest code.")
    return render(
        request,
        "clinic/staff_otp_enrol.html",
        {"form": form, "config_url": device.config_url, "enrolled": user_has_device(user)},
    )


@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of a staff login: a code from the enrolled app."""
    user = _staff_user(request)
    if user is None:
        return redirect("admin:login")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:index")
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

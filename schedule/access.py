"""Who may see a schedule: the practitioner linked to the logged-in user, and nobody else.

Every view of this app is wrapped in practitioner_required and reads only rows of
request.practitioner: another practitioner's appointment is a 404, not a 403, so its
existence is not confirmed either.
"""

from functools import wraps

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from clinic.models import Practitioner


class PractitionerRequest(HttpRequest):
    """A request practitioner_required lets through: its user is logged in and has an active
    practitioner record, set here as request.practitioner."""

    user: User
    practitioner: Practitioner


def practitioner_required(view):
    """Anonymous → the schedule login; reception and admins (staff without an active
    practitioner record) → the admin, their workplace; any other account → 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("schedule:login"))
        # An inactive practitioner (someone who left) keeps no access, as their feed keeps none.
        practitioner = Practitioner.objects.filter(user=request.user, is_active=True).first()
        if practitioner is None:
            if request.user.is_staff:
                return redirect("admin:index")
            raise PermissionDenied
        request.practitioner = practitioner
        return view(request, *args, **kwargs)

    return wrapper

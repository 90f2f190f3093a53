"""Emails about call-back requests, sent by the worker (send_due_notifications), never in a request.

Two per request: an acknowledgement to the requester and a notice to the clinic inbox.
Each is sent once by clinic.emails.send_once, claimed on its `*_sent_at` column. Neither
email carries what the person wrote about their health: the concern and conditions stay in
the admin.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone

from clinic.emails import render_email
from clinic.outbox import send_once
from clinic.zones import zone_words
from discovery.models import DiscoveryCallRequest
from discovery.selectors import (
    CALL_WINDOW_WORDS,
    caller_window_for_staff,
    caller_zone,
    clinic_phones,
    expected_call_day,
)

logger = logging.getLogger(__name__)

# After an outage, a week-old "we will call you tomorrow" would be wrong: such requests are
# left to reception, who sees them highlighted in the admin.
STALE_AFTER = timedelta(days=2)
BATCH = 200


def due_acknowledgements(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        DiscoveryCallRequest.objects.filter(
            acknowledgement_sent_at__isnull=True, created_at__gt=now - STALE_AFTER
        ).values_list("pk", flat=True)[:BATCH]
    )


def due_clinic_notices() -> list[int]:
    return list(
        DiscoveryCallRequest.objects.filter(clinic_notified_at__isnull=True).values_list("pk", flat=True)[:BATCH]
    )


def _send_claimed(request_id: int, column: str, build, what: str) -> bool:
    return send_once(
        request_id,
        claimable=DiscoveryCallRequest.objects.all(),
        column=column,
        build=build,
        load=DiscoveryCallRequest.objects.all(),
        what=what,
        noun="call-back request",
        logger=logger,
    )


def send_acknowledgement(request_id: int) -> bool:
    """Tell the requester we have their request and when we will call. Once."""
    return _send_claimed(request_id, "acknowledgement_sent_at", _acknowledgement_message, "Acknowledgement")


def send_clinic_notice(request_id: int) -> bool:
    """Tell the clinic inbox a call-back request is waiting. Once."""
    return _send_claimed(request_id, "clinic_notified_at", _clinic_notice_message, "Clinic notice")


def _acknowledgement_message(call_request: DiscoveryCallRequest) -> EmailMultiAlternatives:
    zone = caller_zone(call_request)
    context = {
        "call_request": call_request,
        "clinic_name": settings.CLINIC_NAME,
        "call_day": expected_call_day(
            best_time=call_request.best_time, requested_at=call_request.created_at, zone=zone
        ),
        # The window is on the caller's clock, named in words.
        "call_window": f"{CALL_WINDOW_WORDS[call_request.best_time]} ({zone_words(zone)})",
        "clinic_phones": clinic_phones(),
        "emergency_number": settings.EMERGENCY_NUMBER,
    }
    return render_email("discovery_acknowledgement", context, to=[call_request.email])


def _clinic_notice_message(call_request: DiscoveryCallRequest) -> EmailMultiAlternatives:
    context = {
        "call_request": call_request,
        "admin_url": settings.SITE_URL + reverse("admin:discovery_discoverycallrequest_change", args=[call_request.pk]),
        "when_to_call": caller_window_for_staff(call_request),
    }
    return render_email("discovery_clinic_notice", context, to=[settings.CLINIC_EMAIL], html=False)

"""Emails about call-back requests, sent by the worker (send_due_notifications), never in a request.

Two per request: an acknowledgement to the requester and a notice to the clinic inbox.
Each is claimed with a conditional UPDATE on its `*_sent_at` column, as in
booking.notifications: two workers never send the same email, a failed send releases
the claim for a retry. Neither email carries what the person wrote about their health:
the concern and conditions stay in the admin.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from discovery.models import DiscoveryCallRequest
from discovery.selectors import CALL_WINDOW_WORDS, call_back_zone, clinic_phones, expected_call_day, zone_name

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


def _claim(request_id: int, column: str) -> bool:
    return bool(
        DiscoveryCallRequest.objects.filter(pk=request_id, **{f"{column}__isnull": True}).update(
            **{column: timezone.now()}
        )
    )


def _send_claimed(request_id: int, column: str, build, what: str) -> bool:
    if not _claim(request_id, column):
        return False
    call_request = DiscoveryCallRequest.objects.get(pk=request_id)
    try:
        build(call_request).send()
    except Exception:
        DiscoveryCallRequest.objects.filter(pk=request_id).update(**{column: None})
        # The reference only: no name, number or health detail in logs.
        logger.exception("%s email for call-back request %s failed; will retry", what, call_request.reference)
        raise
    logger.info("%s email sent for call-back request %s", what, call_request.reference)
    return True


def send_acknowledgement(request_id: int) -> bool:
    """Tell the requester we have their request and when we will call. Once."""
    return _send_claimed(request_id, "acknowledgement_sent_at", _acknowledgement_message, "Acknowledgement")


def send_clinic_notice(request_id: int) -> bool:
    """Tell the clinic inbox a call-back request is waiting. Once."""
    return _send_claimed(request_id, "clinic_notified_at", _clinic_notice_message, "Clinic notice")


def _subject(template: str, context: dict) -> str:
    return " ".join(render_to_string(template, context).split())


def _acknowledgement_message(call_request: DiscoveryCallRequest) -> EmailMultiAlternatives:
    zone = call_back_zone()
    context = {
        "call_request": call_request,
        "clinic_name": settings.CLINIC_NAME,
        "call_day": expected_call_day(
            best_time=call_request.best_time, requested_at=call_request.created_at, zone=zone
        ),
        # The window is in the clinic's call-back zone, which may not be the reader's.
        "call_window": f"{CALL_WINDOW_WORDS[call_request.best_time]} ({zone_name(zone)})",
        "clinic_phones": clinic_phones(),
        "emergency_number": settings.EMERGENCY_NUMBER,
    }
    message = EmailMultiAlternatives(
        subject=_subject("emails/discovery_acknowledgement_subject.txt", context),
        body=render_to_string("emails/discovery_acknowledgement.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[call_request.email],
    )
    message.attach_alternative(render_to_string("emails/discovery_acknowledgement.html", context), "text/html")
    return message


def _clinic_notice_message(call_request: DiscoveryCallRequest) -> EmailMultiAlternatives:
    context = {
        "call_request": call_request,
        "admin_url": settings.SITE_URL + reverse("admin:discovery_discoverycallrequest_change", args=[call_request.pk]),
    }
    return EmailMultiAlternatives(
        subject=_subject("emails/discovery_clinic_notice_subject.txt", context),
        body=render_to_string("emails/discovery_clinic_notice.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[settings.CLINIC_EMAIL],
    )

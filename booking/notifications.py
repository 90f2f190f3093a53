"""Emails to patients, sent by the worker (send_due_notifications), never inside a request.

Never twice: each email has a `*_sent_at` column that a sender claims with a
conditional UPDATE (... WHERE confirmation_sent_at IS NULL) before sending, so two
workers can never both send it. If sending raises, the claim is released for a retry;
a worker killed between claim and send loses that one email (at most once, by choice:
a patient confused by duplicates is worse than a missing confirmation they can re-open
from the manage link).
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from booking.calendar import appointment_ics, manage_url
from booking.models import Appointment

logger = logging.getLogger(__name__)


def due_confirmations(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Appointment.objects.filter(
            status=Appointment.Status.CONFIRMED, confirmation_sent_at__isnull=True, start__gt=now
        ).values_list("pk", flat=True)[:200]
    )


def send_confirmation(appointment_id: int) -> bool:
    """Send the booking confirmation once. Returns False when another sender already has it."""
    claimed = Appointment.objects.filter(
        pk=appointment_id, status=Appointment.Status.CONFIRMED, confirmation_sent_at__isnull=True
    ).update(confirmation_sent_at=timezone.now())
    if not claimed:
        return False
    appointment = Appointment.objects.select_related("patient", "practitioner", "location", "service").get(
        pk=appointment_id
    )
    try:
        _confirmation_message(appointment).send()
    except Exception:
        Appointment.objects.filter(pk=appointment_id).update(confirmation_sent_at=None)
        # The reference only: no name, no address, no health detail in logs.
        logger.exception("Confirmation email for booking %s failed; will retry", appointment.reference)
        raise
    logger.info("Confirmation email sent for booking %s", appointment.reference)
    return True


def _confirmation_message(appointment: Appointment) -> EmailMultiAlternatives:
    context = {
        "appointment": appointment,
        "clinic_name": settings.CLINIC_NAME,
        "manage_url": manage_url(appointment),
        "local_start": appointment.local_start,
    }
    # Subjects show on lock screens and in shared inboxes: no treatment named there.
    subject = " ".join(render_to_string("emails/confirmation_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/confirmation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[appointment.patient.email],
    )
    message.attach_alternative(render_to_string("emails/confirmation.html", context), "text/html")
    message.attach(f"appointment-{appointment.reference}.ics", appointment_ics(appointment), "text/calendar")
    return message

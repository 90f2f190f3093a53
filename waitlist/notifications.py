"""Emails to waiting patients, sent by the worker (send_due_notifications), never in a request.

- "You're on the list": once per join (again when they join again), with the link to leave;
- an offer: a time has opened, with a link that books exactly that time;
- "it went": to those offered a time that someone else (or time off) has taken since.

Each is claimed once by clinic.emails.send_once on its `*_sent_at` / `gone_at` column, with
every condition on other tables as a subquery, never a join (booking/notifications.py says why).
Subjects name no treatment: they show on lock screens.
"""

import logging
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment, TimeOff
from clinic.emails import render_email
from clinic.outbox import send_once
from waitlist.models import WaitlistEntry, WaitlistOffer

logger = logging.getLogger(__name__)

BATCH = 200


def entry_url(entry: WaitlistEntry) -> str:
    return settings.SITE_URL + reverse("waitlist:entry", args=[entry.token])


def offer_url(offer: WaitlistOffer) -> str:
    return settings.SITE_URL + reverse("waitlist:offer", args=[offer.token])


def _still_waiting() -> QuerySet[WaitlistEntry, Mapping[str, object]]:
    return WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING).values("pk")


def time_taken() -> Q:
    """The offered time is held by a live appointment or covered by time off (a practitioner's,
    or the location's closure). The engine's exact answer is asked when the link is opened."""
    appointment = Appointment.objects.live().filter(
        practitioner_id=OuterRef("practitioner_id"), start__lt=OuterRef("end"), blocked_until__gt=OuterRef("start")
    )
    time_off = TimeOff.objects.filter(
        Q(practitioner_id=OuterRef("practitioner_id"))
        | Q(location_id=OuterRef("location_id"), practitioner__isnull=True),
        start__lt=OuterRef("end"),
        end__gt=OuterRef("start"),
    )
    return Exists(appointment) | Exists(time_off)


def _joined_claimable(now: datetime) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.waiting(now).filter(joined_email_sent_at__isnull=True)


def _open_offers(now: datetime) -> QuerySet[WaitlistOffer]:
    return WaitlistOffer.objects.filter(
        booked_appointment__isnull=True, gone_at__isnull=True, start__gt=now, entry_id__in=_still_waiting()
    )


def _offers_to_send(now: datetime) -> QuerySet[WaitlistOffer]:
    return _open_offers(now).filter(sent_at__isnull=True).exclude(time_taken())


def _offers_gone(now: datetime) -> QuerySet[WaitlistOffer]:
    return _open_offers(now).filter(sent_at__isnull=False).filter(time_taken())


def due_joined_emails(*, now: datetime | None = None) -> list[int]:
    return list(_joined_claimable(now or timezone.now()).values_list("pk", flat=True)[:BATCH])


def due_offers(*, now: datetime | None = None) -> list[int]:
    return list(_offers_to_send(now or timezone.now()).order_by("start", "pk").values_list("pk", flat=True)[:BATCH])


def due_gone_notices(*, now: datetime | None = None) -> list[int]:
    return list(_offers_gone(now or timezone.now()).order_by("pk").values_list("pk", flat=True)[:BATCH])


def send_joined_email(entry_id: int) -> bool:
    return send_once(
        entry_id,
        claimable=_joined_claimable(timezone.now()),
        column="joined_email_sent_at",
        build=_joined_message,
        load=WaitlistEntry.objects.select_related("service", "location", "practitioner"),
        what="Waiting list",
        noun="waiting list entry",
        logger=logger,
    )


def _send_offer_email(offer_id: int, claimable, column: str, build, what: str) -> bool:
    return send_once(
        offer_id,
        claimable=claimable,
        column=column,
        build=build,
        load=WaitlistOffer.objects.select_related("entry", "entry__service", "location", "practitioner"),
        what=what,
        noun="waiting list offer",
        logger=logger,
    )


def send_offer(offer_id: int) -> bool:
    """Email the offer once, if it is still open and the time still free."""
    return _send_offer_email(offer_id, _offers_to_send(timezone.now()), "sent_at", _offer_message, "Offer")


def send_gone_notice(offer_id: int) -> bool:
    """Tell an offered patient, once, that the time has gone; they stay on the list."""
    return _send_offer_email(offer_id, _offers_gone(timezone.now()), "gone_at", _gone_message, "Offer gone")


def _render(template: str, entry: WaitlistEntry, context: dict) -> EmailMultiAlternatives:
    context = {"entry": entry, "clinic_name": settings.CLINIC_NAME, "entry_url": entry_url(entry), **context}
    # Every time in the location's zone: the clock of the place the patient would go to.
    # The mail app's own "unsubscribe" button leaves the list in one click (RFC 2369, 8058).
    one_click = settings.SITE_URL + reverse("waitlist:one_click_leave", args=[entry.token])
    headers = {"List-Unsubscribe": f"<{one_click}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    with timezone.override(entry.location.zone):
        return render_email(template, context, to=[entry.email], headers=headers)


def _joined_message(entry: WaitlistEntry) -> EmailMultiAlternatives:
    return _render("waitlist_joined", entry, {})


def _offer_message(offer: WaitlistOffer) -> EmailMultiAlternatives:
    address_lines = [line.strip() for line in offer.location.address.splitlines() if line.strip()]
    return _render(
        "waitlist_offer",
        offer.entry,
        {
            "offer": offer,
            "offer_url": offer_url(offer),
            "local_start": offer.local_start,
            "address_lines": address_lines,
        },
    )


def _gone_message(offer: WaitlistOffer) -> EmailMultiAlternatives:
    return _render("waitlist_gone", offer.entry, {"offer": offer, "local_start": offer.local_start})

"""What every email the worker sends has in common: the once-only claim, and the rendering.

Never twice: each email has a `*_sent_at` column that a sender claims with a conditional
UPDATE (... WHERE <column> IS NULL) before sending, so two workers can never both send it.
If sending raises, the claim is released for a retry; a worker killed between claim and
send loses that one email (at most once, by choice: duplicates confuse more than a missing
email whose content the person can find again).
"""

import email.policy
import logging
import smtplib
from collections.abc import Callable
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Model, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.email_addresses import deliverable_email_address


def send_once(
    row_id: int,
    *,
    claimable: QuerySet,
    column: str,
    build: Callable[[Model], EmailMultiAlternatives | None],
    load: QuerySet,
    what: str,
    noun: str,
    logger: logging.Logger,
    also_claim: dict | None = None,
    release: dict | None = None,
) -> bool:
    """Claim `column` on the row if `claimable` still holds it, send build(row), release the
    claim if sending fails. False when the row is not (or no longer) claimable. `also_claim`:
    more values the claim writes (what the email tells the person, say), `release`: theirs
    to restore when sending fails. Logs name the row by its reference (or id) only: no name,
    no address, no health detail."""
    try:
        with transaction.atomic():
            claimed = claimable.filter(pk=row_id, **{f"{column}__isnull": True}).update(
                **{column: timezone.now(), **(also_claim or {})}
            )
            if not claimed:
                return False
            # Built inside the claim's transaction, whose UPDATE holds the row: no cancellation
            # or move can slip in between the claim and what the email says. An error here
            # rolls the claim back, for the next round.
            row = load.get(pk=row_id)
            message = build(row)
            if message is None:  # nobody to tell: claimed, so as not to ask again
                return False
    except Exception:
        logger.exception("%s email for %s #%s could not be written; will retry", what, noun, row_id)
        raise
    released = {column: None, **(release or {})}
    return deliver(
        message,
        release=lambda: load.model.objects.filter(pk=row_id).update(**released),
        what=f"{what} email",
        # A booking or call-back by its reference; a waiting-list row, which has none, by its id.
        about=f"{noun} {getattr(row, 'reference', f'#{row.pk}')}",
        logger=logger,
    )


def deliver(message: EmailMultiAlternatives, *, release: Callable[[], object], what: str, about: str, logger) -> bool:
    """Send an email already claimed; the logs name it by `what` and `about` ("Move notice",
    "booking K7Q-4M2P": a reference, never a name or an address). An address that cannot be delivered
    to stays claimed, not sent (False): every retry would fail the same way. If sending fails,
    release() undoes the claim for the next round and the error is raised again."""
    if not all(can_be_sent_to(address) for address in message.recipients()):
        # Stored before addresses were checked at entry (or written behind the forms' back), or
        # anonymised. Claimed, not sent; reception can call.
        logger.error("%s for %s not sent: the address cannot be delivered to", what, about)
        return False
    try:
        message.send()
    except smtplib.SMTPException as error:
        release()
        # No traceback: the mail server's answer names the recipient (SMTPRecipientsRefused
        # holds the address). The class and SMTP code say what went wrong.
        logger.error(
            "%s for %s failed; will retry",
            what,
            about,
            extra={"error": type(error).__name__, "smtp_code": getattr(error, "smtp_code", None)},
        )
        raise
    except Exception:
        release()
        logger.exception("%s for %s failed; will retry", what, about)
        raise
    logger.info("%s sent for %s", what, about)
    return True


def site_host() -> str:
    """The site's own domain (SITE_URL's), for Message-IDs and calendar UIDs."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def can_be_sent_to(address: str) -> bool:
    """False for an address the relay cannot take, and for .invalid ones (RFC 2606: an
    anonymised patient's placeholder)."""
    try:
        deliverable_email_address(address)
    except ValidationError:
        return False
    return not address.rstrip(".").lower().endswith(".invalid")


class ClinicEmail(EmailMultiAlternatives):
    """Header lines up to RFC 5322's limit of 998 characters. At Python's default of 78, a
    header with a long unbroken value (List-Unsubscribe's address with its token) is written
    as RFC 2047 encoded words, which mail apps do not read as an address."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


def render_email(
    template: str, context: dict, *, to: list[str], html: bool = True, headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """templates/emails/<template>_subject.txt, .txt and (with html) .html, from the clinic's
    address. Replies go to the clinic (CLINIC_EMAIL), not to the sending address, which may be
    a no-reply one; Auto-Submitted keeps out-of-office answers away (RFC 3834); the Message-ID
    is on the site's own domain, not the worker's host name."""
    # Subjects show on lock screens and in shared inboxes: their templates name no treatment.
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = ClinicEmail(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        reply_to=[settings.CLINIC_EMAIL],
        headers={
            "Auto-Submitted": "auto-generated",
            "Message-ID": make_msgid(domain=site_host()),
            **(headers or {}),
        },
    )
    if html:
        message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message

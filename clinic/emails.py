"""What every email the worker sends has in common: the once-only claim, and the rendering.

Never twice: each email has a `*_sent_at` column that a sender claims with a conditional
UPDATE (... WHERE <column> IS NULL) before sending, so two workers can never both send it.
If sending raises, the claim is released for a retry; a worker killed between claim and
send loses that one email (at most once, by choice: duplicates confuse more than a missing
email whose content the person can find again).
"""

import logging
import smtplib
from collections.abc import Callable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Model, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone


def send_once(
    row_id: int,
    *,
    claimable: QuerySet,
    column: str,
    build: Callable[[Model], EmailMultiAlternatives],
    load: QuerySet,
    what: str,
    noun: str,
    logger: logging.Logger,
) -> bool:
    """Claim `column` on the row if `claimable` still holds it, send build(row), release the
    claim if sending fails. False when the row is not (or no longer) claimable. Logs name
    the row by its reference only: no name, no address, no health detail."""
    if not claimable.filter(pk=row_id, **{f"{column}__isnull": True}).update(**{column: timezone.now()}):
        return False
    row = load.get(pk=row_id)
    try:
        build(row).send()
    except smtplib.SMTPException as error:
        load.model.objects.filter(pk=row_id).update(**{column: None})
        # No traceback: the mail server's answer names the recipient (SMTPRecipientsRefused
        # holds the address). The class and SMTP code say what went wrong.
        logger.error(
            "%s email for %s %s failed; will retry",
            what,
            noun,
            row.reference,
            extra={"error": type(error).__name__, "smtp_code": getattr(error, "smtp_code", None)},
        )
        raise
    except Exception:
        load.model.objects.filter(pk=row_id).update(**{column: None})
        logger.exception("%s email for %s %s failed; will retry", what, noun, row.reference)
        raise
    logger.info("%s email sent for %s %s", what, noun, row.reference)
    return True


def render_email(template: str, context: dict, *, to: list[str], html: bool = True) -> EmailMultiAlternatives:
    """templates/emails/<template>_subject.txt, .txt and (with html) .html, from the clinic's address."""
    # Subjects show on lock screens and in shared inboxes: their templates name no treatment.
    subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    if html:
        message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message

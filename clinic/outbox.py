"""Every email the worker sends goes through here: claimed once, recorded, delivered at least
once within a lease, and its failure visible to reception.

The claim: each email has a `*_sent_at` column on the row it is about (the appointment, the
call-back request…) that a sender claims with a conditional UPDATE (... WHERE <column> IS
NULL), so two workers never both write it. In the same transaction the email is built and
recorded as an OutboundMessage, with its full text, in the state "sending" under a lease of
EMAIL_SEND_LEASE_SECONDS (10 minutes). Only then is it handed to the mail server.

At least once within the lease, by choice. A worker can die (killed, out of memory, the
machine restarted) after the claim and before the mail server has the email, or after the
mail server took it and before the database heard so. Nothing can tell those two apart, so
the email is sent again once its lease has run out: a patient who rarely gets a confirmation
twice is better off than one whose confirmation silently never came. The second copy is the
stored text, byte for byte, with the same Message-ID, so a mail app that shows both shows the
same email, and anyone comparing sees one message.

Failures: a temporary one (the mail server unreachable or answering 4xx) puts the email back
in the queue with a growing wait (1, 2, 4 … minutes, at most an hour) and stops the round: the
rest waits for the server too, unclaimed. A permanent one (5xx: the address does not exist)
or an address that cannot be delivered to ends it as "failed", shown on the appointment
("confirmation not delivered") so reception can call. After MAX_ATTEMPTS it is given up.

The stored text (which names the patient and their appointment) is dropped once the email is
sent or given up; the row keeps only what happened. Logs name an email by what it is and what
it is about ("Confirmation email for booking K7Q-4M2P"), never by a name or an address.
"""

import email.policy
import logging
import smtplib
from collections.abc import Callable
from datetime import timedelta
from email.parser import BytesParser
from typing import TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import DatabaseError, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from clinic.emails import can_be_sent_to
from clinic.models import OutboundMessage

logger = logging.getLogger(__name__)

BATCH = 200
MAX_ATTEMPTS = 10
FIRST_RETRY_AFTER = timedelta(minutes=1)
LONGEST_RETRY_WAIT = timedelta(hours=1)


RowT = TypeVar("RowT", bound=Model)


class MailServerUnavailable(Exception):
    """The mail server could not take an email just now: the worker ends its round and waits."""


def send_once(
    row_id: int,
    *,
    claimable: QuerySet,
    column: str,
    build: Callable[[RowT], EmailMultiAlternatives | None],
    load: QuerySet[RowT],
    what: str,
    noun: str,
    logger: logging.Logger,
    also_claim: dict | None = None,
) -> bool:
    """Claim `column` on the row if `claimable` still holds it, build the email, record it and
    send it. False when the row is not (or no longer) claimable, or the email was not sent.
    `also_claim`: more values the claim writes (what the email tells the person, say)."""
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
            # A booking or call-back by its reference; a waiting-list row, which has none, by its id.
            queued = record(message, what=f"{what} email", about=row, label=_label(noun, row))
    except DatabaseError:
        raise  # the database is away: the worker waits (no traceback per email)
    except Exception:
        logger.exception("%s email for %s #%s could not be written; will retry", what, noun, row_id)
        raise
    return send_recorded(queued, message, logger=logger)


def _label(noun: str, row: Model) -> str:
    return f"{noun} {getattr(row, 'reference', f'#{row.pk}')}"


def record(message: EmailMessage, *, what: str, about: Model, label: str) -> OutboundMessage:
    """The email as it will be sent, in the state "sending" under a lease (or "failed" at once
    for an address that cannot be delivered to). Call it inside the claim's transaction."""
    now = timezone.now()
    common = {
        "purpose": what,
        "about_type": ContentType.objects.get_for_model(about),
        "about_id": about.pk,
        "about_label": label,
        "message_id": message.extra_headers["Message-ID"],
        "recipients": message.recipients(),
        "created_at": now,
    }
    if not all(can_be_sent_to(address) for address in message.recipients()):
        # Stored before addresses were checked at entry (or written behind the forms' back), or
        # anonymised. Not sent; reception can call.
        return OutboundMessage.objects.create(
            **common,
            state=OutboundMessage.State.FAILED,
            failed_at=now,
            last_error="The address cannot be delivered to.",
        )
    return OutboundMessage.objects.create(
        **common,
        state=OutboundMessage.State.SENDING,
        attempts=1,
        lease_until=now + _lease(),
        content=message.message(policy=email.policy.default).as_bytes(),
    )


def send_recorded(queued: OutboundMessage, message: EmailMessage | None, *, logger: logging.Logger) -> bool:
    """Hand a recorded email to the mail server (`message`, or else its stored text) and record
    what happened. Raises MailServerUnavailable when the server could not take it for now."""
    what, about = queued.purpose, queued.about_label
    if queued.state == OutboundMessage.State.FAILED:
        logger.error("%s for %s not sent: the address cannot be delivered to", what, about)
        return False
    try:
        (message or StoredEmail(queued)).send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        code = _smtp_code(error)
        if code is not None and code >= 500:
            _fail(queued, f"The mail server refused it ({type(error).__name__} {code}).")
            # No address in the line: SMTPRecipientsRefused holds it, and so does its text.
            logger.error("%s for %s not delivered: the mail server refused it (%s); not retried", what, about, code)
            return False
        raise _back_off(queued, error, logger) from error
    except DatabaseError:
        raise
    except Exception as error:  # unreachable, timed out, 4xx: all of it passes
        raise _back_off(queued, error, logger) from error
    OutboundMessage.objects.filter(pk=queued.pk, state=OutboundMessage.State.SENDING).update(
        state=OutboundMessage.State.SENT, sent_at=timezone.now(), lease_until=None, content=None
    )
    logger.info("%s sent for %s", what, about)
    return True


def _smtp_code(error: smtplib.SMTPException) -> int | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return min(codes) if codes else None
    return getattr(error, "smtp_code", None)


def _back_off(queued: OutboundMessage, error: Exception, logger: logging.Logger) -> MailServerUnavailable:
    reason = f"{type(error).__name__} {getattr(error, 'smtp_code', '') or ''}".strip()
    if queued.attempts >= MAX_ATTEMPTS:
        _fail(queued, f"Given up after {queued.attempts} attempts ({reason}).")
        logger.error("%s for %s given up after %s attempts", queued.purpose, queued.about_label, queued.attempts)
        return MailServerUnavailable(reason)
    wait = min(FIRST_RETRY_AFTER * 2 ** (queued.attempts - 1), LONGEST_RETRY_WAIT)
    OutboundMessage.objects.filter(pk=queued.pk, state=OutboundMessage.State.SENDING).update(
        state=OutboundMessage.State.QUEUED,
        lease_until=None,
        next_attempt_at=timezone.now() + wait,
        last_error=f"Not sent yet: {reason}."[:200],
    )
    # The class and SMTP code say what went wrong; the server's own text may name the address.
    logger.error(
        "%s for %s failed; will retry",
        queued.purpose,
        queued.about_label,
        extra={"error": type(error).__name__, "smtp_code": getattr(error, "smtp_code", None)},
    )
    return MailServerUnavailable(reason)


def _fail(queued: OutboundMessage, reason: str) -> None:
    OutboundMessage.objects.filter(pk=queued.pk).update(
        state=OutboundMessage.State.FAILED, failed_at=timezone.now(), lease_until=None, content=None, last_error=reason
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.EMAIL_SEND_LEASE_SECONDS)


def _retry_due(now) -> Q:
    waiting = Q(state=OutboundMessage.State.QUEUED, next_attempt_at__lte=now)
    lease_run_out = Q(state=OutboundMessage.State.SENDING, lease_until__lte=now)
    return (waiting | lease_run_out) & Q(content__isnull=False)


def due_retries() -> list[int]:
    return list(
        OutboundMessage.objects.filter(_retry_due(timezone.now()))
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def retry(message_pk: int) -> bool:
    """Send a recorded email again from its stored text: it waited for the mail server, or its
    lease ran out without word that it was sent."""
    now = timezone.now()
    lease_run_out = OutboundMessage.objects.filter(
        pk=message_pk, state=OutboundMessage.State.SENDING, lease_until__lte=now
    ).exists()
    claimed = (
        OutboundMessage.objects.filter(_retry_due(now), pk=message_pk)
        .filter(attempts__lt=MAX_ATTEMPTS)
        .update(state=OutboundMessage.State.SENDING, lease_until=now + _lease(), attempts=F("attempts") + 1)
    )
    if not claimed:
        stuck = OutboundMessage.objects.filter(_retry_due(now), pk=message_pk).first()
        if stuck is not None:  # its attempts are used up
            _fail(stuck, f"Given up after {stuck.attempts} attempts ({stuck.last_error or 'never confirmed sent'}).")
            logger.error("%s for %s given up after %s attempts", stuck.purpose, stuck.about_label, stuck.attempts)
        return False
    queued = OutboundMessage.objects.get(pk=message_pk)
    if lease_run_out:
        logger.warning(
            "%s for %s was not confirmed sent within its lease; sending it again (same Message-ID)",
            queued.purpose,
            queued.about_label,
        )
    return send_recorded(queued, None, logger=logger)


class StoredEmail(EmailMessage):
    """A recorded email, sent again exactly as it was first written (headers, Message-ID, parts)."""

    def __init__(self, queued: OutboundMessage):
        assert queued.content is not None  # retry claims only emails that still have their text
        self._stored = bytes(queued.content)
        parsed = self._parse(email.policy.default)
        text = parsed.get_body(preferencelist=("plain",))
        super().__init__(
            subject=str(parsed["Subject"]),
            body=text.get_content() if text is not None else "",
            from_email=str(parsed["From"]),
            to=list(queued.recipients),
            headers={"Message-ID": str(parsed["Message-ID"])},
        )

    def _parse(self, policy):
        return BytesParser(policy=policy.clone(max_line_length=998)).parsebytes(self._stored)

    def message(self, *, policy=email.policy.default):
        return self._parse(policy)


def forget_recipient(about: dict[type[Model], list[int]], *, address: str) -> None:
    """For an anonymised person: emails about these rows not sent yet are never sent and their
    stored text is dropped; every email about them names `address` (a placeholder) as its
    recipient from now on."""
    rows = Q(pk__in=[])
    for model, ids in about.items():
        rows |= Q(about_type=ContentType.objects.get_for_model(model), about_id__in=ids)
    messages = OutboundMessage.objects.filter(rows)
    messages.filter(state__in=[OutboundMessage.State.SENDING, OutboundMessage.State.QUEUED]).update(
        state=OutboundMessage.State.FAILED,
        failed_at=timezone.now(),
        lease_until=None,
        content=None,
        last_error="Not sent: the person's record was anonymised.",
    )
    messages.update(recipients=[address])


def messages_about(row: Model) -> QuerySet[OutboundMessage]:
    """The emails about a row (an appointment, say), oldest first, for the record reception reads."""
    return OutboundMessage.objects.filter(about_type=ContentType.objects.get_for_model(row), about_id=row.pk).defer(
        "content"
    )

"""What every email the worker sends has in common: how it is written (headers, templates)
and which addresses it can go to. How it is claimed, recorded and delivered: clinic/outbox.py.
"""

import email.policy
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from clinic.email_addresses import deliverable_email_address


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

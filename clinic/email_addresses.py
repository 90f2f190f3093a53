"""Email addresses the clinic's mail can reach.

Django's SMTP backend sends without SMTPUTF8, and most mail relays a clinic uses cannot take
it: an address with a non-ASCII local part (`tomás@…`) would fail in the worker on every try.
Django's own check refuses it too, as "Enter a valid email address.", which leaves the
patient guessing; the patients' forms (the booking, Book for a caller, the call-back request,
the waiting list, and the API that uses them) say why instead. An address already stored
that cannot be sent to is given up on by the worker (clinic.emails.send_once), not retried.
A non-ASCII domain is fine: it is sent IDNA-encoded.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

NON_ASCII_MESSAGE = (
    "Our email cannot reach an address with accented or non-Latin letters before the @ "
    "(such as á, ñ or ü). Please give another address."
)


def deliverable_email_address(value: str) -> None:
    local_part = str(value).rpartition("@")[0]
    if not local_part.isascii():
        raise ValidationError(NON_ASCII_MESSAGE, code="non_ascii_local_part")
    validate_email(value)


class EmailAddressField(forms.EmailField):
    """An email field that says why an address the clinic's mail cannot reach is refused."""

    default_validators = [deliverable_email_address]

"""Single-line text: names and the like hold no control characters.

A first name holding "\\r\\nEND:VEVENT" was stored and printed as separate lines in the plain-text
email (and could start a line of its own anywhere a name is written: a calendar file, a CSV
export, a log). Forms refuse such input with a field error (the API uses the same forms), and a
database constraint on each single-line column refuses it whatever code path writes
(clinic.single_line.no_control_characters names them alike).
"""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

MESSAGE = "Use letters, spaces and punctuation only: no line breaks, tabs or other control characters."
# The same test in PostgreSQL: C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_SQL_PATTERN = "[\\x01-\\x1f\\x7f-\\x9f\\u2028\\u2029]"


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in str(value))


def refuse_control_characters(value: str) -> None:
    if has_control_characters(value):
        raise ValidationError(MESSAGE, code="control_characters")


class SingleLineField(forms.CharField):
    default_validators = [refuse_control_characters]


def no_control_characters(field: str) -> Q:
    """A CheckConstraint condition: `field` holds no control character."""
    return ~Q(**{f"{field}__regex": _SQL_PATTERN})

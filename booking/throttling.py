"""The per-client limit on patients' own bookings and changes (the mechanism: clinic/throttling.py).

Booking (the wizard, the JSON API, a waiting-list offer, follow-ups and their other times),
cancelling, moving and leaving the waiting list all count in one group, from the pages and the
API alike, so switching between them gains nothing. A request counts once it is valid and
about to be carried out (also if the booking then refuses it, say for a time just taken): a
form with mistakes, or a link that is no link, costs nothing.

A person books, moves or cancels a few times; 30 an hour leaves room for a family, or a
clinic's front-desk tablet, on one connection, and stops a script filling the diary.
"""

from dataclasses import dataclass
from typing import ClassVar

from django.http import HttpRequest

from clinic import throttling
from clinic.models import Location

RATE = "30/h"
GROUP = "booking-changes"


def over_the_limit(request: HttpRequest) -> bool:
    """Count this booking or change; True when this client has sent more than RATE."""
    return throttling.over_the_limit(request, group=GROUP, rate=RATE)


@dataclass(frozen=True)
class Refusal:
    """A request refused by a limit, and the location to call instead. A page puts it in its
    context as `refusal` (base.html shows it, with the number as a link); the API sends
    `in_words`."""

    location: Location
    message: ClassVar[str] = throttling.REFUSED

    @property
    def in_words(self) -> str:
        phone = self.location.phone.as_national
        return f"{self.message} Please call {self.location.name} on {phone}, or try again later."

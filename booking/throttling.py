"""The per-client limit on patients' own bookings and changes (the mechanism: clinic/throttling.py).

Booking (the wizard, the JSON API, a waiting-list offer, follow-ups and their other times),
cancelling, moving and leaving the waiting list all count in one group, from the pages and the
API alike, so switching between them gains nothing. Each is counted just before it would
change the database: a form with mistakes, or a link that is no link, costs nothing.

A person books, moves or cancels a few times; 30 an hour leaves room for a family, or a
clinic's front-desk tablet, on one connection, and stops a script filling the diary.
"""

from django.http import HttpRequest

from clinic import throttling
from clinic.models import Location

RATE = "30/h"
GROUP = "booking-changes"


def over_the_limit(request: HttpRequest) -> bool:
    """Count this booking or change; True when this client has sent more than RATE."""
    return throttling.over_the_limit(request, group=GROUP, rate=RATE)


def call_us_instead(location: Location) -> str:
    """What a refused page or API answer says (the pages also link the number)."""
    return (
        "We have had many requests from this connection in the last hour, so we cannot take another one "
        f"online right now. Please call {location.name} on {location.phone.as_national}, or try again later."
    )

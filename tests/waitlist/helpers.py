"""Waiting-list helpers: join through the real service; run the worker's waiting-list round."""

from datetime import date

from waitlist.services import Contact, Wish, due_freed_times, join_waitlist, offer_freed_time


def contact(n: int = 0, **changes) -> Contact:
    fields = {
        "first_name": "Wanda",
        "last_name": f"Waiting{n}",
        "email": f"wanda{n}@example.com",
        "phone": "+16145550177",
    }
    return Contact(**{**fields, **changes})


def join(service, location, first_day: date, last_day: date | None = None, *, n: int = 0, practitioner=None, **times):
    return join_waitlist(
        wish=Wish(
            service=service,
            location=location,
            practitioner=practitioner,
            first_day=first_day,
            last_day=last_day or first_day,
            **times,
        ),
        contact=contact(n),
    )


def make_offers() -> list:
    """What the worker does with freed time: every stretch noted so far becomes offers."""
    return [offer for freed_id in due_freed_times() for offer in offer_freed_time(freed_id)]

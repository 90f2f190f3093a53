"""The email worker's round (manage.py send_due_notifications): the work each app has due,
registered by the app itself (its AppConfig.ready), so the worker, at the bottom layer, knows
no app above it.

A round takes the registered work in `order`: emails waiting for the mail server or whose
worker died first (0), then freed time (its offers go out in the same round), then the
patients' emails, the call-back emails, the waiting list's, the staff's.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DueWork:
    order: int
    due: Callable[[], Iterable[int]]  # the ids of what is due now
    send: Callable[[int], bool]  # do one; True when an email went out


_registered: dict[str, DueWork] = {}


def register(name: str, *, order: int, due: Callable[[], Iterable[int]], send: Callable[[int], bool]) -> None:
    _registered[name] = DueWork(order=order, due=due, send=send)


def due_work() -> list[DueWork]:
    return sorted(_registered.values(), key=lambda work: work.order)

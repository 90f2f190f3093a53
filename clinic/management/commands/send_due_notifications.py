"""The email worker: every app's due emails (clinic/worker.py), sent outside any request."""

import logging
import signal
import threading
from collections.abc import Callable, Iterable

from django.core.management.base import BaseCommand
from django.db import DatabaseError, connections

from clinic import worker
from clinic.logging import OncePerMinute
from clinic.outbox import MailServerUnavailable

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send every email that is due, then exit (for cron); --loop keeps polling (make run, production worker)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, polling every --interval seconds.")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, loop: bool, interval: float, **options):
        # SIGTERM (systemd, docker, the process manager) ends the loop once the email in hand
        # is sent: never cut off between its claim and its sending, never a whole batch later.
        stopping = threading.Event()
        if loop:
            signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        outages = 0
        try:
            while not stopping.is_set():
                try:
                    sent = self.send_due(stopping)
                    outages = 0
                except (DatabaseError, MailServerUnavailable) as outage:
                    if not loop:  # cron's next run is the retry
                        _log_outage(outage)
                        return
                    # Through a database or mail-server outage the worker waits and tries again,
                    # a little longer each time (up to a minute), and says so once a minute.
                    outages += 1
                    wait = min(interval * 2**outages, MAX_OUTAGE_WAIT)
                    _log_outage(outage)
                    connections.close_all()  # a fresh connection next round
                    stopping.wait(wait)
                    continue
                if sent:
                    self.stdout.write(f"Sent {sent} email(s).")
                if not loop:
                    return
                stopping.wait(interval)
            self.stdout.write("Email worker stopped.")
        except KeyboardInterrupt:
            # Ctrl-C on `make run` (the whole process group gets it): stop without a traceback.
            # An email interrupted mid-send is sent again once its lease runs out (clinic/outbox.py).
            self.stdout.write("Email worker stopped.")

    def send_due(self, stopping: threading.Event | None = None) -> int:
        """One round over every app's due work (clinic/worker.py), in its order."""
        stopping = stopping or threading.Event()
        sent = 0
        for work in worker.due_work():
            if stopping.is_set():
                break
            sent += _send_each(work.due(), work.send, stopping)
        return sent


MAX_OUTAGE_WAIT = 60.0
# One line a minute through an outage, however short the waits, never a traceback.
outage_logger = logging.getLogger(f"{__name__}.outage")
outage_logger.addFilter(OncePerMinute())


def _log_outage(outage: Exception) -> None:
    what = "The mail server" if isinstance(outage, MailServerUnavailable) else "The database"
    cause = type(outage.__cause__ or outage).__name__
    outage_logger.warning("%s is unavailable (%s); the email worker waits and tries again", what, cause)


def _send_each(ids: Iterable[int], send: Callable[[int], bool], stopping: threading.Event) -> int:
    sent = 0
    for row_id in ids:
        if stopping.is_set():
            break
        try:
            sent += send(row_id)
        except (DatabaseError, MailServerUnavailable):
            raise  # the round ends; the worker waits for the outage to pass
        except Exception:  # noqa: S112 - logged by the sender; the next one must still go out
            continue
    return sent

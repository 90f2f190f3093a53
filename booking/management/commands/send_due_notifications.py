import logging
import signal
import threading
from collections.abc import Callable, Iterable

from django.core.management.base import BaseCommand

from booking.notifications import (
    due_aftercare,
    due_cancellation_notices,
    due_confirmations,
    due_move_notices,
    due_reminders,
    due_series_confirmations,
    send_aftercare,
    send_cancellation_notice,
    send_confirmation,
    send_move_notice,
    send_reminder,
    send_series_confirmation,
)
from clinic.staff_auth import due_lockout_notices, send_lockout_notice
from discovery.notifications import (
    due_acknowledgements,
    due_clinic_notices,
    send_acknowledgement,
    send_clinic_notice,
)
from waitlist.notifications import (
    due_gone_notices,
    due_joined_emails,
    due_offers,
    send_gone_notice,
    send_joined_email,
    send_offer,
)
from waitlist.services import due_freed_times, offer_freed_time

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send every email that is due, then exit (for cron); --loop keeps polling (make run, production worker)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, polling every --interval seconds.")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, loop: bool, interval: float, **options):
        # SIGTERM (systemd, docker, the process manager) ends the loop after the round in hand:
        # no email is cut off between its claim and its sending.
        stopping = threading.Event()
        if loop:
            signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        try:
            while True:
                sent = self.send_due()
                if sent:
                    self.stdout.write(f"Sent {sent} email(s).")
                if not loop:
                    return
                if stopping.wait(interval):
                    self.stdout.write("Email worker stopped.")
                    return
        except KeyboardInterrupt:
            # Ctrl-C on `make run` (the whole process group gets it): stop without a traceback.
            # An email interrupted mid-send stays claimed: at most once (booking/notifications.py).
            self.stdout.write("Email worker stopped.")

    def send_due(self) -> int:
        # Freed time first: the offers it makes go out in this same round.
        for freed_id in due_freed_times():
            try:
                offer_freed_time(freed_id)
            except Exception:  # rolled back, retried next round; the rest must go on
                logger.exception("Offering freed time #%s failed; will retry", freed_id)
        return (
            _send_each(due_confirmations(), send_confirmation)
            + _send_each(due_series_confirmations(), send_series_confirmation)
            + _send_each(due_move_notices(), send_move_notice)
            + _send_each(due_cancellation_notices(), send_cancellation_notice)
            + _send_each(due_reminders(), send_reminder)
            + _send_each(due_aftercare(), send_aftercare)
            + _send_each(due_acknowledgements(), send_acknowledgement)
            + _send_each(due_clinic_notices(), send_clinic_notice)
            + _send_each(due_joined_emails(), send_joined_email)
            + _send_each(due_gone_notices(), send_gone_notice)
            + _send_each(due_offers(), send_offer)
            + _send_each(due_lockout_notices(), send_lockout_notice)
        )


def _send_each(ids: Iterable[int], send: Callable[[int], bool]) -> int:
    sent = 0
    for row_id in ids:
        try:
            sent += send(row_id)
        except Exception:  # noqa: S112 - logged by the sender; the next one must still go out
            continue
    return sent

import logging
import time

from django.core.management.base import BaseCommand

from booking.notifications import due_confirmations, send_confirmation

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Send every email that is due, then exit (for cron); --loop keeps polling (make run, production worker)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, polling every --interval seconds.")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, loop: bool, interval: float, **options):
        while True:
            sent = self.send_due()
            if sent:
                self.stdout.write(f"Sent {sent} email(s).")
            if not loop:
                return
            time.sleep(interval)

    def send_due(self) -> int:
        sent = 0
        for appointment_id in due_confirmations():
            try:
                sent += send_confirmation(appointment_id)
            except Exception:  # noqa: S112 - logged in send_confirmation; the next one must still go out
                continue
        return sent

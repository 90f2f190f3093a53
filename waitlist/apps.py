import logging

from django.apps import AppConfig
from django.db import DatabaseError

logger = logging.getLogger(__name__)


class WaitlistConfig(AppConfig):
    name = "waitlist"
    verbose_name = "Waiting list"

    def ready(self) -> None:
        from clinic import worker
        from waitlist import notifications as emails
        from waitlist.services import due_freed_times

        # Freed time comes before the patients' emails: the offers it makes go out in the same round.
        worker.register("freed time", order=10, due=due_freed_times, send=_offer_freed_time)
        worker.register("waiting-list welcomes", order=40, due=emails.due_joined_emails, send=emails.send_joined_email)
        worker.register("offers gone", order=41, due=emails.due_gone_notices, send=emails.send_gone_notice)
        worker.register("offers", order=42, due=emails.due_offers, send=emails.send_offer)


def _offer_freed_time(freed_id: int) -> bool:
    """Offer one stretch of freed time to the waiting list (its emails are counted as they go)."""
    from waitlist.services import offer_freed_time

    try:
        offer_freed_time(freed_id)
    except DatabaseError:
        raise
    except Exception:  # rolled back, retried next round; the rest must go on
        logger.exception("Offering freed time #%s failed; will retry", freed_id)
    return False

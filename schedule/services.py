"""Writes to a practitioner's calendar feed: create or regenerate its link, choose how names show."""

from collections.abc import Callable

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.history import set_change_reason, set_history_user
from clinic.models import Practitioner
from schedule.models import CalendarFeed, new_feed_token


def regenerate_feed_token(*, practitioner: Practitioner, by: AbstractBaseUser | None) -> CalendarFeed:
    """A new secret link for the practitioner's feed (the first one, or a replacement).
    The old token is overwritten in the same row, so from the commit on it finds nothing:
    the old link is refused at once, with no list of revoked tokens to keep."""

    def change(feed: CalendarFeed) -> str:
        if feed.pk is None:
            return "link created"
        feed.token, feed.rotated_at = new_feed_token(), timezone.now()
        return "link regenerated"

    return _change_feed(practitioner, change, by=by)


def set_feed_patient_names(
    *, practitioner: Practitioner, full_patient_names: bool, by: AbstractBaseUser | None
) -> CalendarFeed:
    """Full names or first name + initial in the practitioner's feed (creating the feed if needed)."""

    def change(feed: CalendarFeed) -> str:
        feed.full_patient_names = full_patient_names
        return "full patient names" if full_patient_names else "short patient names"

    return _change_feed(practitioner, change, by=by)


def _change_feed(
    practitioner: Practitioner, change: Callable[[CalendarFeed], str], *, by: AbstractBaseUser | None
) -> CalendarFeed:
    try:
        return _save_changed_feed(practitioner, change, by=by)
    except IntegrityError:
        # Two first clicks at once both found no feed and both inserted one: the loser broke
        # the one-feed-per-practitioner key. Once more: now it finds the winner's row.
        return _save_changed_feed(practitioner, change, by=by)


@transaction.atomic
def _save_changed_feed(
    practitioner: Practitioner, change: Callable[[CalendarFeed], str], *, by: AbstractBaseUser | None
) -> CalendarFeed:
    feed = CalendarFeed.objects.select_for_update().filter(practitioner=practitioner).first()
    feed = feed or CalendarFeed(practitioner=practitioner)
    set_change_reason(feed, change(feed))
    set_history_user(feed, by)
    feed.save()
    return feed

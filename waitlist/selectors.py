"""Read paths of the waiting list pages."""

from datetime import date, datetime, timedelta

from django.utils import timezone

from booking.availability import MAX_WINDOW_DAYS, Slot, available_slots, slot_at
from booking.selectors import MANAGE_TOKEN
from clinic.models import Location
from waitlist.models import WaitlistEntry, WaitlistOffer

# The waiting list's links are made as the manage links are (secrets.token_urlsafe, up to 64
# characters): anything else, a NUL above all (PostgreSQL refuses it in a query), is no link.


def local_today(location: Location, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), location.zone).date()


def free_slots_for_wish(entry: WaitlistEntry, *, first_day: date, last_day: date, now: datetime) -> list[Slot]:
    """Free times for the entry's service, location and practitioner (or anyone) on these local
    days, kept inside the entry's range, from today, within one engine window. Times of day
    are the caller's to check (entry.wants_time_of_day)."""
    first_day = max(first_day, entry.first_day, local_today(entry.location, now))
    last_day = min(last_day, entry.last_day, first_day + timedelta(days=MAX_WINDOW_DAYS - 1))
    if last_day < first_day:
        return []
    return available_slots(
        service=entry.service,
        location=entry.location,
        practitioner=entry.practitioner,
        first_day=first_day,
        last_day=last_day,
        now=now,
    )


def entry_by_token(token: str) -> WaitlistEntry | None:
    if not MANAGE_TOKEN.fullmatch(token or ""):
        return None
    return WaitlistEntry.objects.select_related("service", "location", "practitioner").filter(token=token).first()


def offer_by_token(token: str) -> WaitlistOffer | None:
    if not MANAGE_TOKEN.fullmatch(token or ""):
        return None
    return (
        WaitlistOffer.objects.select_related(
            "entry__service", "entry__location", "entry__practitioner", "location", "practitioner", "booked_appointment"
        )
        .filter(token=token)
        .first()
    )


def offered_time_is_free(offer: WaitlistOffer, *, now: datetime | None = None) -> bool:
    """Still bookable by the engine's rules, whoever was offered it and whatever they were told."""
    return (
        slot_at(
            offer.start,
            service=offer.entry.service,
            location=offer.location,
            practitioner_ids=[offer.practitioner_id],
            now=now or timezone.now(),
        )
        is not None
    )


def free_times_for(entry: WaitlistEntry, *, limit: int = 5, now: datetime | None = None) -> list[Slot]:
    """Times free right now that match the wish: the patient can book them at once, no need to wait."""
    if entry.status != WaitlistEntry.Status.WAITING or entry.is_expired:
        return []
    now = now or timezone.now()
    slots = free_slots_for_wish(entry, first_day=entry.first_day, last_day=entry.last_day, now=now)
    zone = entry.location.zone
    return [slot for slot in slots if entry.wants_time_of_day(timezone.localtime(slot.start, zone).hour)][:limit]

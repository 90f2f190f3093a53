"""Writes for the waiting list: join, leave, turn freed time into offers, book an offered time.

Booking an offered time goes through booking.services.book_appointment like every other
booking: its locks and the exclusion constraint decide who gets a time several patients
were offered (the first to confirm); the others get BookingError("slot_unavailable").
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from booking.availability import Slot, bookable_practitioners, local_instant
from booking.models import Appointment
from booking.services import BookingError, book_appointment
from clinic.history import set_change_reason
from clinic.locks import advisory_xact_lock
from clinic.models import Location, Practitioner, Service
from patients.services import PatientDetails, ScreeningAnswers
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer
from waitlist.selectors import free_slots_for_wish, local_today

# A freed time is offered to at most this many waiting patients, earliest on the list first:
# enough that one of them takes it, few enough that most are not told "it went" minutes later.
OFFERS_PER_SLOT = 5


class WaitlistError(Exception):
    """A wish the waiting list cannot take; `field` names the input to correct (or None)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Wish:
    service: Service
    location: Location
    practitioner: Practitioner | None  # None: anyone qualified
    first_day: date  # the location's calendar days, both inclusive
    last_day: date
    mornings: bool = True
    afternoons: bool = True
    evenings: bool = True


@dataclass(frozen=True)
class Contact:
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164


def latest_waiting_day(location: Location, now: datetime | None = None) -> date:
    """Bookings open BOOKING_HORIZON_DAYS ahead: no one can be offered a later time."""
    return local_today(location, now) + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def check_wish(wish: Wish, *, now: datetime | None = None) -> None:
    """Raise WaitlistError for a wish no freed time could ever match."""
    if not (wish.mornings or wish.afternoons or wish.evenings):
        raise WaitlistError("times_of_day", "Choose at least one time of day.")
    today = local_today(wish.location, now)
    if wish.first_day < today:
        raise WaitlistError("first_day", "That day has passed. Choose today or a later day.")
    if wish.last_day < wish.first_day:
        raise WaitlistError("last_day", "The last day must be on or after the first day.")
    latest = latest_waiting_day(wish.location, now)
    if wish.last_day > latest:
        raise WaitlistError(
            "last_day",
            f"Bookings open {settings.BOOKING_HORIZON_DAYS} days ahead. Choose {latest:%Y-%m-%d} or earlier.",
        )
    practitioners = bookable_practitioners(service=wish.service, location=wish.location, practitioner=wish.practitioner)
    if not practitioners.exists():
        raise WaitlistError("practitioner", "No one offers this service here. Please choose again.")


# A repeat join sends the place's link again at most this often: joining with someone's email
# must not become a way to fill their inbox.
JOINED_EMAIL_RESEND_AFTER = timedelta(minutes=15)


def join_waitlist(*, wish: Wish, contact: Contact, now: datetime | None = None) -> WaitlistEntry:
    """Put the patient on the list: one waiting entry per email, service and location.

    Joining again with an email already waiting changes nothing of that entry (whoever knows an
    email must not learn or change what its owner waits for, nor how the clinic reaches them):
    its link is emailed again to the address on file (at most every JOINED_EMAIL_RESEND_AFTER),
    and the days and times are changed only through that link (change_wish). The caller answers
    both cases alike ("check your email") and must not show the entry returned."""
    now = now or timezone.now()
    check_wish(wish, now=now)
    email = contact.email.strip()
    with transaction.atomic():
        # Look-then-insert: two joins with one email must not interleave.
        advisory_xact_lock(f"waitlist:{email.lower()}")
        entry: WaitlistEntry | None = (
            WaitlistEntry.objects.select_for_update()
            .alias(email_lower=Lower("email"))
            .filter(
                email_lower=Lower(Value(email)),
                service=wish.service,
                location=wish.location,
                status=WaitlistEntry.Status.WAITING,
            )
            .first()
        )
        if entry is not None:
            sent_at = entry.joined_email_sent_at
            if sent_at is not None and sent_at <= now - JOINED_EMAIL_RESEND_AFTER:
                entry.joined_email_sent_at = None
                set_change_reason(entry, "joined again: link emailed again")
                entry.save(update_fields=["joined_email_sent_at"])
            return entry
        entry = WaitlistEntry(
            service=wish.service,
            location=wish.location,
            first_name=contact.first_name.strip(),
            last_name=contact.last_name.strip(),
            email=email,
            phone=contact.phone,
            created_at=now,
            **_wish_fields(wish),
        )
        set_change_reason(entry, "joined")
        entry.save()
    return entry


def _wish_fields(wish: Wish) -> dict:
    return {
        "practitioner": wish.practitioner,
        "first_day": wish.first_day,
        "last_day": wish.last_day,
        "expires_at": local_instant(wish.last_day + timedelta(days=1), time(0), wish.location.zone),
        "mornings": wish.mornings,
        "afternoons": wish.afternoons,
        "evenings": wish.evenings,
    }


def change_wish(*, entry: WaitlistEntry, wish: Wish, now: datetime | None = None) -> WaitlistEntry:
    """New days, times or practitioner for a waiting entry, through its private link."""
    check_wish(wish, now=now)
    if (wish.service, wish.location) != (entry.service, entry.location):
        raise ValueError("A place on the list keeps its service and location.")
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != WaitlistEntry.Status.WAITING:
            raise WaitlistError(None, "This place on the waiting list has ended: join again from the booking page.")
        for name, value in _wish_fields(wish).items():
            setattr(locked, name, value)
        set_change_reason(locked, "days and times changed")
        locked.save()
    return locked


def leave_waitlist(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """Take the patient off the list (a state: the entry stays, for the record). Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status == WaitlistEntry.Status.WAITING:
            locked.status = WaitlistEntry.Status.LEFT
            locked.left_at = now
            set_change_reason(locked, "left the list")
            locked.save(update_fields=["status", "left_at"])
    return locked


# Offers ---------------------------------------------------------------------------------


def due_freed_times(*, batch: int = 200) -> list[int]:
    return list(FreedTime.objects.filter(processed_at__isnull=True).order_by("pk").values_list("pk", flat=True)[:batch])


def offer_freed_time(freed_id: int, *, now: datetime | None = None) -> list[WaitlistOffer]:
    """Offer what is now free inside one freed stretch to the patients waiting for it.

    Each waiting entry (earliest on the list first) is offered its earliest free time in the
    stretch that matches its wish, unless OFFERS_PER_SLOT others already have that time;
    then its next. Run by the worker; two workers never take the same stretch (SKIP LOCKED).
    Returns the offers made (their emails are sent by waitlist.notifications).
    """
    now = now or timezone.now()
    with transaction.atomic():
        freed = (
            FreedTime.objects.select_for_update(skip_locked=True).filter(pk=freed_id, processed_at__isnull=True).first()
        )
        if freed is None:
            return []
        freed.processed_at = now
        freed.save(update_fields=["processed_at"])
        if freed.end <= now:
            return []
        # A concurrent worker offering the same time to the same entry from another stretch
        # breaks waitlist_offer_once_per_entry: this transaction rolls back, the stretch is
        # taken again on the next round.
        return WaitlistOffer.objects.bulk_create(_offers_for(freed, now))


def _entries_waiting_for(freed: FreedTime, now: datetime):
    entries = (
        WaitlistEntry.objects.waiting(now)
        # A cheap bound in UTC; the exact local days are checked per entry.
        .filter(expires_at__gt=freed.start, first_day__lte=(freed.end + timedelta(days=1)).date())
        .select_related("service", "location", "practitioner")
        .order_by("created_at", "pk")
    )
    if freed.location_id is not None:
        entries = entries.filter(location_id=freed.location_id)
    if freed.practitioner_id is not None:
        entries = entries.filter(
            Q(practitioner__isnull=True) | Q(practitioner_id=freed.practitioner_id),
            location__practitioners=freed.practitioner_id,
        )
    return entries


def _offers_for(freed: FreedTime, now: datetime) -> list[WaitlistOffer]:
    """Which times to offer to whom. The time nearest the freed start comes first (the
    cancelled appointment's own time, rather than a fragment that leaves a gap no one can
    use); up to OFFERS_PER_SLOT entries share one time; a later entry is offered another
    time only if it does not overlap one already offered, so one booking never makes two
    offered times go at once."""
    offered: dict[Slot, int] = {}
    busy_until: dict[Slot, datetime] = {}  # each offered time's end plus its service's buffer
    slots_by_wish: dict[tuple, list[Slot]] = {}
    offers = []
    entries = list(_entries_waiting_for(freed, now))
    already_offered = set(
        WaitlistOffer.objects.filter(entry__in=entries, start__lt=freed.end, end__gt=freed.start).values_list(
            "entry_id", "practitioner_id", "start"
        )
    )
    for entry in entries:
        zone = entry.location.zone
        days = (timezone.localtime(freed.start, zone).date(), timezone.localtime(freed.end, zone).date())
        key = (entry.service_id, entry.location_id, entry.practitioner_id, entry.first_day, entry.last_day)
        if key not in slots_by_wish:
            # Only times this stretch freed: any other free time the patient could have booked.
            freed_now = [
                slot
                for slot in free_slots_for_wish(entry, first_day=days[0], last_day=days[1], now=now)
                if slot.start < freed.end and freed.start < slot.end
            ]
            slots_by_wish[key] = sorted(freed_now, key=lambda slot: (abs(slot.start - freed.start), slot.start))
        buffer = timedelta(minutes=entry.service.buffer_after_minutes)
        for slot in slots_by_wish[key]:
            slot_busy_until = slot.end + buffer
            if not entry.wants_time_of_day(timezone.localtime(slot.start, zone).hour):
                continue
            if (entry.pk, slot.practitioner_id, slot.start) in already_offered:
                continue
            if slot in offered:
                if offered[slot] >= OFFERS_PER_SLOT:
                    continue
            elif any(_clash(slot, slot_busy_until, other, until) for other, until in busy_until.items()):
                continue
            offered[slot] = offered.get(slot, 0) + 1
            busy_until[slot] = slot_busy_until
            offers.append(
                WaitlistOffer(
                    entry=entry,
                    location=entry.location,
                    practitioner_id=slot.practitioner_id,
                    start=slot.start,
                    end=slot.end,
                    created_at=now,
                )
            )
            break
    return offers


def _clash(one: Slot, one_busy_until: datetime, other: Slot, other_busy_until: datetime) -> bool:
    """Booking one would make the other unbookable: same practitioner, times (buffers included) overlap."""
    return (
        one.practitioner_id == other.practitioner_id and one.start < other_busy_until and other.start < one_busy_until
    )


def book_offered_time(
    *,
    offer: WaitlistOffer,
    patient_details: PatientDetails,
    screening: ScreeningAnswers,
    consent_given: bool,
    consent_version: str | None,
    now: datetime | None = None,
) -> Appointment:
    """Book the offered time for the patient through book_appointment; the first of those
    offered it to confirm wins. Their entry is then done (status booked).

    Raises BookingError: offer_closed (they left the list), offer_used (already booked through
    this offer), or any of book_appointment's (slot_unavailable when someone was faster).
    """
    with transaction.atomic():
        # The offer row first, then book_appointment's practitioner lock: two clicks on one
        # offer queue here and the second sees the first's booking.
        locked = (
            WaitlistOffer.objects.select_for_update(of=("self",))
            .select_related("entry", "entry__service", "location")
            .get(pk=offer.pk)
        )
        if locked.booked_appointment_id is not None:
            raise BookingError("offer_used", "You have booked this time already: see your confirmation email.")
        if locked.entry.status == WaitlistEntry.Status.LEFT:
            raise BookingError("offer_closed", "You left the waiting list, so this offer is closed.")
        appointment = book_appointment(
            service=locked.entry.service,
            location=locked.location,
            practitioner=locked.practitioner,
            start=locked.start,
            patient_details=patient_details,
            screening=screening,
            consent_given=consent_given,
            consent_version=consent_version,
            now=now,
        )
        locked.booked_appointment = appointment
        locked.save(update_fields=["booked_appointment"])
        entry = WaitlistEntry.objects.select_for_update().get(pk=locked.entry_id)
        if entry.status == WaitlistEntry.Status.WAITING:
            entry.status = WaitlistEntry.Status.BOOKED
            set_change_reason(entry, f"booked an offered time ({appointment.reference})")
            entry.save(update_fields=["status"])
    return appointment

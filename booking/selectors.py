"""Read paths of the booking pages: the wizard's choices, days of free times, a booking by its link."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.http import urlencode

from booking.availability import MAX_WINDOW_DAYS, Slot, available_slots, bookable_practitioners
from booking.models import Appointment
from clinic.models import Location, Practitioner, PractitionerService, Service

ANYONE = "any"


@dataclass
class Choice:
    """What the patient has picked so far in the wizard; invalid picks are dropped."""

    service: Service | None = None
    location: Location | None = None
    practitioner: Practitioner | None = None  # None with practitioner_chosen: anyone
    practitioner_chosen: bool = False

    @property
    def service_slug(self) -> str:
        return self.service.slug if self.service else ""

    @property
    def location_slug(self) -> str:
        return self.location.slug if self.location else ""

    @property
    def practitioner_slug(self) -> str:
        if not self.practitioner_chosen:
            return ""
        return self.practitioner.slug if self.practitioner else ANYONE

    @property
    def query(self) -> str:
        """The choices so far as a query string, for the wizard's links."""
        params = {"service": self.service_slug, "location": self.location_slug, "practitioner": self.practitioner_slug}
        return urlencode({name: value for name, value in params.items() if value})


@dataclass
class Day:
    date: date
    slots: list[Slot] = field(default_factory=list)


def resolve_choice(*, service: str, location: str, practitioner: str) -> Choice:
    choice = Choice()
    choice.service = bookable_services().filter(slug=service).first() if service else None
    if choice.service is None:
        return choice
    choice.location = locations_offering(choice.service).filter(slug=location).first() if location else None
    if choice.location is None:
        return choice
    if practitioner == ANYONE:
        choice.practitioner_chosen = True
    elif practitioner:
        choice.practitioner = (
            bookable_practitioners(service=choice.service, location=choice.location).filter(slug=practitioner).first()
        )
        choice.practitioner_chosen = choice.practitioner is not None
    return choice


def bookable_services() -> QuerySet[Service]:
    return Service.objects.active().filter(
        Exists(
            PractitionerService.objects.filter(
                service=OuterRef("pk"), practitioner__is_active=True, practitioner__locations__is_active=True
            )
        )
    )


def locations_offering(service: Service) -> QuerySet[Location]:
    return Location.objects.active().filter(
        Exists(Practitioner.objects.active().filter(locations=OuterRef("pk"), qualifications__service=service))
    )


def needle_free_services() -> QuerySet[Service]:
    return bookable_services().filter(kind=Service.Kind.TREATMENT, uses_needles=False)


def new_patient_services() -> QuerySet[Service]:
    return bookable_services().filter(who_can_book=Service.WhoCanBook.NEW)


def parse_start(raw: str) -> datetime | None:
    """An ISO 8601 instant with an offset, in UTC, between now and the horizon; None otherwise."""
    try:
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            return None
        parsed = parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):  # OverflowError: year 1 at +01:00
        return None
    now = timezone.now()
    if not now <= parsed <= now + timedelta(days=settings.BOOKING_HORIZON_DAYS + 1):
        return None
    return parsed


def group_by_local_day(slots: list[Slot], location: Location, first_day: date, days: int) -> list[Day]:
    by_day = {first_day + timedelta(days=offset): Day(first_day + timedelta(days=offset)) for offset in range(days)}
    for slot in slots:
        local_day = timezone.localtime(slot.start, location.zone).date()
        if local_day in by_day:
            by_day[local_day].slots.append(slot)
    return list(by_day.values())


def days_with_slots(
    *,
    service: Service,
    location: Location,
    practitioner: Practitioner | None,
    first_day: date,
    days: int,
    ignoring_appointment_id: int | None = None,
) -> list[Day]:
    slots = available_slots(
        service=service,
        location=location,
        practitioner=practitioner,
        first_day=first_day,
        last_day=first_day + timedelta(days=days - 1),
        ignoring_appointment_id=ignoring_appointment_id,
    )
    return group_by_local_day(slots, location, first_day, days)


def next_free_slot(*, choice: Choice, after: date) -> Slot | None:
    today = timezone.localtime(timezone.now(), choice.location.zone).date()
    last_day = min(after + timedelta(days=MAX_WINDOW_DAYS - 1), today + timedelta(days=settings.BOOKING_HORIZON_DAYS))
    if last_day < after:
        return None
    slots = available_slots(
        service=choice.service,
        location=choice.location,
        practitioner=choice.practitioner,
        first_day=after,
        last_day=last_day,
    )
    return slots[0] if slots else None


def nearest_slots(*, choice: Choice, around: datetime, count: int = 6) -> list[Slot]:
    """Free times closest to one that was just taken: the same day first, then the next days."""
    local_day = timezone.localtime(around, choice.location.zone).date()
    today = timezone.localtime(timezone.now(), choice.location.zone).date()
    first_day = max(today, local_day - timedelta(days=3))
    slots = available_slots(
        service=choice.service,
        location=choice.location,
        practitioner=choice.practitioner,
        first_day=first_day,
        last_day=first_day + timedelta(days=13),
    )
    return sorted(sorted(slots, key=lambda slot: abs(slot.start - around))[:count], key=lambda slot: slot.start)


def appointment_by_token(token: str) -> Appointment | None:
    if not token or len(token) > 64:
        return None
    return (
        Appointment.objects.select_related("service", "location", "practitioner", "patient")
        .filter(manage_token=token)
        .first()
    )


def availability_request_lookup(
    *, service_slug: str | None, location_slug: str | None
) -> tuple[int, Service | None, Location | None]:
    """The schedule version and the active service and location an availability request names.

    One hand-written query on the hottest path: a cached answer then costs one round-trip,
    and building ORM querysets would cost more than the answer itself (measured: 1.4 ms of
    ORM compilation against 0.1 ms of SQL). Only the fields the engine needs are loaded.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (SELECT last_value FROM booking_schedule_version),
                   s.id, s.slug, s.duration_minutes, s.buffer_after_minutes,
                   l.id, l.slug, l.timezone
            FROM (SELECT 1) AS one
            LEFT JOIN clinic_service AS s ON s.slug = %s AND s.is_active
            LEFT JOIN clinic_location AS l ON l.slug = %s AND l.is_active
            """,
            [service_slug, location_slug],
        )
        version, service_id, s_slug, duration, buffer_after, location_id, l_slug, zone_name = cursor.fetchone()
    service = (
        Service(id=service_id, slug=s_slug, duration_minutes=duration, buffer_after_minutes=buffer_after)
        if service_id is not None
        else None
    )
    location = Location(id=location_id, slug=l_slug, timezone=zone_name) if location_id is not None else None
    return version, service, location

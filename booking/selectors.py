"""Read paths of the booking pages: the wizard's choices, days of free times, a booking by its link."""

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import slug_re
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.http import urlencode

from booking.availability import MAX_WINDOW_DAYS, BookingRules, Slot, available_slots, bookable_practitioners
from booking.models import MANAGE_TOKEN_RE, Appointment, TimeOff, TreatmentSeries
from clinic.models import Location, Practitioner, PractitionerService, Service
from clinic.prepared import PreparedStatement
from clinic.selectors import follow_up_service_for
from clinic.zones import known_zone, patient_clock_words
from patients.models import Screening
from patients.services import current_consent

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

ANYONE = "any"


@dataclass
class Choice:
    """What the patient has picked so far in the wizard; invalid picks are dropped."""

    service: Service | None = None
    location: Location | None = None
    practitioner: Practitioner | None = None  # None with practitioner_chosen: anyone
    practitioner_chosen: bool = False
    # A practitioner asked for before the service and place ("Book with Maya"): it narrows the
    # treatments and places offered, and becomes the choice once those are made.
    wanted: Practitioner | None = None
    # Steps the wizard made itself because there was nothing to choose: the only place giving
    # the service (always the phone line for a phone call), the only practitioner there.
    location_was_the_only_one: bool = False
    practitioner_was_the_only_one: bool = False
    # "Have you been treated here before?" answered yes, for a service for returning patients.
    returning: bool = False
    # A phone call's times on the caller's own clock (from their browser, or chosen on the
    # times page); None: the location's.
    caller_zone: ZoneInfo | None = None

    @property
    def clock(self) -> ZoneInfo:
        """The zone the wizard shows times in."""
        assert self.location is not None  # read from the times step on, once a location is chosen
        return self.caller_zone or self.location.zone

    @functools.cached_property
    def clock_words(self) -> str:
        """That clock as a patient says it: "Calgary time"."""
        assert self.location is not None  # read from the times step on, once a location is chosen
        return patient_clock_words(self.caller_zone, self.location)

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
        return self.query_with()

    def query_with(self, **changes: str) -> str:
        """The query string with one more choice, e.g. query_with(service="cupping")."""
        practitioner = self.practitioner_slug or (self.wanted.slug if self.wanted else "")
        params = {"service": self.service_slug, "location": self.location_slug, "practitioner": practitioner}
        if self.returning:
            params["returning"] = "yes"
        if self.caller_zone is not None:
            params["zone"] = self.caller_zone.key
        params.update(changes)
        return urlencode({name: value for name, value in params.items() if value})


@dataclass
class Day:
    date: date
    slots: list[Slot] = field(default_factory=list)


def resolve_choice(*, service: str, location: str, practitioner: str) -> Choice:
    # A link may carry anything; what is no slug (a NUL above all, which PostgreSQL refuses in
    # a query) names nothing.
    service, location, practitioner = (
        value if slug_re.match(value or "") else "" for value in (service, location, practitioner)
    )
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


def wizard_choice(*, service: str, location: str, practitioner: str, returning: str = "", zone: str = "") -> Choice:
    """resolve_choice for the patient's wizard, which also asks nothing it can answer itself:
    a practitioner named before the service narrows what is offered; the only place offering
    the service is taken (a phone call is always on the phone line, never at an address); the
    practitioner is anyone qualified unless named (the times page lets the patient narrow it),
    or the only one giving it there, and the page says who it will be."""
    choice = resolve_choice(service=service, location=location, practitioner=practitioner)
    choice.returning = returning == "yes" and choice.service is not None and choice.service.is_for_returning_patients
    if choice.service is not None and choice.service.is_by_phone:
        choice.caller_zone = known_zone(zone)
    if choice.practitioner_chosen:
        return choice
    wanted_slug = practitioner if slug_re.match(practitioner or "") and practitioner != ANYONE else ""
    wanted = Practitioner.objects.active().filter(slug=wanted_slug).first() if wanted_slug else None
    if choice.service is None:
        choice.wanted = wanted
        return choice
    if wanted is not None and not wanted.qualifications.filter(service=choice.service).exists():
        wanted = None  # a link naming a practitioner and a service they do not give: the service wins
    choice.wanted = wanted
    if choice.location is None:
        places = wizard_locations(choice)
        if choice.service.is_by_phone:
            places = places.order_by("-is_by_phone", "display_order", "name")[:1]
        candidates = list(places[:2])
        if len(candidates) != 1:
            return choice
        choice.location, choice.location_was_the_only_one = candidates[0], True
    practitioners = bookable_practitioners(service=choice.service, location=choice.location)
    if wanted is not None:
        choice.practitioner = practitioners.filter(pk=wanted.pk).first()
        choice.practitioner_chosen = choice.practitioner is not None
    if not choice.practitioner_chosen:
        # Anyone qualified unless the patient narrows it on the times page: no step of its own.
        only = list(practitioners[:2])
        choice.practitioner_chosen = True
        if len(only) == 1:
            choice.practitioner, choice.practitioner_was_the_only_one = only[0], True
    return choice


def wizard_locations(choice: Choice) -> QuerySet[Location]:
    """The places offering the chosen service, with the wanted practitioner if there is one."""
    assert choice.service is not None  # the location step comes after the service
    places = locations_offering(choice.service)
    return places.filter(practitioners=choice.wanted) if choice.wanted is not None else places


def bookable_services(*, practitioner: Practitioner | None = None) -> QuerySet[Service]:
    """Services someone active gives somewhere open; only `practitioner`'s when given."""
    givers = PractitionerService.objects.filter(
        service=OuterRef("pk"), practitioner__is_active=True, practitioner__locations__is_active=True
    )
    if practitioner is not None:
        givers = givers.filter(practitioner=practitioner)
    return Service.objects.active().filter(Exists(givers))


def locations_offering(service: Service) -> QuerySet[Location]:
    locations = Location.objects.active().filter(
        Exists(Practitioner.objects.active().filter(locations=OuterRef("pk"), qualifications__service=service))
    )
    # The same rule as bookable_practitioners: treatments are never offered "by phone".
    return locations if service.is_by_phone else locations.filter(is_by_phone=False)


def needle_free_services() -> QuerySet[Service]:
    return bookable_services().filter(kind=Service.Kind.TREATMENT, uses_needles=False)


def new_patient_services() -> QuerySet[Service]:
    return bookable_services().filter(who_can_book=Service.WhoCanBook.NEW)


def first_visit_for(service: Service, location: Location) -> Service | None:
    """What a newcomer books instead of a follow-up there: the initial visit it follows, else
    the first new-patient service offered at that place."""
    offered = new_patient_services().filter(
        Exists(Practitioner.objects.active().filter(locations=location, qualifications__service=OuterRef("pk")))
    )
    return offered.filter(follow_up_service=service).first() or offered.first()


def parse_instant(raw: str) -> datetime | None:
    """An ISO 8601 instant with an offset, in UTC; None for anything else."""
    try:
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            return None
        return parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):  # OverflowError: year 1 at +01:00
        return None


def parse_start(raw: str, *, rules: BookingRules | None = None) -> datetime | None:
    """A start a page offered: an ISO 8601 instant with an offset, in UTC, within reach of the
    rules (the patients' unless staff's); None for anything else. Whether it is free, and still
    bookable, is the booking services' to say."""
    parsed = parse_instant(raw)
    rules = rules or BookingRules.from_settings()
    if parsed is None or not rules.within_reach(parsed, now=timezone.now()):
        return None
    return parsed


def group_by_local_day(slots: list[Slot], zone: ZoneInfo, first_day: date, days: int) -> list[Day]:
    by_day = {first_day + timedelta(days=offset): Day(first_day + timedelta(days=offset)) for offset in range(days)}
    for slot in slots:
        local_day = timezone.localtime(slot.start, zone).date()
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
    rules: BookingRules | None = None,
    zone: ZoneInfo | None = None,
) -> list[Day]:
    """The free times of `days` days from `first_day`, by day on `zone`'s clock (a caller's),
    else the location's."""
    shift = timedelta(days=0 if zone is None or zone == location.zone else 1)
    slots = available_slots(
        service=service,
        location=location,
        practitioner=practitioner,
        # A caller's day can start the location's day before, or end on its day after.
        first_day=first_day - shift,
        last_day=first_day + timedelta(days=days - 1) + shift,
        ignoring_appointment_id=ignoring_appointment_id,
        rules=rules,
    )
    return group_by_local_day(slots, zone or location.zone, first_day, days)


def next_free_slot(*, choice: Choice, after: date, rules: BookingRules | None = None) -> Slot | None:
    assert choice.service is not None and choice.location is not None  # the times step comes after both
    rules = rules or BookingRules.from_settings()
    today = timezone.localtime(timezone.now(), choice.location.zone).date()
    last_day = min(after + timedelta(days=MAX_WINDOW_DAYS - 1), today + timedelta(days=rules.horizon.days))
    if last_day < after:
        return None
    slots = available_slots(
        service=choice.service,
        location=choice.location,
        practitioner=choice.practitioner,
        first_day=after,
        last_day=last_day,
        rules=rules,
    )
    return slots[0] if slots else None


def nearest_slots(*, choice: Choice, around: datetime, count: int = 6) -> list[Slot]:
    """Free times closest to one that was just taken: the same day first, then the next days."""
    assert choice.service is not None and choice.location is not None  # a time was chosen: so were both
    first_day, last_day = days_near(around, choice.location, now=timezone.now())
    slots = available_slots(
        service=choice.service,
        location=choice.location,
        practitioner=choice.practitioner,
        first_day=first_day,
        last_day=last_day,
    )
    return sorted(sorted(slots, key=lambda slot: abs(slot.start - around))[:count], key=lambda slot: slot.start)


def days_near(around: datetime, location: Location, *, now: datetime) -> tuple[date, date]:
    """The local days nearest_slots looks in: from three days before `around` (but not before
    today) for two weeks."""
    local_day = timezone.localtime(around, location.zone).date()
    today = timezone.localtime(now, location.zone).date()
    first_day = max(today, local_day - timedelta(days=3))
    return first_day, first_day + timedelta(days=13)


# Anything else, a NUL above all (which PostgreSQL refuses in a query), is no token.
MANAGE_TOKEN = re.compile(MANAGE_TOKEN_RE)


def appointment_by_token(token: str) -> Appointment | None:
    if not MANAGE_TOKEN.fullmatch(token or ""):
        return None
    return (
        Appointment.objects.select_related(
            "service__follow_up_service",
            "location",
            "practitioner",
            "patient",
            "consent",
            "screening",
            # Its own follow-ups, or the series it is part of: shown on its manage page.
            "follow_up_series",
            "series",
        )
        .filter(manage_token=token)
        .first()
    )


# Treatment series ("book my follow-ups") -------------------------------------------------

SERIES_ALTERNATIVES = 4  # other times offered for each week that is not booked
# Taken by someone else, time off, or outside the practitioner's hours: the patient need not know which.
NOT_FREE = "{practitioner} was not free at that time."


def follow_up_service_offered(appointment: Appointment) -> Service | None:
    """The service "book my follow-ups" books after this appointment, or None when it is not
    offered: only after a confirmed treatment that is not itself a visit of a series (whose next
    weeks are booked already), that has its screening answers (they are copied to the
    follow-ups), and whose practitioner gives the follow-up service at its location.
    One query, with appointment_by_token's select_related."""
    if appointment.status != Appointment.Status.CONFIRMED or appointment.series_id is not None:
        return None
    follow_up = follow_up_service_for(appointment.service)
    if follow_up is None or screening_or_none(appointment) is None:
        return None
    qualified = bookable_practitioners(
        service=follow_up, location=appointment.location, practitioner=appointment.practitioner
    ).exists()
    return follow_up if qualified else None


def series_of(appointment: Appointment) -> TreatmentSeries | None:
    """The follow-ups booked from this appointment, with what series_overview reads. One query."""
    series = (
        TreatmentSeries.objects.select_related("service", "location", "practitioner", "consent")
        .filter(source_appointment=appointment)
        .first()
    )
    if series is not None:
        series.source_appointment = appointment  # loaded already: not read again
    return series


@dataclass
class SeriesSession:
    """One session of a series: its live visit, or why there is none and other times to choose."""

    number: int
    wanted_start: datetime
    appointment: Appointment | None = None
    not_booked_reason: str = ""
    alternatives: list[Slot] = field(default_factory=list)
    not_open_yet: bool = False  # beyond the booking horizon: it can be booked later


@dataclass
class SeriesOverview:
    series: TreatmentSeries
    sessions: list[SeriesSession]
    # Other times are booked under the consent given for the series: not once it has changed.
    consent_changed: bool

    @property
    def booked_count(self) -> int:
        return sum(1 for session in self.sessions if session.appointment is not None)


def series_overview(
    series: TreatmentSeries, *, with_alternatives: bool = True, now: datetime | None = None
) -> SeriesOverview:
    """Every session of the series: its live visit (moved or not), or why it is not booked and
    (`with_alternatives`) the nearest free times of the series' practitioner around the time
    asked for.

    At most 10 queries, however many sessions: the visits, the patient's other appointments,
    the consent, the qualified practitioner, and one availability run (three queries) per
    62 days of weeks to fill: two at the most, for six sessions every two weeks. Two without
    alternatives. series_of loads what it reads of the series."""
    now = now or timezone.now()
    zone = series.location.zone
    today = timezone.localtime(now, zone).date()
    horizon = now + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    visits = list(series.appointments.order_by("pk"))
    live = {visit.series_session: visit for visit in visits if visit.status in Appointment.LIVE_STATUSES}
    latest = {visit.series_session: visit for visit in visits}  # each session's last booked visit

    sessions = [
        SeriesSession(number=number, wanted_start=start, appointment=live.get(number))
        for number, start in enumerate(series.wanted_starts, start=1)
    ]
    missing = [session for session in sessions if session.appointment is None]
    if not missing:
        return SeriesOverview(series=series, sessions=sessions, consent_changed=False)

    patient_busy = list(
        Appointment.objects.live()
        .filter(patient_id=series.source_appointment.patient_id)
        .overlapping(min(s.wanted_start for s in missing), max(s.wanted_start for s in missing) + timedelta(days=1))
        .values_list("start", "end")
    )
    duration = timedelta(minutes=series.service.duration_minutes)
    for session in missing:
        session.not_open_yet = session.wanted_start > horizon
        session.not_booked_reason = _why_not_booked(
            session, latest.get(session.number), series, patient_busy, duration=duration, now=now, horizon=horizon
        )

    if not with_alternatives:
        return SeriesOverview(series=series, sessions=sessions, consent_changed=False)
    upcoming = [session for session in missing if timezone.localtime(session.wanted_start, zone).date() >= today]
    not_free = NOT_FREE.format(practitioner=series.practitioner.name)
    for session, slots in _alternatives_for(series, upcoming, now=now):
        session.alternatives = slots
        if session.not_booked_reason == not_free and session.wanted_start in {slot.start for slot in slots}:
            session.not_booked_reason = f"{not_free} It is free now."  # freed since: offered first
    consent_changed = current_consent().version != series.consent.version
    return SeriesOverview(series=series, sessions=sessions, consent_changed=consent_changed)


def _why_not_booked(session, last_visit, series, patient_busy, *, duration, now, horizon) -> str:
    start, end = session.wanted_start, session.wanted_start + duration
    if last_visit is not None and last_visit.status == Appointment.Status.CANCELLED:
        return "Cancelled."
    if last_visit is not None and last_visit.status == Appointment.Status.NO_SHOW:
        return "Missed."
    if start < now:
        return "This time has passed."
    if start > horizon:
        opens = timezone.localtime(start - timedelta(days=settings.BOOKING_HORIZON_DAYS), series.location.zone)
        return (
            f"Bookings open {settings.BOOKING_HORIZON_DAYS} days ahead: this week can be booked "
            f"from {opens:%A} {opens.day} {opens:%B}."
        )
    if any(busy_start < end and start < busy_end for busy_start, busy_end in patient_busy):
        return "You already have an appointment at that time."
    return NOT_FREE.format(practitioner=series.practitioner.name)


def _alternatives_for(series: TreatmentSeries, sessions: list[SeriesSession], *, now: datetime):
    """(session, its nearest free times) for each session, from one availability run per
    stretch of at most MAX_WINDOW_DAYS days rather than one per session."""
    if not sessions:
        return []
    practitioner_ids = list(
        bookable_practitioners(
            service=series.service, location=series.location, practitioner=series.practitioner
        ).values_list("pk", flat=True)
    )
    if not practitioner_ids:
        return []
    windows = [(session, *days_near(session.wanted_start, series.location, now=now)) for session in sessions]
    stretches: list[list[date]] = []  # [first day, last day], windows merged while they fit
    for _session, first_day, last_day in windows:
        if stretches and (last_day - stretches[-1][0]).days < MAX_WINDOW_DAYS:
            stretches[-1][1] = max(stretches[-1][1], last_day)
        else:
            stretches.append([first_day, last_day])
    slots = [
        slot
        for first_day, last_day in stretches
        for slot in available_slots(
            service=series.service,
            location=series.location,
            practitioner=series.practitioner,
            first_day=first_day,
            last_day=last_day,
            now=now,
            practitioner_ids=practitioner_ids,
        )
    ]
    zone = series.location.zone
    return [
        (
            session,
            closest_to_routine(
                [slot for slot in slots if first_day <= timezone.localtime(slot.start, zone).date() <= last_day],
                around=session.wanted_start,
                zone=zone,
            ),
        )
        for session, first_day, last_day in windows
    ]


def closest_to_routine(slots: list[Slot], *, around: datetime, zone: ZoneInfo) -> list[Slot]:
    """The SERIES_ALTERNATIVES slots nearest a weekly visit's time, in time order: the same day
    first, then the same time of day on the nearest days (a patient keeping a weekly routine
    would rather move a day than come in the evening before)."""
    wanted = timezone.localtime(around, zone)

    def distance(slot: Slot) -> tuple[int, int]:
        local = timezone.localtime(slot.start, zone)
        minutes_apart = abs((local.hour * 60 + local.minute) - (wanted.hour * 60 + wanted.minute))
        return abs((local.date() - wanted.date()).days), minutes_apart

    return sorted(sorted(slots, key=distance)[:SERIES_ALTERNATIVES], key=lambda slot: slot.start)


@dataclass(frozen=True)
class AvailabilityRequest:
    """What an availability request names, as the database has it now: the active service and
    location (None when unknown), the practitioners who may be offered in the clinic's order
    (bookable_practitioners, narrowed to the one asked for), and the schedule stamps of all
    three, which change whenever anything the answer reads for them does (migration booking 0016).

    The service and location rows become model instances only when asked for: a cached answer
    needs their ids alone, and the two instances (a phone number parsed) were a sixth of its cost."""

    service_row: tuple
    location_row: tuple
    practitioner_ids: list[int]
    practitioner_slugs: list[str]
    stamps: tuple[int, ...]
    # The catalogue's stamp when these rows were read: what the process may keep is checked by it.
    catalogue_stamp: int | None = None

    @property
    def service_id(self) -> int | None:
        return self.service_row[0]

    @property
    def location_id(self) -> int | None:
        return self.location_row[0]

    @functools.cached_property
    def service(self) -> Service | None:
        return _loaded(Service, _SERVICE_FIELDS, self.service_row)

    @functools.cached_property
    def location(self) -> Location | None:
        return _loaded(Location, _LOCATION_FIELDS, self.location_row)

    def cache_key_parts(self) -> tuple:
        return (self.stamps, tuple(self.practitioner_ids), tuple(self.practitioner_slugs))


def availability_request(
    *, service_slug: str | None, location_slug: str | None, practitioner_slug: str
) -> AvailabilityRequest:
    """One hand-written query on the hottest path: a cached answer then costs one round trip,
    and building ORM querysets would cost more than the answer itself (measured: 1.4 ms of
    ORM compilation against 0.1 ms of SQL). Every column is read and the rows become model
    instances through the ORM's own loader (Model.from_db), never half-built by hand: a
    field left to its default (Location.is_by_phone once) changes what the engine offers.
    tests/booking/test_availability_request.py holds it to bookable_practitioners' answer.

    What the slugs name is kept in the process once found, and then only the stamps are read
    (a primary-key lookup, 0.03 ms against the join's 0.09), with the catalogue's ('c', migration
    booking 0019): unchanged, what was kept still holds; else the join runs again. The catalogue
    stamp is not part of an answer's cache key: a new service stales no answer about another."""
    wanted = (service_slug, location_slug, practitioner_slug)
    known = _known_requests.get(wanted)
    if known is not None:
        with connection.cursor() as cursor:
            _STAMPS.execute(
                cursor,
                {"service": known.service_id, "location": known.location_id, "ids": known.practitioner_ids},
            )
            catalogue, stamps = cursor.fetchone()
        if catalogue == known.catalogue_stamp:
            return dataclasses.replace(known, stamps=tuple(stamps or ()))
    with connection.cursor() as cursor:
        _AVAILABILITY_REQUEST.execute(
            cursor,
            {
                "service": service_slug,
                "location": location_slug,
                "practitioner": practitioner_slug,
                "by_phone": Service.Kind.DISCOVERY_CALL.value,
            },
        )
        row = cursor.fetchone()
    ids, slugs, catalogue, stamps = row[-4:]
    service_row, location_row = row[: len(_SERVICE_FIELDS)], row[len(_SERVICE_FIELDS) : -4]
    asked = AvailabilityRequest(
        service_row=service_row,
        location_row=location_row,
        practitioner_ids=ids or [],
        practitioner_slugs=slugs or [],
        stamps=tuple(stamps or ()),
        catalogue_stamp=catalogue,
    )
    if asked.practitioner_ids and catalogue is not None and len(_known_requests) < _KNOWN_REQUESTS_MAX:
        # Only what exists (a service, a location and someone to offer): bounded by the catalogue.
        _known_requests[wanted] = dataclasses.replace(asked)
    return asked


# (service slug, location slug, practitioner slug or "any") → what they named, with the stamps
# read then; each gunicorn thread may read and write it (single dict operations).
_known_requests: dict[tuple[str | None, str | None, str], AvailabilityRequest] = {}
_KNOWN_REQUESTS_MAX = 10_000


def _loaded(model, fields, values):
    if values[0] is None:  # the id: no such active row
        return None
    return model.from_db(connection.alias, [field.attname for field in fields], list(values))


def _stamps_of(*, service: str, location: str, practitioners: str) -> str:
    """Two columns: the catalogue's stamp, and the stamps an answer about this service, location
    and practitioners reads, in one fixed order (both of availability_request's statements)."""
    return f"""(SELECT version FROM booking_schedule_stamp WHERE kind = 'c' AND object_id = 0),
           (SELECT array_agg(version ORDER BY kind, object_id) FROM booking_schedule_stamp AS stamp
            WHERE stamp.kind = 'g' OR (stamp.kind = 's' AND stamp.object_id = {service})
               OR (stamp.kind = 'l' AND stamp.object_id = {location})
               OR (stamp.kind = 'p' AND stamp.object_id = ANY({practitioners})))"""  # noqa: S608 (expressions written here)


_SERVICE_FIELDS = Service._meta.concrete_fields
_LOCATION_FIELDS = Location._meta.concrete_fields
_AVAILABILITY_REQUEST_SQL = f"""
    SELECT {", ".join(f's."{field.column}"' for field in _SERVICE_FIELDS)},
           {", ".join(f'l."{field.column}"' for field in _LOCATION_FIELDS)},
           candidates.ids, candidates.slugs,
           {_stamps_of(service="s.id", location="l.id", practitioners="candidates.ids")}
    FROM (SELECT 1) AS one
    LEFT JOIN clinic_service AS s ON s.slug = %(service)s AND s.is_active
    LEFT JOIN clinic_location AS l ON l.slug = %(location)s AND l.is_active
    LEFT JOIN LATERAL (
        SELECT array_agg(p.id ORDER BY p.display_order, p.name, p.id) AS ids,
               array_agg(p.slug ORDER BY p.display_order, p.name, p.id) AS slugs
        FROM clinic_practitioner AS p
        JOIN clinic_practitioner_locations AS pl ON pl.practitioner_id = p.id AND pl.location_id = l.id
        JOIN clinic_practitionerservice AS q ON q.practitioner_id = p.id AND q.service_id = s.id
        WHERE p.is_active AND (%(practitioner)s = 'any' OR p.slug = %(practitioner)s)
          AND (NOT l.is_by_phone OR s.kind = %(by_phone)s)
    ) AS candidates ON true
"""  # noqa: S608 (column names from the models' own metadata, values as parameters)
_AVAILABILITY_REQUEST = PreparedStatement("clinic_availability_request", _AVAILABILITY_REQUEST_SQL)
# The same two columns for rows already known.
_STAMPS = PreparedStatement(
    "clinic_availability_stamps",
    f"SELECT {_stamps_of(service='%(service)s', location='%(location)s', practitioners='%(ids)s')}",
)


# The reception's day sheet ---------------------------------------------------------------


class NewPatientFlag(TypedDict):
    is_new_patient: bool


if TYPE_CHECKING:
    AppointmentWithNewPatientFlag = WithAnnotations[Appointment, NewPatientFlag]


def with_new_patient_flag(appointments: QuerySet[Appointment]) -> "QuerySet[AppointmentWithNewPatientFlag]":
    """Annotate `is_new_patient`: a treatment with no earlier live treatment of the same patient
    (the first visit: an initial assessment to prepare for), and not booked by reception as a
    returning patient the system has no record of (returning_patient_reason). One subquery, no
    query per row."""
    earlier_treatment = Appointment.objects.live().filter(
        patient=OuterRef("patient"), service__kind=Service.Kind.TREATMENT, start__lt=OuterRef("start")
    )
    return appointments.annotate(
        is_new_patient=ExpressionWrapper(
            Q(service__kind=Service.Kind.TREATMENT, returning_patient_reason="") & ~Exists(earlier_treatment),
            output_field=BooleanField(),
        )
    )


@dataclass(frozen=True)
class ScreeningFlag:
    field: str
    badge: str  # the words on the day sheet's badge: always visible, never a symbol alone
    label: str  # the whole answer, for the legend and the tooltip


# The badges' words are the patient record's (Screening.flags). No emoji: without an emoji
# font they draw as empty boxes, and the day sheet would show nothing at all.
SCREENING_FLAGS = [
    ScreeningFlag("pregnant", "Pregnant", "Pregnant or possibly pregnant"),
    ScreeningFlag("blood_thinners", "Blood thinners", "Takes blood thinners"),
    ScreeningFlag("bleeding_disorder", "Bleeding disorder", "Bleeding disorder"),
    ScreeningFlag("needle_fear", "Needle fear", "Strong fear of needles"),
]


def clipped_to_day(time_off: TimeOff, day_start: datetime, day_end: datetime, clock) -> str:
    starts_before, ends_after = time_off.start <= day_start, time_off.end >= day_end
    if starts_before and ends_after:
        return "all day"
    if starts_before:
        return f"until {clock(time_off.end)}"
    if ends_after:
        return f"from {clock(time_off.start)}"
    return f"{clock(time_off.start)}–{clock(time_off.end)}"


def screening_or_none(appointment: Appointment) -> Screening | None:
    # select_related caches a missing reverse one-to-one as absent: no query either way.
    try:
        return appointment.screening
    except Screening.DoesNotExist:
        return None


def upcoming_time_off(*, practitioner: Practitioner, now: datetime) -> QuerySet[TimeOff]:
    """The practitioner's own time off not yet over (begun or to come), earliest first, with
    the location whose zone it was typed in. One query (time_off_zone needs
    practitioner.locations prefetched to add none per row)."""
    return TimeOff.objects.filter(practitioner=practitioner, end__gt=now).select_related("location").order_by("start")


def appointments_during_time_off(time_off: TimeOff) -> QuerySet[Appointment]:
    """Live appointments that the time off (a practitioner's, or a location's closure) covers."""
    appointments = Appointment.objects.live().filter(start__lt=time_off.end, end__gt=time_off.start)
    if time_off.practitioner_id:
        appointments = appointments.filter(practitioner_id=time_off.practitioner_id)
    if time_off.location_id:
        appointments = appointments.filter(location_id=time_off.location_id)
    return appointments.select_related("location").order_by("start")

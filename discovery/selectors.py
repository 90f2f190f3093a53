"""Read paths for discovery calls, and when we promise to call back.

Call-back times are weekday windows on the caller's clock: "afternoon" is their afternoon,
whether they are in Calgary or Columbus. Their zone comes from their browser when it says,
else from their number, else they choose it (discovery.forms); older requests without one,
and anything without a caller, are on the clinic's clock: the zone of the location that takes
calls "by phone" (or, without one, the first clinic's). No public holidays are known to us;
a call promised on one is made on the next working day.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.http import urlencode

from booking.selectors import bookable_services, locations_offering
from clinic.clock import staff_time_range
from clinic.models import Condition, Location, Service
from clinic.selectors import clinic_premises
from clinic.zones import known_zone, zone_words
from discovery.models import DiscoveryCallRequest

BestTime = DiscoveryCallRequest.BestTime

# The local start and end of each best-time window (weekdays only).
CALL_WINDOWS: dict[str, tuple[time, time]] = {
    BestTime.MORNING: (time(9), time(12)),
    BestTime.AFTERNOON: (time(12), time(17)),
    BestTime.EVENING: (time(17), time(19)),
}
CALL_WINDOW_WORDS: dict[str, str] = {
    BestTime.MORNING: "in the morning, between 9 am and 12 pm",
    BestTime.AFTERNOON: "in the afternoon, between 12 and 5 pm",
    BestTime.EVENING: "in the early evening, between 5 and 7 pm",
}
# A call promised "today" leaves reception at least this long to see the request first.
SAME_DAY_NOTICE = timedelta(hours=1)
SATURDAY = 5


@dataclass(frozen=True)
class PhoneBooking:
    """The discovery-call service and the "By phone" location, for a link into the wizard."""

    service: Service
    location: Location

    @property
    def query(self) -> str:
        return urlencode({"service": self.service.slug, "location": self.location.slug})


def phone_booking() -> PhoneBooking | None:
    """Where a 15-minute phone slot can be booked online, or None when nobody takes them."""
    service = bookable_services().filter(kind=Service.Kind.DISCOVERY_CALL).first()
    if service is None:
        return None
    location = locations_offering(service).filter(is_by_phone=True).first()
    return PhoneBooking(service=service, location=location) if location else None


def condition_choices() -> QuerySet[Condition]:
    return Condition.objects.active().only("pk", "slug", "name")


def clinic_phones() -> list[Location]:
    """One entry per number patients can call, in the clinics' order."""
    seen: set[str] = set()
    phones = []
    for location in clinic_premises():
        number = location.phone.as_e164 if location.phone else ""
        if number and number not in seen:
            seen.add(number)
            phones.append(location)
    return phones


# When the clinic can make calls at all, on its own clock: a caller's window must meet it.
CLINIC_CALL_HOURS = (time(8), time(20))


def window_meets_clinic_hours(best_time: str, zone: ZoneInfo, *, now: datetime | None = None) -> bool:
    """Whether the caller's window (on their clock) overlaps the clinic's calling hours: a
    Paris "morning" is 3-6 AM in New York, when nobody calls. With no clinic yet, nothing to meet."""
    clinic = clinic_call_zone()
    if clinic is None:
        return True
    day = timezone.localtime(now or timezone.now(), zone).date()
    start, end = (datetime.combine(day, moment, tzinfo=zone) for moment in CALL_WINDOWS[best_time])
    opens, closes = (
        datetime.combine(start.astimezone(clinic).date(), moment, tzinfo=clinic) for moment in CLINIC_CALL_HOURS
    )
    return start < closes and end > opens


def caller_zone(call_request: DiscoveryCallRequest) -> ZoneInfo:
    return known_zone(call_request.caller_timezone) or call_back_zone()


def caller_window_for_staff(call_request: DiscoveryCallRequest, *, now: datetime | None = None) -> str:
    """The caller's best time on their clock, and on the clinic's when that differs."""
    zone, clinic = caller_zone(call_request), call_back_zone()
    day = timezone.localtime(now or timezone.now(), zone).date()
    start, end = (datetime.combine(day, moment, tzinfo=zone) for moment in CALL_WINDOWS[call_request.best_time])
    theirs = f"{staff_time_range(start, end)} {zone_words(zone)}"
    if start.utcoffset() == start.astimezone(clinic).utcoffset():
        return theirs
    ours = staff_time_range(start.astimezone(clinic), end.astimezone(clinic))
    return f"{theirs} ({ours} {zone_words(clinic)})"


def clinic_call_zone() -> ZoneInfo | None:
    """The clock the clinic calls on: its "by phone" location's, else its first clinic's."""
    location = Location.objects.active().order_by("-is_by_phone", "display_order", "name").only("timezone").first()
    return location.zone if location else None


def call_back_zone() -> ZoneInfo:
    return clinic_call_zone() or ZoneInfo(settings.TIME_ZONE)


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= SATURDAY:
        day += timedelta(days=1)
    return day


def expected_call_day(*, best_time: str, requested_at: datetime, zone: ZoneInfo) -> date:
    """The weekday we promise to call on: today if the chosen window is still far enough
    ahead, otherwise the next weekday."""
    local = timezone.localtime(requested_at, zone)
    window_start = datetime.combine(local.date(), CALL_WINDOWS[best_time][0], tzinfo=zone)
    if local.weekday() < SATURDAY and local + SAME_DAY_NOTICE <= window_start:
        return local.date()
    return _next_weekday(local.date())


def one_business_day_after(instant: datetime, zone: ZoneInfo) -> datetime:
    """The same clock time on the next weekday: a request from Friday 10:00 is due by Monday 10:00."""
    local = timezone.localtime(instant, zone)
    return datetime.combine(_next_weekday(local.date()), local.timetz().replace(tzinfo=None), tzinfo=zone)


def with_waiting_since(requests: QuerySet[DiscoveryCallRequest]) -> QuerySet[DiscoveryCallRequest]:
    """Annotate `waiting_since` (see is_overdue) in the same query, for a list of requests."""
    return requests.annotate(waiting_since=Coalesce(Max("attempts__attempted_at"), "created_at"))


def waiting_since(call_request: DiscoveryCallRequest) -> datetime:
    """When reception's next step on this request fell due: its last call attempt, or, with
    none yet, its arrival. Read from with_waiting_since's annotation when there is one."""
    annotated = getattr(call_request, "waiting_since", None)
    if annotated is not None:
        return annotated
    last_attempt = call_request.attempts.aggregate(last=Max("attempted_at"))["last"]
    return max(call_request.created_at, last_attempt) if last_attempt else call_request.created_at


def is_overdue(call_request: DiscoveryCallRequest, *, now: datetime, zone: ZoneInfo) -> bool:
    """An open request (new, contacted or no answer) that has waited more than one business
    day for reception's next step.

    A new request waits from when it came in. A contacted or no-answer one waits from its
    last call attempt, not from its arrival: each call restarts the clock, so a request
    tried this morning is not flagged for being a week old, while one whose last try was
    two days ago (a voicemail nobody followed up, a "call me back Tuesday", three missed
    calls nobody closed) is, until someone calls again, books it or closes it.
    Booked, not-a-fit and closed requests wait for nothing and are never overdue.
    """
    if call_request.status not in DiscoveryCallRequest.OPEN_STATUSES:
        return False
    return now > one_business_day_after(waiting_since(call_request), zone)

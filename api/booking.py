"""JSON API v1: the public, anonymous booking endpoints, as a django-ninja router.

Each operation takes a body or query string ninja has checked against api/schemas.py,
checks the values with the same forms as the web wizard, calls a service or selector and
answers JSON. How errors are answered (400 field errors, 409/422 refusals, 413, 415, 429,
503) is api/protocol.py's.
"""

import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from ninja import Body, Path, Query, Router, Status
from ninja.decorators import decorate_view
from pydantic import WithJsonSchema

from api import schemas
from api.idempotency import idempotent, keyed_answers
from api.protocol import BAD_INPUT, BUSY, NOT_FOUND, REQUIRED, WITH_A_BODY, FieldErrors, answers, field_errors, problem
from booking import throttling
from booking.availability import (
    AVAILABILITY_CACHE_SECONDS,
    MAX_WINDOW_DAYS,
    BookingRules,
    StartRefusal,
    available_starts,
    bookable_practitioners,
    cached_answer_key,
    pack_answer,
    still_bookable,
)
from booking.forms import PatientDetailsForm, ScreeningForm
from booking.models import MANAGE_TOKEN_RE, Appointment
from booking.selectors import availability_request
from booking.services import book_appointment, cancel_appointment, reschedule_appointment
from clinic import selectors
from clinic.models import Location, Practitioner, Service

router = Router()

_SLUG = re.compile(schemas.SLUG_RE)
_MANAGE_TOKEN = re.compile(MANAGE_TOKEN_RE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 (what format: date-time means), stricter than datetime.fromisoformat.
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.IGNORECASE,
)

NO_SUCH_BOOKING = "We could not find that booking. Please check the link in your email."
UNKNOWN_SERVICE = "We do not offer that service. Please choose one from the list of services."
UNKNOWN_LOCATION = "We have no clinic there. Please choose one of our locations."
UNKNOWN_PRACTITIONER = "Please choose a practitioner who offers this service at this location, or “any”."

Entry = TypeVar("Entry", Service, Location, Practitioner)

_CHANGES_LIMIT = (
    "Bookings, cancellations and moves, here and on the web pages together, are limited per client address "
    f"({throttling.RATE}); a request refused for its fields is not counted."
)
# Documented, not enforced: an unknown token of any shape is 404 "not found", never a 400.
ManageToken = Annotated[
    str, Path(), WithJsonSchema({"type": "string", "pattern": f"^{MANAGE_TOKEN_RE}$", "maxLength": 64})
]


# Parsing.


def find_by_slug(queryset: QuerySet[Entry], slug: str | None) -> Entry | None:
    if slug is None or not _SLUG.fullmatch(slug):
        return None
    return queryset.filter(slug=slug).first()


def parse_day(raw: str | None, field: str, errors: FieldErrors) -> date | None:
    if raw is None:
        errors[field] = [REQUIRED]
        return None
    if _DATE.fullmatch(raw):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(raw)
    errors[field] = ["Please enter a real date in the form YYYY-MM-DD."]
    return None


def parse_start(raw: str, *, zone: ZoneInfo | None, now: datetime, errors: FieldErrors) -> datetime | None:
    """A requested start: RFC 3339 with an offset, and bookable under the patients' rules
    (BookingRules.refusal: notice, horizon, the grid of the location's clock)."""
    instant = None
    if _INSTANT.fullmatch(raw):
        with contextlib.suppress(ValueError, OverflowError):  # 2030-02-30, or year 1 at +01:00
            instant = datetime.fromisoformat(raw.upper()).astimezone(UTC)
    if instant is None:
        errors["start"] = [
            "Please include the time zone offset, e.g. 10:00:00-05:00 or 15:00:00Z."
            if _is_naive_time(raw)
            else "Please give the start as a date and time with its offset, like YYYY-MM-DDThh:mm:ss-05:00."
        ]
        return None
    if zone is None:  # the location is unknown, and reported as such
        return None
    refusal = BookingRules.from_settings().refusal(instant, now=now, zone=zone)
    if refusal is not None:
        errors["start"] = [_start_refused(refusal)]
        return None
    return instant


def _start_refused(refusal: StartRefusal) -> str:
    if refusal is StartRefusal.PASSED:
        return "That time has already passed. Please choose a later time."
    if refusal is StartRefusal.TOO_SOON:
        notice = _minutes_in_words(settings.BOOKING_MIN_NOTICE_MINUTES)
        return f"Online bookings need at least {notice}' notice. To be seen sooner, please call us."
    if refusal is StartRefusal.TOO_FAR:
        return f"We take online bookings up to {settings.BOOKING_HORIZON_DAYS} days ahead."
    step = settings.BOOKING_SLOT_STEP_MINUTES
    return f"Appointments start every {step} minutes on the clinic's clock, e.g. 10:00 or 10:15."


def _is_naive_time(raw: str) -> bool:
    try:
        return datetime.fromisoformat(raw).tzinfo is None
    except ValueError:
        return False


def _minutes_in_words(minutes: int) -> str:
    if minutes % 60:
        return f"{minutes} minutes"
    return "1 hour" if minutes == 60 else f"{minutes // 60} hours"


def _form_errors(form, prefix: str, *, top_level: frozenset[str] = frozenset()) -> FieldErrors:
    return {
        field if field in top_level else f"{prefix}.{field}": [str(message) for message in messages]
        for field, messages in form.errors.items()
    }


def _appointment_by_token(manage_token: str) -> Appointment | None:
    if not _MANAGE_TOKEN.fullmatch(manage_token):
        return None
    return (
        Appointment.objects.select_related("practitioner", "service", "location")
        .filter(manage_token=manage_token)
        .first()
    )


def booking_first(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An unknown manage token is 404 whatever came with it (v1): the booking is looked up
    before ninja reads the body, and handed to the operation as its `booking` (the_booking)."""

    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        appointment = _appointment_by_token(kwargs.get("manage_token", ""))
        if appointment is None:
            return JsonResponse({"code": "not_found", "message": NO_SUCH_BOOKING}, status=404)
        request._api_booking = appointment  # type: ignore[attr-defined]
        return run(request, *args, **kwargs)

    return wrapper


def the_booking(request: HttpRequest) -> Appointment:
    return request._api_booking  # type: ignore[attr-defined]


def _count_change(request: HttpRequest, location: Location) -> None:
    """Count a booking or change about to be made; Rejected (429) past the client's limit."""
    if throttling.over_the_limit(request):
        raise problem(429, "rate_limited", throttling.Refusal(location).in_words)


# Operations.


@router.get(
    "/locations",
    **answers({200: (list[schemas.Location], "Active locations.")}),
    operation_id="listLocations",
    summary="Where the clinic works",
    url_name="locations",
)
def location_list(request: HttpRequest) -> Any:
    # Read here, not by ninja: pydantic turns an error while iterating into a validation error
    # (a 500), where a database outage must reach the outage handler (a 503).
    return list(selectors.public_locations())


@router.get(
    "/services",
    **answers({200: (list[schemas.Service], "Active services.")}),
    operation_id="listServices",
    summary="What can be booked",
    url_name="services",
)
def service_list(request: HttpRequest) -> Any:
    return list(selectors.public_services())


@router.get(
    "/practitioners",
    **answers({200: (list[schemas.Practitioner], "Active practitioners."), 400: BAD_INPUT}),
    operation_id="listPractitioners",
    summary="Who treats, optionally only those offering a service and/or working at a location",
    url_name="practitioners",
)
def practitioner_list(request: HttpRequest, filters: Query[schemas.PractitionerFilters]) -> Any:
    errors: FieldErrors = {}
    practitioners = selectors.public_practitioners()
    if filters.service is not None:
        service = find_by_slug(Service.objects.active(), filters.service)
        if service is None:
            errors["service"] = [UNKNOWN_SERVICE]
        practitioners = practitioners.filter(qualifications__service=service)
    if filters.location is not None:
        location = find_by_slug(Location.objects.active(), filters.location)
        if location is None:
            errors["location"] = [UNKNOWN_LOCATION]
        practitioners = practitioners.filter(locations=location)
    if errors:
        raise field_errors(errors)
    return list(practitioners.distinct())


@router.get(
    "/availability",
    **answers({200: (schemas.Availability, "Free slots, by start."), 400: BAD_INPUT}),
    operation_id="getAvailability",
    summary="Free start times for a service at a location",
    url_name="availability",
)
def availability(request: HttpRequest, query: Query[schemas.AvailabilityQuery]) -> HttpResponse:
    now = timezone.now()
    errors: FieldErrors = {}
    first_day = parse_day(query.start, "start", errors)
    last_day = parse_day(query.end, "end", errors)
    if first_day and last_day:
        if last_day < first_day:
            errors["end"] = ["The end date must be on or after the start date."]
        elif (last_day - first_day).days >= MAX_WINDOW_DAYS:
            errors["end"] = [f"Please ask for at most {MAX_WINDOW_DAYS} days at a time."]
    wanted = "any" if query.practitioner is None else query.practitioner
    asked = availability_request(
        service_slug=query.service if query.service and _SLUG.fullmatch(query.service) else None,
        location_slug=query.location if query.location and _SLUG.fullmatch(query.location) else None,
        practitioner_slug=wanted,
    )
    cache_key = None
    if asked.service_id is not None and asked.location_id is not None and not errors and asked.practitioner_ids:
        # Only answers that were computed successfully are cached, so a hit was valid for
        # these very stamps: one query in all, like /healthz, and no model instance.
        key_parts = (*asked.cache_key_parts(), asked.service_id, asked.location_id, wanted, first_day, last_day)
        cache_key = cached_answer_key(*key_parts)
        cached = cache.get(cache_key)
        if cached is not None:
            return _availability_response(cached["timezone"], still_bookable(cached, now))
    service, location = asked.service, asked.location
    if service is None:
        errors["service"] = [REQUIRED] if query.service is None else [UNKNOWN_SERVICE]
    if location is None:
        errors["location"] = [REQUIRED] if query.location is None else [UNKNOWN_LOCATION]
    elif first_day and last_day and not errors.keys() & {"start", "end"}:
        # Only a window touching the bookable period: this also keeps date arithmetic in range.
        if last_day < timezone.localdate(now, location.zone):
            errors["end"] = ["These dates have passed. Please choose dates from today onwards."]
        elif first_day > timezone.localdate(now + timedelta(days=settings.BOOKING_HORIZON_DAYS), location.zone):
            errors["start"] = [f"We take online bookings up to {settings.BOOKING_HORIZON_DAYS} days ahead."]
    if errors or service is None or location is None or first_day is None or last_day is None:
        raise field_errors(errors)
    if wanted != "any" and not asked.practitioner_ids:
        raise field_errors({"practitioner": [UNKNOWN_PRACTITIONER]})

    starts = available_starts(
        service=service,
        location=location,
        practitioner_ids=asked.practitioner_ids,
        one_each=False,  # the one asked for, or one per start of everyone who may be offered
        first_day=first_day,
        last_day=last_day,
        now=now,
    )
    # Encoded straight from the engine's integers, with the start for the notice filter on a
    # hit: no object per slot (json.dumps would write exactly this).
    local, length = LocalRfc3339(location.zone), service.duration_minutes * 60
    slugs = zip(asked.practitioner_ids, asked.practitioner_slugs, strict=True)
    slug_json = {pid: json.dumps(slug).encode() for pid, slug in slugs}
    rows = [
        (
            start,
            b'{"start": "%s", "end": "%s", "practitioner": %s}' % (local(start), local(start + length), slug_json[pid]),
        )
        for start, pid in starts
    ]
    answer = pack_answer(location.timezone, rows)
    if cache_key is not None:
        cache.set(cache_key, answer, AVAILABILITY_CACHE_SECONDS)
    return _availability_response(location.timezone, answer["encoded"])


class LocalRfc3339:
    """Epoch seconds as RFC 3339 on a zone's clock, exactly as datetime.isoformat writes them,
    with each UTC day's offset and each local day's date worked out once: a 30-day answer writes
    about a thousand of them, and datetime objects for each were a third of its cost."""

    def __init__(self, zone: ZoneInfo):
        self._zone = zone
        self._offsets: dict[int, tuple[int, bytes] | None] = {}
        self._days: dict[int, bytes] = {}
        # Each instant once: a slot's end is most often another slot's start.
        self._written: dict[int, bytes] = {}

    def __call__(self, epoch_seconds: int) -> bytes:
        written = self._written.get(epoch_seconds)
        if written is None:
            written = self._written[epoch_seconds] = self._write(epoch_seconds)
        return written

    def _write(self, epoch_seconds: int) -> bytes:
        utc_day = epoch_seconds // 86400
        if utc_day not in self._offsets:
            self._offsets[utc_day] = self._offset_through(utc_day)
        offset = self._offsets[utc_day]
        if offset is None:  # the clocks change on this (UTC) day
            return datetime.fromtimestamp(epoch_seconds, self._zone).isoformat().encode()
        seconds, suffix = offset
        day, second_of_day = divmod(epoch_seconds + seconds, 86400)
        if day not in self._days:
            self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat().encode()
        hours, rest = divmod(second_of_day, 3600)
        return b"%sT%02d:%02d:%02d%s" % (self._days[day], hours, rest // 60, rest % 60, suffix)

    def _offset_through(self, utc_day: int) -> tuple[int, bytes] | None:
        first = datetime.fromtimestamp(utc_day * 86400, self._zone)
        offset = first.utcoffset()
        if offset is None or offset != datetime.fromtimestamp(utc_day * 86400 + 86399, self._zone).utcoffset():
            return None
        return int(offset.total_seconds()), first.isoformat()[19:].encode()


def _availability_response(zone_name: str, encoded_slots: bytes) -> HttpResponse:
    body = b'{"timezone": ' + json.dumps(zone_name).encode() + b', "slots": [' + encoded_slots + b"]}"
    return HttpResponse(body, content_type="application/json")


@router.post(
    "/appointments",
    **keyed_answers(
        {
            201: (schemas.Booking, "Booked."),
            409: (schemas.TimeTaken, "The time is no longer free."),
            422: (
                schemas.NotBookableOnline,
                "Not bookable online: urgent symptoms, or a follow-up before any first visit.",
            ),
            **WITH_A_BODY,
            503: BUSY,
        }
    ),
    operation_id="bookAppointment",
    summary="Book an appointment",
    description=_CHANGES_LIMIT,
    url_name="appointments",
)
@decorate_view(idempotent, never_cache)
def appointment_create(request: HttpRequest, body: schemas.BookingRequest) -> Status:
    now = timezone.now()
    errors: FieldErrors = {}
    service = find_by_slug(Service.objects.active(), body.service)
    if service is None:
        errors["service"] = [UNKNOWN_SERVICE]
    location = find_by_slug(Location.objects.active(), body.location)
    if location is None:
        errors["location"] = [UNKNOWN_LOCATION]
    practitioner = None
    if body.practitioner != "any" and service and location:
        practitioner = find_by_slug(bookable_practitioners(service=service, location=location), body.practitioner)
        if practitioner is None:
            errors["practitioner"] = [UNKNOWN_PRACTITIONER]
    start = parse_start(body.start, zone=location.zone if location else None, now=now, errors=errors)
    patient_form = PatientDetailsForm(data=body.patient.model_dump())
    if not patient_form.is_valid():
        errors |= _form_errors(patient_form, "patient")
    if "patient.date_of_birth" not in errors and not _DATE.fullmatch(body.patient.date_of_birth):
        # format: date, not also the form's US input formats (01/17/1980)
        errors["patient.date_of_birth"] = ["Please enter the date of birth in the form YYYY-MM-DD."]
    screening_form = ScreeningForm(data={**body.screening.model_dump(), "consent": body.consent})
    if not screening_form.is_valid():
        errors |= _form_errors(screening_form, "screening", top_level=frozenset({"consent"}))
    if errors or service is None or location is None or start is None:
        raise field_errors(errors)
    _count_change(request, location)

    appointment = book_appointment(
        service=service,
        location=location,
        practitioner=practitioner,
        start=start,
        patient_details=patient_form.patient_details(),
        screening=screening_form.screening_answers(),
        consent_given=screening_form.cleaned_data["consent"],
        source=Appointment.Source.ONLINE,
        now=now,
    )
    # Everything the answer shows is read here: a database error inside ninja's pydantic would
    # be a 500, not the outage's 503 that tells the patient a confirmation email means booked.
    appointment.practitioner = practitioner or Practitioner.objects.get(pk=appointment.practitioner_id)
    return Status(201, appointment)


@router.get(
    "/appointments/{manage_token}",
    **answers({200: (schemas.Booking, "The booking."), 404: NOT_FOUND}),
    operation_id="getAppointment",
    summary="A booking (never its screening answers)",
    url_name="appointment",
)
@decorate_view(booking_first, never_cache)  # never_cache outermost: a 404 is not cached either
def appointment_detail(request: HttpRequest, manage_token: ManageToken) -> Appointment:
    return the_booking(request)


@router.post(
    "/appointments/{manage_token}/cancel",
    **keyed_answers(
        {
            200: (schemas.Cancelled, "Cancelled."),
            404: NOT_FOUND,
            409: (schemas.NotChangeable, "Too late to change online, or no longer confirmed."),
            **WITH_A_BODY,
            503: BUSY,
        }
    ),
    operation_id="cancelAppointment",
    summary="Cancel, until 24 hours before the start",
    description=_CHANGES_LIMIT,
    url_name="appointment_cancel",
)
@decorate_view(booking_first, idempotent, never_cache)  # never_cache outermost: a 404 is not cached either
def appointment_cancel(
    request: HttpRequest, manage_token: ManageToken, body: Annotated[schemas.CancelRequest, Body(None)]
) -> dict[str, Any]:
    appointment = the_booking(request)
    _count_change(request, appointment.location)
    reason = body.reason if body is not None else ""  # no body at all
    cancelled = cancel_appointment(appointment=appointment, reason=reason, actor=None)
    return {"status": cancelled.status}


@router.post(
    "/appointments/{manage_token}/reschedule",
    **keyed_answers(
        {
            200: (schemas.Booking, "The moved booking."),
            404: NOT_FOUND,
            409: (
                schemas.NotMovable,
                "The new time is not free, it is too late to change online, or no longer confirmed.",
            ),
            **WITH_A_BODY,
            503: BUSY,
        }
    ),
    operation_id="rescheduleAppointment",
    summary="Move to another free start with the same practitioner, until 24 hours before",
    description=_CHANGES_LIMIT,
    url_name="appointment_reschedule",
)
@decorate_view(booking_first, idempotent, never_cache)  # never_cache outermost: a 404 is not cached either
def appointment_reschedule(
    request: HttpRequest, manage_token: ManageToken, body: schemas.RescheduleRequest
) -> Appointment:
    now = timezone.now()
    appointment = the_booking(request)
    errors: FieldErrors = {}
    start = parse_start(body.start, zone=appointment.location.zone, now=now, errors=errors)
    if start is None:
        raise field_errors(errors)
    _count_change(request, appointment.location)
    moved = reschedule_appointment(appointment=appointment, new_start=start, actor=None, now=now)
    return moved

"""JSON API v1: the public, anonymous booking endpoints. The contract is api/openapi.py.

Each view parses, validates (the body's shape against the OpenAPI request schema, then
the same forms as the web wizard), calls a service or selector and answers JSON.
Input problems are 400 {"errors": {field: [message]}}; a BookingError is 409 or 422
{"code", "message"}; every message is written for the patient.

Anonymous by design: no CSRF token is asked for and no cookie grants anything. The
manage token in the URL is the only credential, so a staff member's session cookie,
sent along by a browser, must not turn an API call into a staff action.
"""

import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import wraps
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from api.openapi import (
    BOOKING_REQUEST,
    CANCEL_REQUEST,
    DOCUMENT,
    MANAGE_TOKEN_RE,
    RESCHEDULE_REQUEST,
    SLUG_RE,
)
from booking import throttling
from booking.availability import (
    AVAILABILITY_CACHE_SECONDS,
    MAX_WINDOW_DAYS,
    available_slots,
    bookable_practitioners,
    cached_answer_key,
    pack_answer,
    still_bookable,
)
from booking.forms import PatientDetailsForm, ScreeningForm
from booking.models import Appointment
from booking.selectors import availability_request_lookup
from booking.services import BookingError, book_appointment, cancel_appointment, reschedule_appointment
from clinic import selectors
from clinic.models import Location, Practitioner, Service

MAX_BODY_BYTES = 64 * 1024

_SLUG = re.compile(SLUG_RE)
_MANAGE_TOKEN = re.compile(MANAGE_TOKEN_RE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 (what format: date-time means), stricter than datetime.fromisoformat.
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})",
    re.IGNORECASE,
)

REQUIRED = "This field is required."
UNKNOWN_SERVICE = "We do not offer that service. Please choose one from the list of services."
UNKNOWN_LOCATION = "We have no clinic there. Please choose one of our locations."
UNKNOWN_PRACTITIONER = "Please choose a practitioner who offers this service at this location, or “any”."
_TYPE_MESSAGES = {
    "object": "Please send these details as a JSON object.",
    "array": "Please send a list (it may be empty).",
    "string": "Please enter this as text.",
    "boolean": "Please answer true or false.",
}
_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}
_BOOKING_ERROR_STATUS = {
    "slot_unavailable": 409,
    "too_late": 409,
    "not_changeable": 409,
    "urgent_care": 422,
    "initial_assessment_required": 422,
    "busy": 503,  # another's lock outlasted BOOKING_LOCK_TIMEOUT_MS: nothing changed, try again
}
BUSY_RETRY_AFTER_SECONDS = 5

FieldErrors = dict[str, list[str]]
Entry = TypeVar("Entry", Service, Location, Practitioner)

# Consent is required by the document, but judged by book_appointment after the red flags:
# a patient with urgent symptoms is told so even when they did not tick the consent.
_BOOKING_SHAPE = {**BOOKING_REQUEST, "required": [key for key in BOOKING_REQUEST["required"] if key != "consent"]}


class Rejected(Exception):
    """Stops a view with an error answer; api_view turns it into the response."""

    def __init__(self, status: int, body: dict):
        super().__init__(status)
        self.status = status
        self.body = body


def field_errors(errors: FieldErrors) -> Rejected:
    return Rejected(400, {"errors": errors})


def problem(status: int, code: str, message: str) -> Rejected:
    return Rejected(status, {"code": code, "message": message})


def api_view(*methods: str) -> Callable:
    """CSRF-exempt, anonymous, JSON in every answer including 405 and the errors above."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def decorate(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> JsonResponse:
            if request.method not in allowed:
                response = JsonResponse(
                    {"code": "method_not_allowed", "message": f"This address does not accept {request.method}."},
                    status=405,
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            # Never look at the session: the history middleware would otherwise read it to
            # record a logged-in staff member as the actor of what is the patient's change.
            request.user = AnonymousUser()
            try:
                return view(request, *args, **kwargs)
            except Rejected as rejected:
                return JsonResponse(rejected.body, status=rejected.status)
            except BookingError as error:
                if error.code == "consent_required":
                    return JsonResponse({"errors": {"consent": [error.message]}}, status=400)
                status = _BOOKING_ERROR_STATUS.get(error.code, 409)
                response = JsonResponse({"code": error.code, "message": error.message}, status=status)
                if status == 503:
                    response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
                return response

        return wrapper

    return decorate


# Parsing.


def json_body(request: HttpRequest, schema: dict, *, required: bool) -> dict:
    """The body as a dict of the schema's shape, or Rejected (413, 415, 400)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise problem(413, "too_large", "This request is too large. Please shorten your answers and try again.")
    raw = request.body
    if len(raw) > MAX_BODY_BYTES:
        raise problem(413, "too_large", "This request is too large. Please shorten your answers and try again.")
    if not raw.strip():
        if required:
            raise field_errors({"body": ["Please send the details as JSON."]})
        return {}
    if request.content_type != "application/json" and not request.content_type.endswith("+json"):
        raise problem(415, "unsupported_media_type", "Please send the details as JSON (application/json).")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise field_errors({"body": ["We could not read this request: it is not valid JSON."]}) from None
    errors = shape_errors(body, schema)
    if errors:
        raise field_errors(errors)
    return body


def shape_errors(value: object, schema: dict, field: str = "") -> FieldErrors:
    """Check a decoded JSON value against a request schema of api/openapi.py: type,
    required, properties, items, enum and maxLength. Formats are the parsers' and forms' job."""
    name = field or "body"
    expected = schema.get("type")
    if expected and not isinstance(value, _JSON_TYPES[expected]):
        return {name: [_TYPE_MESSAGES[expected]]}
    errors: FieldErrors = {}
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors[_dotted(field, key)] = [REQUIRED]
        for key, property_schema in schema.get("properties", {}).items():
            if key in value:
                errors |= shape_errors(value[key], property_schema, _dotted(field, key))
    elif isinstance(value, list):
        for item in value:
            for message in shape_errors(item, schema["items"], name).get(name, []):
                if message not in errors.setdefault(name, []):
                    errors[name].append(message)
    elif isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape: PostgreSQL cannot store it
            return {name: ["Please use only ordinary letters, digits and punctuation."]}
        if "\x00" in value:
            return {name: ["Null characters are not allowed."]}
        if len(value) > schema.get("maxLength", len(value)):
            return {name: [f"Please keep this to {schema['maxLength']} characters or fewer (it has {len(value)})."]}
        if "enum" in schema and value not in schema["enum"]:
            return {name: ["That is not one of the choices."]}
    return errors


def _dotted(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


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
    """A requested start: RFC 3339 with an offset, bookable now, on the grid of the location's clock."""
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
    if instant <= now:
        errors["start"] = ["That time has already passed. Please choose a later time."]
    elif instant < now + timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES):
        notice = _minutes_in_words(settings.BOOKING_MIN_NOTICE_MINUTES)
        errors["start"] = [f"Online bookings need at least {notice}' notice. To be seen sooner, please call us."]
    elif instant > now + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        errors["start"] = [f"We take online bookings up to {settings.BOOKING_HORIZON_DAYS} days ahead."]
    else:
        local = instant.astimezone(zone)
        step = settings.BOOKING_SLOT_STEP_MINUTES
        if local.minute % step or local.second or local.microsecond:
            errors["start"] = [f"Appointments start every {step} minutes on the clinic's clock, e.g. 10:00 or 10:15."]
        else:
            return instant
    return None


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


# Answers.


def _instant(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).isoformat()


def booking_json(appointment: Appointment) -> dict:
    """A booking as its patient sees it: never the screening answers or patient details."""
    zone = appointment.location.zone
    return {
        "reference": appointment.reference,
        "status": appointment.status,
        "start": _instant(appointment.start, zone),
        "end": _instant(appointment.end, zone),
        "practitioner": appointment.practitioner.slug,
        "service": appointment.service.slug,
        "location": appointment.location.slug,
        "manage_token": appointment.manage_token,
    }


def _appointment_by_token(manage_token: str) -> Appointment:
    appointment = None
    if _MANAGE_TOKEN.fullmatch(manage_token):
        appointment = (
            Appointment.objects.select_related("practitioner", "service", "location")
            .filter(manage_token=manage_token)
            .first()
        )
    if appointment is None:
        raise problem(404, "not_found", "We could not find that booking. Please check the link in your email.")
    return appointment


def _count_change(request: HttpRequest, location: Location) -> None:
    """Count a booking or change about to be made; Rejected (429) past the client's limit."""
    if throttling.over_the_limit(request):
        raise problem(429, "rate_limited", throttling.Refusal(location).in_words)


# Views.


@api_view("GET")
def location_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        [
            {
                "slug": location.slug,
                "name": location.name,
                "timezone": location.timezone,
                "address": location.address,
                "phone": location.phone.as_e164 if location.phone else "",
            }
            for location in selectors.public_locations()
        ],
        safe=False,
    )


@api_view("GET")
def service_list(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        [
            {
                "slug": service.slug,
                "name": service.name,
                "kind": service.kind,
                "duration_minutes": service.duration_minutes,
                "price": None if service.price is None else f"{service.price:.2f}",
                "who_can_book": service.who_can_book,
            }
            for service in selectors.public_services()
        ],
        safe=False,
    )


@api_view("GET")
def practitioner_list(request: HttpRequest) -> JsonResponse:
    errors: FieldErrors = {}
    practitioners = selectors.public_practitioners()
    if "service" in request.GET:
        service = find_by_slug(Service.objects.active(), request.GET["service"])
        if service is None:
            errors["service"] = [UNKNOWN_SERVICE]
        practitioners = practitioners.filter(qualifications__service=service)
    if "location" in request.GET:
        location = find_by_slug(Location.objects.active(), request.GET["location"])
        if location is None:
            errors["location"] = [UNKNOWN_LOCATION]
        practitioners = practitioners.filter(locations=location)
    if errors:
        raise field_errors(errors)
    return JsonResponse(
        [
            {
                "slug": practitioner.slug,
                "name": practitioner.name,
                "title": practitioner.title,
                "services": [service.slug for service in practitioner.services.all()],
                "locations": [location.slug for location in practitioner.locations.all()],
            }
            for practitioner in practitioners.distinct()
        ],
        safe=False,
    )


@api_view("GET")
def availability(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    errors: FieldErrors = {}
    first_day = parse_day(request.GET.get("start"), "start", errors)
    last_day = parse_day(request.GET.get("end"), "end", errors)
    if first_day and last_day:
        if last_day < first_day:
            errors["end"] = ["The end date must be on or after the start date."]
        elif (last_day - first_day).days >= MAX_WINDOW_DAYS:
            errors["end"] = [f"Please ask for at most {MAX_WINDOW_DAYS} days at a time."]
    service_slug, location_slug = request.GET.get("service"), request.GET.get("location")
    version, service, location = availability_request_lookup(
        service_slug=service_slug if service_slug and _SLUG.fullmatch(service_slug) else None,
        location_slug=location_slug if location_slug and _SLUG.fullmatch(location_slug) else None,
    )
    if service is None:
        errors["service"] = [REQUIRED] if "service" not in request.GET else [UNKNOWN_SERVICE]
    wanted = request.GET.get("practitioner", "any")
    cache_key = None
    if service is not None and location is not None and not errors:
        # Only answers that were computed successfully are cached, so a hit was valid
        # for this very schedule version: one query in all, like /healthz.
        cache_key = cached_answer_key(version, service.pk, location.pk, wanted, first_day, last_day)
        cached = cache.get(cache_key)
        if cached is not None:
            return _availability_response(cached["timezone"], still_bookable(cached, now))
    if location is None:
        errors["location"] = [REQUIRED] if "location" not in request.GET else [UNKNOWN_LOCATION]
    elif first_day and last_day and not errors.keys() & {"start", "end"}:
        # Only a window touching the bookable period: this also keeps date arithmetic in range.
        if last_day < timezone.localdate(now, location.zone):
            errors["end"] = ["These dates have passed. Please choose dates from today onwards."]
        elif first_day > timezone.localdate(now + timedelta(days=settings.BOOKING_HORIZON_DAYS), location.zone):
            errors["start"] = [f"We take online bookings up to {settings.BOOKING_HORIZON_DAYS} days ahead."]
    if errors or service is None or location is None or first_day is None or last_day is None:
        raise field_errors(errors)

    # One query for the candidates and their slugs, so the engine needs only its three.
    candidates = bookable_practitioners(service=service, location=location)
    if wanted != "any":
        candidates = candidates.filter(slug=wanted) if _SLUG.fullmatch(wanted) else candidates.none()
    practitioners = list(candidates)
    if wanted != "any" and not practitioners:
        raise field_errors({"practitioner": [UNKNOWN_PRACTITIONER]})
    slugs = {practitioner.pk: practitioner.slug for practitioner in practitioners}
    slots = available_slots(
        service=service,
        location=location,
        practitioner=None if wanted == "any" else practitioners[0],
        first_day=first_day,
        last_day=last_day,
        now=now,
        practitioner_ids=list(slugs),
    )
    zone = location.zone
    # Each slot is stored already encoded, with its start for the notice filter on a hit.
    rows = [
        (
            slot.start.timestamp(),
            json.dumps(
                {
                    "start": _instant(slot.start, zone),
                    "end": _instant(slot.end, zone),
                    "practitioner": slugs[slot.practitioner_id],
                }
            ).encode(),
        )
        for slot in slots
    ]
    answer = pack_answer(location.timezone, rows)
    if cache_key is not None:
        cache.set(cache_key, answer, AVAILABILITY_CACHE_SECONDS)
    return _availability_response(location.timezone, answer["encoded"])


def _availability_response(zone_name: str, encoded_slots: bytes) -> HttpResponse:
    body = b'{"timezone": ' + json.dumps(zone_name).encode() + b', "slots": [' + encoded_slots + b"]}"
    return HttpResponse(body, content_type="application/json")


@never_cache
@api_view("POST")
def appointment_create(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    body = json_body(request, _BOOKING_SHAPE, required=True)
    errors: FieldErrors = {}
    service = find_by_slug(Service.objects.active(), body["service"])
    if service is None:
        errors["service"] = [UNKNOWN_SERVICE]
    location = find_by_slug(Location.objects.active(), body["location"])
    if location is None:
        errors["location"] = [UNKNOWN_LOCATION]
    practitioner = None
    wanted = body.get("practitioner", "any")
    if wanted != "any" and service and location:
        practitioner = find_by_slug(bookable_practitioners(service=service, location=location), wanted)
        if practitioner is None:
            errors["practitioner"] = [UNKNOWN_PRACTITIONER]
    start = parse_start(body["start"], zone=location.zone if location else None, now=now, errors=errors)
    patient_form = PatientDetailsForm(data=body["patient"])
    if not patient_form.is_valid():
        errors |= _form_errors(patient_form, "patient")
    if "patient.date_of_birth" not in errors and not _DATE.fullmatch(body["patient"]["date_of_birth"]):
        # format: date, not also the form's US input formats (01/17/1980)
        errors["patient.date_of_birth"] = ["Please enter the date of birth in the form YYYY-MM-DD."]
    screening_form = ScreeningForm(data={**body["screening"], "consent": body.get("consent", False)})
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
    if practitioner is not None:
        appointment.practitioner = practitioner  # the one asked for; saves reading it again
    return JsonResponse(booking_json(appointment), status=201)


@never_cache
@api_view("GET")
def appointment_detail(request: HttpRequest, manage_token: str) -> JsonResponse:
    return JsonResponse(booking_json(_appointment_by_token(manage_token)))


@never_cache
@api_view("POST")
def appointment_cancel(request: HttpRequest, manage_token: str) -> JsonResponse:
    appointment = _appointment_by_token(manage_token)
    body = json_body(request, CANCEL_REQUEST, required=False)
    _count_change(request, appointment.location)
    cancelled = cancel_appointment(appointment=appointment, reason=body.get("reason", ""), actor=None)
    return JsonResponse({"status": cancelled.status})


@never_cache
@api_view("POST")
def appointment_reschedule(request: HttpRequest, manage_token: str) -> JsonResponse:
    now = timezone.now()
    appointment = _appointment_by_token(manage_token)
    body = json_body(request, RESCHEDULE_REQUEST, required=True)
    errors: FieldErrors = {}
    start = parse_start(body["start"], zone=appointment.location.zone, now=now, errors=errors)
    if start is None:
        raise field_errors(errors)
    _count_change(request, appointment.location)
    moved = reschedule_appointment(appointment=appointment, new_start=start, actor=None, now=now)
    return JsonResponse(booking_json(moved))


@api_view("GET")
def openapi_document(request: HttpRequest) -> JsonResponse:
    return JsonResponse(DOCUMENT)


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"code": "not_found", "message": "There is nothing at this address."}, status=404)

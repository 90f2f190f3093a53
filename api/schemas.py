"""The JSON API v1's shapes, as pydantic models: django-ninja validates each request body
against them and writes the OpenAPI 3.1 document (/api/v1/openapi.json) from them.

Requests are strict (no "yes" for true, no 7 for "7") and ignore unknown properties;
responses are closed (additionalProperties: false). A model enforces what JSON itself can say:
types, required fields, lengths, choices. What needs the clinic's data or the web forms'
rules (a slug that exists, an email address, a free time, the date formats) is checked by
the views with the same forms as the web pages, and documented here as the schema's
pattern or format only.
"""

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from booking.forms import NAME_MAX, TEXT_MAX
from booking.models import MANAGE_TOKEN_RE, Appointment
from clinic import models as catalogue
from discovery import models as discovery
from patients.services import RED_FLAGS

SLUG_RE = r"[-a-zA-Z0-9_]+"  # Django's slug characters
SLUG_MAX = 80  # CatalogueEntry.slug
PHONE_MAX = 32
NEEDLING_NOTES_MAX = 500
CANCELLATION_REASON_MAX = 500
REQUESTED_START_MAX = 64


def _storable(value: str) -> str:
    # (A lone surrogate from a "\ud800" escape is refused by pydantic itself: string_unicode.)
    if "\x00" in value:
        raise PydanticCustomError("unstorable_text", "Null characters are not allowed.")
    return value


def _text(max_length: int | None = None, **schema: Any) -> Any:
    """A JSON string PostgreSQL can store, at most max_length characters; schema: what the
    document adds (format, pattern, minLength) for the forms and views to enforce."""
    return Annotated[
        str,
        Field(strict=True, max_length=max_length, json_schema_extra=schema or None),
        AfterValidator(_storable),
    ]


def _one_of(values: list[str], **schema: Any) -> Any:
    def chosen(value: str) -> str:
        if value not in values:
            raise PydanticCustomError("choice", "That is not one of the choices.")
        return value

    return Annotated[str, Field(strict=True, json_schema_extra={"enum": [*values], **schema}), AfterValidator(chosen)]


Slug = _text(SLUG_MAX, minLength=1, pattern=f"^{SLUG_RE}$")
Flag = Annotated[bool, Field(strict=True)]
RequestedStart = _text(
    REQUESTED_START_MAX,
    format="date-time",
    description=(
        "RFC 3339 with a UTC offset (a time without one is refused). It must be on the 15-minute grid of the "
        "location's clock, at least the minimum notice ahead and within the booking horizon."
    ),
)
PRACTITIONER_CHOICE = "A practitioner's slug, or `any` to let the clinic assign the first free qualified one."


def _demand(*names: str, const_true: tuple[str, ...] = ()) -> Any:
    """Document fields as required (and true) that the model leaves to the views, so that their
    answer is the patient's message rather than a generic one."""

    def edit(schema: dict[str, Any]) -> None:
        schema["required"] = [*schema.get("required", []), *names]
        for name in const_true:
            schema["properties"][name].pop("default", None)
            schema["properties"][name]["const"] = True

    return edit


class Request(BaseModel):
    # A plain pydantic model, not ninja's Schema: a body is JSON, and a list or a string where
    # an object belongs is refused whole, never read for attributes as Schema would.
    model_config = ConfigDict(extra="ignore")


class Response(Schema):
    # Read from the models' attributes (ninja's Schema, with resolve_* for what is computed);
    # documented as closed: an answer has exactly these properties.
    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})


# Requests.


class PatientRequest(Request):
    first_name: _text(NAME_MAX, minLength=1)  # type: ignore[valid-type]
    last_name: _text(NAME_MAX, minLength=1)  # type: ignore[valid-type]
    email: _text(254, format="email")  # type: ignore[valid-type]
    phone: _text(  # type: ignore[valid-type]
        PHONE_MAX,
        minLength=1,
        description="A mobile number; include the country code outside the US, e.g. +44 20 7946 0958.",
    )
    date_of_birth: _text(10, format="date")  # type: ignore[valid-type]


class ScreeningRequest(Request):
    pregnant: Flag
    blood_thinners: Flag
    bleeding_disorder: Flag
    needle_fear: Flag
    needled_before: Flag
    previous_needling_notes: _text(NEEDLING_NOTES_MAX) = ""  # type: ignore[valid-type]
    other_conditions: _text(TEXT_MAX) = ""  # type: ignore[valid-type]
    red_flags: list[_one_of(list(RED_FLAGS))] = Field(  # type: ignore[valid-type]
        strict=True,
        description="Urgent symptoms the patient has now. Any of them stops the booking (422 urgent_care).",
    )


class BookingRequest(Request):
    # consent is judged by book_appointment after the red flags: a patient with urgent
    # symptoms is told so even when they did not tick the consent.
    model_config = ConfigDict(json_schema_extra=_demand("consent", const_true=("consent",)))

    service: Slug  # type: ignore[valid-type]
    location: Slug  # type: ignore[valid-type]
    practitioner: _text(SLUG_MAX, minLength=1, pattern=f"^{SLUG_RE}$", description=PRACTITIONER_CHOICE) = "any"  # type: ignore[valid-type]
    start: RequestedStart  # type: ignore[valid-type]
    patient: PatientRequest
    screening: ScreeningRequest
    consent: Flag = Field(False, description="The patient has read and agrees to the treatment consent.")


class CancelRequest(Request):
    reason: _text(CANCELLATION_REASON_MAX) = ""  # type: ignore[valid-type]


class RescheduleRequest(Request):
    start: RequestedStart  # type: ignore[valid-type]


class DiscoveryCallRequest(Request):
    model_config = ConfigDict(json_schema_extra=_demand(const_true=("consent_to_contact",)))

    name: _text(discovery.NAME_MAX, minLength=1)  # type: ignore[valid-type]
    phone: _text(  # type: ignore[valid-type]
        PHONE_MAX,
        minLength=1,
        description="The number to call; include the country code outside the US, e.g. +44 20 7946 0958.",
    )
    email: _text(254, format="email")  # type: ignore[valid-type]
    best_time: _one_of(  # type: ignore[valid-type]
        discovery.DiscoveryCallRequest.BestTime.values,
        description="Weekdays, on the caller's clock (timezone): morning 9-12, afternoon 12-17, evening 17-19.",
    )
    concern: _text(  # type: ignore[valid-type]
        discovery.CONCERN_MAX,
        description="What is going on, in the person's words. Health information: shown to staff only.",
    ) = ""
    conditions: list[Slug] = Field(  # type: ignore[valid-type]
        default_factory=list, strict=True, description="Conditions it is about (optional), as on /conditions/."
    )
    heard_about: _one_of(discovery.DiscoveryCallRequest.HeardAbout.values) = ""  # type: ignore[valid-type]
    heard_about_other: _text(discovery.HEARD_ABOUT_OTHER_MAX, description="Where, when heard_about is other.") = ""  # type: ignore[valid-type]
    consent_to_contact: Flag = Field(
        description="The person agrees that the clinic may call and email them about this request."
    )
    timezone: _text(  # type: ignore[valid-type]
        64,
        description="The caller's IANA time zone, e.g. America/Edmonton: best_time is on their clock. "
        "Optional when the number tells it; else a 400 asks for it.",
    ) = ""


# Query strings: every value is text, and none is required by the model: the view judges
# them all, so that every field at fault is named at once (v1), an unknown or malformed slug or
# date with the message that says what to choose. The document says which are required.


def _query_text(description: str, **schema: Any) -> Any:
    return Annotated[str | None, WithJsonSchema({"type": "string", **schema, "description": description})]


def _query_slug(description: str) -> Any:
    return _query_text(description, pattern=f"^{SLUG_RE}$", minLength=1, maxLength=SLUG_MAX)


class PractitionerFilters(Request):
    service: _query_slug("Only practitioners offering it.") = None  # type: ignore[valid-type]
    location: _query_slug("Only practitioners working there.") = None  # type: ignore[valid-type]


class AvailabilityQuery(Request):
    model_config = ConfigDict(json_schema_extra=_demand("service", "location", "start", "end"))

    service: _query_slug("The service's slug.") = None  # type: ignore[valid-type]
    location: _query_slug("The location's slug.") = None  # type: ignore[valid-type]
    practitioner: _query_text(  # type: ignore[valid-type]
        PRACTITIONER_CHOICE, pattern=f"^{SLUG_RE}$", minLength=1, maxLength=SLUG_MAX, default="any"
    ) = None
    start: _query_text("First day, in the location's calendar.", format="date", maxLength=10) = None  # type: ignore[valid-type]
    end: _query_text(  # type: ignore[valid-type]
        "Last day, inclusive; at most 62 days from start.", format="date", maxLength=10
    ) = None


# Responses.

Instant = Annotated[
    str,
    Field(
        json_schema_extra={"format": "date-time"},
        description="RFC 3339 with the location's UTC offset, e.g. 2030-01-14T10:00:00-05:00.",
    ),
]


class Location(Response):
    slug: str
    name: str
    timezone: str = Field(description="IANA name, e.g. America/New_York.")
    address: str = Field(description="One line per row.")
    phone: str = Field(description="E.164, e.g. +16145550142.")

    @staticmethod
    def resolve_phone(location: catalogue.Location) -> str:
        return location.phone.as_e164 if location.phone else ""


class Service(Response):
    slug: str
    name: str
    kind: _one_of(catalogue.Service.Kind.values)  # type: ignore[valid-type]
    duration_minutes: int = Field(ge=5, le=480)
    price: str | None = Field(
        pattern=r"^[0-9]+\.[0-9]{2}$", description="In the clinic's currency, e.g. 120.00; null for a free service."
    )
    who_can_book: _one_of(catalogue.Service.WhoCanBook.values)  # type: ignore[valid-type]

    @staticmethod
    def resolve_price(service: catalogue.Service) -> str | None:
        return None if service.price is None else f"{service.price:.2f}"


class Practitioner(Response):
    slug: str
    name: str
    title: str
    services: list[str]
    locations: list[str]

    @staticmethod
    def resolve_services(practitioner: catalogue.Practitioner) -> list[str]:
        return [service.slug for service in practitioner.services.all()]

    @staticmethod
    def resolve_locations(practitioner: catalogue.Practitioner) -> list[str]:
        return [location.slug for location in practitioner.locations.all()]


class Slot(Response):
    start: Instant
    end: Instant
    practitioner: str


class Availability(Response):
    timezone: str = Field(description="The location's IANA time zone.")
    slots: list[Slot]


class Booking(Response):
    """A booking as its patient sees it: never the screening answers or patient details."""

    reference: str = Field(
        pattern="^[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{4}$", description="Short, to read out over the phone."
    )
    status: _one_of(Appointment.Status.values)  # type: ignore[valid-type]
    start: Instant
    end: Instant
    practitioner: str
    service: str
    location: str
    manage_token: str = Field(
        pattern=f"^{MANAGE_TOKEN_RE}$",
        description="The secret in the patient's manage link. Anyone holding it can change the booking.",
    )

    @staticmethod
    def resolve_start(appointment: Appointment) -> str:
        return appointment.start.astimezone(appointment.location.zone).isoformat()

    @staticmethod
    def resolve_end(appointment: Appointment) -> str:
        return appointment.end.astimezone(appointment.location.zone).isoformat()

    @staticmethod
    def resolve_practitioner(appointment: Appointment) -> str:
        return appointment.practitioner.slug

    @staticmethod
    def resolve_service(appointment: Appointment) -> str:
        return appointment.service.slug

    @staticmethod
    def resolve_location(appointment: Appointment) -> str:
        return appointment.location.slug


class Cancelled(Response):
    status: Literal["cancelled"]


class DiscoveryCall(Response):
    reference: str = Field(pattern="^DC-[2-9A-HJ-NP-Z]{5}$", description="Short, to read out over the phone.")


class FieldErrors(Response):
    errors: dict[str, list[str]] = Field(
        description='Messages by field; nested fields are dotted ("patient.email"), "body" is the whole body.',
        json_schema_extra={
            "minProperties": 1,
            "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
    )


class _Problem(Response):
    message: str


class NotFound(_Problem):
    code: Literal["not_found"]


class TooLarge(_Problem):
    code: Literal["too_large"]


class NotJson(_Problem):
    code: Literal["unsupported_media_type"]


class RateLimited(_Problem):
    code: Literal["rate_limited"]


class Busy(_Problem):
    code: Literal["busy"]


class TimeTaken(_Problem):
    code: Literal["slot_unavailable", "already_booked"]


class NotBookableOnline(_Problem):
    code: Literal["urgent_care", "initial_assessment_required"]


class KeyReused(_Problem):
    code: Literal["idempotency_key_reused"]


class NotChangeable(_Problem):
    code: Literal["too_late", "not_changeable"]


class NotMovable(_Problem):
    code: Literal["slot_unavailable", "too_late", "not_changeable"]

"""The OpenAPI 3.1 document of the JSON API v1, served at /api/v1/openapi.json.

Hand-written, and the contract: api.booking checks every request body against the
request schemas below (type, required, properties, items, enum, maxLength) before the
web forms see it, so the document cannot promise a shape the API does not enforce.
Formats (date, date-time, email), patterns and `const` are enforced by the forms and
the API's own parsers, which are stricter (e.g. date-time must be RFC 3339, with seconds).
Unknown properties are ignored, so additionalProperties is left open on requests and
closed on responses (a response never carries more than is written here).
"""

from booking import throttling
from booking.forms import NAME_MAX, TEXT_MAX
from booking.models import MANAGE_TOKEN_RE, Appointment
from clinic.models import Service
from discovery.models import CONCERN_MAX, HEARD_ABOUT_OTHER_MAX, DiscoveryCallRequest
from discovery.models import NAME_MAX as CALLER_NAME_MAX
from patients.services import RED_FLAGS

SLUG_RE = r"[-a-zA-Z0-9_]+"  # Django's slug characters
SLUG_MAX = 80  # CatalogueEntry.slug
PHONE_MAX = 32
NEEDLING_NOTES_MAX = 500
CANCELLATION_REASON_MAX = 500

_SLUG = {"type": "string", "minLength": 1, "maxLength": SLUG_MAX, "pattern": f"^{SLUG_RE}$"}
_PRACTITIONER_CHOICE = {
    "type": "string",
    "minLength": 1,
    "maxLength": SLUG_MAX,
    "pattern": f"^{SLUG_RE}$",
    "description": "A practitioner's slug, or `any` to let the clinic assign the first free qualified one.",
    "default": "any",
}
_INSTANT = {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339 with the location's UTC offset, e.g. 2030-01-14T10:00:00-05:00.",
}
_REQUESTED_START = {
    "type": "string",
    "format": "date-time",
    "maxLength": 64,
    "description": (
        "RFC 3339 with a UTC offset (a time without one is refused). It must be on the 15-minute grid of the "
        "location's clock, at least the minimum notice ahead and within the booking horizon."
    ),
}


def _object(properties: dict, *, required: list[str] | None = None, closed: bool = True) -> dict:
    schema: dict = {"type": "object", "properties": properties}
    schema["required"] = list(properties) if required is None else required
    if closed:
        schema["additionalProperties"] = False
    return schema


# Requests (api.booking validates against these dicts).

PATIENT_REQUEST = _object(
    {
        "first_name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
        "last_name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "phone": {
            "type": "string",
            "minLength": 1,
            "maxLength": PHONE_MAX,
            "description": "A mobile number; include the country code outside the US, e.g. +44 20 7946 0958.",
        },
        "date_of_birth": {"type": "string", "format": "date", "maxLength": 10},
    },
    closed=False,
)

SCREENING_REQUEST = _object(
    {
        "pregnant": {"type": "boolean"},
        "blood_thinners": {"type": "boolean"},
        "bleeding_disorder": {"type": "boolean"},
        "needle_fear": {"type": "boolean"},
        "needled_before": {"type": "boolean"},
        "previous_needling_notes": {"type": "string", "maxLength": NEEDLING_NOTES_MAX},
        "other_conditions": {"type": "string", "maxLength": TEXT_MAX},
        "red_flags": {
            "type": "array",
            "items": {"type": "string", "enum": list(RED_FLAGS)},
            "description": "Urgent symptoms the patient has now. Any of them stops the booking (422 urgent_care).",
        },
    },
    required=["pregnant", "blood_thinners", "bleeding_disorder", "needle_fear", "needled_before", "red_flags"],
    closed=False,
)

BOOKING_REQUEST = _object(
    {
        "service": _SLUG,
        "location": _SLUG,
        "practitioner": _PRACTITIONER_CHOICE,
        "start": _REQUESTED_START,
        "patient": PATIENT_REQUEST,
        "screening": SCREENING_REQUEST,
        "consent": {
            "type": "boolean",
            "const": True,
            "description": "The patient has read and agrees to the treatment consent.",
        },
    },
    required=["service", "location", "start", "patient", "screening", "consent"],
    closed=False,
)

CANCEL_REQUEST = _object(
    {"reason": {"type": "string", "maxLength": CANCELLATION_REASON_MAX}},
    required=[],
    closed=False,
)

RESCHEDULE_REQUEST = _object({"start": _REQUESTED_START}, closed=False)

DISCOVERY_CALL_REQUEST = _object(
    {
        "name": {"type": "string", "minLength": 1, "maxLength": CALLER_NAME_MAX},
        "phone": {
            "type": "string",
            "minLength": 1,
            "maxLength": PHONE_MAX,
            "description": "The number to call; include the country code outside the US, e.g. +44 20 7946 0958.",
        },
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "best_time": {
            "type": "string",
            "enum": DiscoveryCallRequest.BestTime.values,
            "description": "Weekdays, on the caller's clock (timezone): morning 9-12, afternoon 12-17, evening 17-19.",
        },
        "concern": {
            "type": "string",
            "maxLength": CONCERN_MAX,
            "description": "What is going on, in the person's words. Health information: shown to staff only.",
        },
        "conditions": {
            "type": "array",
            "items": {**_SLUG, "description": "A condition's slug, as on /conditions/."},
            "description": "Conditions it is about (optional).",
        },
        "heard_about": {"type": "string", "enum": DiscoveryCallRequest.HeardAbout.values},
        "heard_about_other": {
            "type": "string",
            "maxLength": HEARD_ABOUT_OTHER_MAX,
            "description": "Where, when heard_about is other.",
        },
        "consent_to_contact": {
            "type": "boolean",
            "const": True,
            "description": "The person agrees that the clinic may call and email them about this request.",
        },
        "timezone": {
            "type": "string",
            "maxLength": 64,
            "description": "The caller's IANA time zone, e.g. America/Edmonton: best_time is on their clock. "
            "Optional when the number tells it; else a 400 asks for it.",
        },
    },
    required=["name", "phone", "email", "best_time", "consent_to_contact"],
    closed=False,
)

# Responses.

_LOCATION = _object(
    {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "timezone": {"type": "string", "description": "IANA name, e.g. America/New_York."},
        "address": {"type": "string", "description": "One line per row."},
        "phone": {"type": "string", "description": "E.164, e.g. +16145550142."},
    }
)

_SERVICE = _object(
    {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": Service.Kind.values},
        "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
        "price": {
            "type": ["string", "null"],
            "pattern": r"^[0-9]+\.[0-9]{2}$",
            "description": "In the clinic's currency, e.g. 120.00; null for a free service.",
        },
        "who_can_book": {"type": "string", "enum": Service.WhoCanBook.values},
    }
)

_PRACTITIONER = _object(
    {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "title": {"type": "string"},
        "services": {"type": "array", "items": {"type": "string"}},
        "locations": {"type": "array", "items": {"type": "string"}},
    }
)

_SLOT = _object({"start": _INSTANT, "end": _INSTANT, "practitioner": {"type": "string"}})

_AVAILABILITY = _object(
    {
        "timezone": {"type": "string", "description": "The location's IANA time zone."},
        "slots": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
    }
)

_BOOKING = _object(
    {
        "reference": {
            "type": "string",
            "pattern": "^[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{4}$",
            "description": "Short, to read out over the phone.",
        },
        "status": {"type": "string", "enum": Appointment.Status.values},
        "start": _INSTANT,
        "end": _INSTANT,
        "practitioner": {"type": "string"},
        "service": {"type": "string"},
        "location": {"type": "string"},
        "manage_token": {
            "type": "string",
            "pattern": f"^{MANAGE_TOKEN_RE}$",
            "description": "The secret in the patient's manage link. Anyone holding it can change the booking.",
        },
    }
)

_DISCOVERY_CALL = _object(
    {
        "reference": {
            "type": "string",
            "pattern": "^DC-[2-9A-HJ-NP-Z]{5}$",
            "description": "Short, to read out over the phone.",
        }
    }
)

_FIELD_ERRORS = _object(
    {
        "errors": {
            "type": "object",
            "description": 'Messages by field; nested fields are dotted ("patient.email"), "body" is the whole body.',
            "minProperties": 1,
            "additionalProperties": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        }
    }
)


def _problem(*codes: str) -> dict:
    return _object({"code": {"type": "string", "enum": list(codes)}, "message": {"type": "string"}})


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_BAD_INPUT = _json("Invalid input: a message for each field at fault.", _ref("FieldErrors"))
_BUSY = {
    **_json(
        "Busy: another booking held this time longer than the lock timeout. Nothing changed: try again after "
        "Retry-After seconds.",
        _problem("busy"),
    ),
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}},
}
_NOT_FOUND = _json("No booking has this manage token.", _problem("not_found"))
_TOO_LARGE = _json("The request body is over 64 KiB.", _problem("too_large"))
_NOT_JSON = _json("The request body is not sent as application/json.", _problem("unsupported_media_type"))
_CHANGES_LIMIT = (
    "Bookings, cancellations and moves, here and on the web pages together, are limited per client address "
    f"({throttling.RATE}); a request refused for its fields is not counted."
)
_RATE_LIMITED = _json(
    "Too many requests from this client address; the message gives the clinic's number to call.",
    _problem("rate_limited"),
)

_MANAGE_TOKEN = {
    "name": "manage_token",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": f"^{MANAGE_TOKEN_RE}$", "maxLength": 64},
}


def _query(name: str, schema: dict, *, required: bool, description: str) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _body(name: str, *, required: bool) -> dict:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Clinic booking API",
        "version": "1.0.0",
        "description": (
            "Public and anonymous: no cookies, sessions or CSRF tokens. A booking is managed with the "
            "manage token returned when it is made. Times are RFC 3339 in the location's own time zone."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/locations": {
            "get": {
                "operationId": "listLocations",
                "summary": "Where the clinic works",
                "responses": {"200": _json("Active locations.", {"type": "array", "items": _ref("Location")})},
            }
        },
        "/services": {
            "get": {
                "operationId": "listServices",
                "summary": "What can be booked",
                "responses": {"200": _json("Active services.", {"type": "array", "items": _ref("Service")})},
            }
        },
        "/practitioners": {
            "get": {
                "operationId": "listPractitioners",
                "summary": "Who treats, optionally only those offering a service and/or working at a location",
                "parameters": [
                    _query("service", _SLUG, required=False, description="Only practitioners offering it."),
                    _query("location", _SLUG, required=False, description="Only practitioners working there."),
                ],
                "responses": {
                    "200": _json("Active practitioners.", {"type": "array", "items": _ref("Practitioner")}),
                    "400": _BAD_INPUT,
                },
            }
        },
        "/availability": {
            "get": {
                "operationId": "getAvailability",
                "summary": "Free start times for a service at a location",
                "parameters": [
                    _query("service", _SLUG, required=True, description="The service's slug."),
                    _query("location", _SLUG, required=True, description="The location's slug."),
                    _query("practitioner", _PRACTITIONER_CHOICE, required=False, description="A slug, or any."),
                    _query(
                        "start",
                        {"type": "string", "format": "date", "maxLength": 10},
                        required=True,
                        description="First day, in the location's calendar.",
                    ),
                    _query(
                        "end",
                        {"type": "string", "format": "date", "maxLength": 10},
                        required=True,
                        description="Last day, inclusive; at most 62 days from start.",
                    ),
                ],
                "responses": {"200": _json("Free slots, by start.", _ref("Availability")), "400": _BAD_INPUT},
            }
        },
        "/appointments": {
            "post": {
                "operationId": "bookAppointment",
                "summary": "Book an appointment",
                "description": _CHANGES_LIMIT,
                "requestBody": _body("BookingRequest", required=True),
                "responses": {
                    "201": _json("Booked.", _ref("Booking")),
                    "400": _BAD_INPUT,
                    "409": _json("The time is no longer free.", _problem("slot_unavailable", "already_booked")),
                    "413": _TOO_LARGE,
                    "415": _NOT_JSON,
                    "422": _json(
                        "Not bookable online: urgent symptoms, or a follow-up before any first visit.",
                        _problem("urgent_care", "initial_assessment_required"),
                    ),
                    "429": _RATE_LIMITED,
                    "503": _BUSY,
                },
            }
        },
        "/appointments/{manage_token}": {
            "parameters": [_MANAGE_TOKEN],
            "get": {
                "operationId": "getAppointment",
                "summary": "A booking (never its screening answers)",
                "responses": {"200": _json("The booking.", _ref("Booking")), "404": _NOT_FOUND},
            },
        },
        "/appointments/{manage_token}/cancel": {
            "parameters": [_MANAGE_TOKEN],
            "post": {
                "operationId": "cancelAppointment",
                "summary": "Cancel, until 24 hours before the start",
                "description": _CHANGES_LIMIT,
                "requestBody": _body("CancelRequest", required=False),
                "responses": {
                    "200": _json(
                        "Cancelled.", _object({"status": {"type": "string", "const": Appointment.Status.CANCELLED}})
                    ),
                    "400": _BAD_INPUT,
                    "404": _NOT_FOUND,
                    "409": _json(
                        "Too late to change online, or no longer confirmed.", _problem("too_late", "not_changeable")
                    ),
                    "413": _TOO_LARGE,
                    "415": _NOT_JSON,
                    "429": _RATE_LIMITED,
                    "503": _BUSY,
                },
            },
        },
        "/appointments/{manage_token}/reschedule": {
            "parameters": [_MANAGE_TOKEN],
            "post": {
                "operationId": "rescheduleAppointment",
                "summary": "Move to another free start with the same practitioner, until 24 hours before",
                "description": _CHANGES_LIMIT,
                "requestBody": _body("RescheduleRequest", required=True),
                "responses": {
                    "200": _json("The moved booking.", _ref("Booking")),
                    "400": _BAD_INPUT,
                    "404": _NOT_FOUND,
                    "409": _json(
                        "The new time is not free, it is too late to change online, or no longer confirmed.",
                        _problem("slot_unavailable", "too_late", "not_changeable"),
                    ),
                    "413": _TOO_LARGE,
                    "415": _NOT_JSON,
                    "429": _RATE_LIMITED,
                    "503": _BUSY,
                },
            },
        },
        "/discovery-calls": {
            "post": {
                "operationId": "requestDiscoveryCall",
                "summary": "Ask the clinic to call back for a free 15-minute discovery call",
                "description": (
                    "One request per phone number a day: a repeat within 24 hours stores nothing new and answers "
                    "201 with the first request's reference. Limited to 5 stored requests per client address "
                    "an hour. The clinic emails an acknowledgement to the address given."
                ),
                "requestBody": _body("DiscoveryCallRequest", required=True),
                "responses": {
                    "201": _json(
                        "Requested (or already requested from this number within 24 hours).", _ref("DiscoveryCall")
                    ),
                    "400": _BAD_INPUT,
                    "413": _TOO_LARGE,
                    "415": _NOT_JSON,
                    "429": _RATE_LIMITED,
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApiDocument",
                "summary": "This document",
                "responses": {"200": _json("OpenAPI 3.1.", {"type": "object"})},
            }
        },
    },
    "components": {
        "schemas": {
            "Location": _LOCATION,
            "Service": _SERVICE,
            "Practitioner": _PRACTITIONER,
            "Slot": _SLOT,
            "Availability": _AVAILABILITY,
            "Booking": _BOOKING,
            "BookingRequest": BOOKING_REQUEST,
            "CancelRequest": CANCEL_REQUEST,
            "RescheduleRequest": RESCHEDULE_REQUEST,
            "DiscoveryCall": _DISCOVERY_CALL,
            "DiscoveryCallRequest": DISCOVERY_CALL_REQUEST,
            "FieldErrors": _FIELD_ERRORS,
        }
    },
}

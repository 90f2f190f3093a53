"""How the JSON API v1 speaks HTTP, on django-ninja: one answer shape for every error.

- Input problems are 400 {"errors": {field: [message]}}, nested fields dotted
  ("patient.email"), the whole body as "body": ninja's validation errors are turned into
  messages written for the patient (ClinicApi.validation_error_from_error_contexts).
- Everything else is {"code", "message"}: a BookingError is 409, 422 or 503 (busy, with
  Retry-After); a body over 64 KiB 413; a body not sent as JSON 415; a wrong method 405
  with Allow; an unknown address 404.
- Anonymous by design: no CSRF token is asked for and no cookie grants anything. The
  manage token in the URL is the only credential, so a staff member's session cookie, sent
  along by a browser, must not turn an API call into a staff action.
"""

import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError, ValidationErrorContext
from ninja.parser import Parser

from api import schemas
from booking.services import BookingError

MAX_BODY_BYTES = 64 * 1024
BUSY_RETRY_AFTER_SECONDS = 5

REQUIRED = "This field is required."
WHOLE_BODY = "body"
_MESSAGES = {
    "string_type": "Please enter this as text.",
    "bool_type": "Please answer true or false.",
    "list_type": "Please send a list (it may be empty).",
    "model_type": "Please send these details as a JSON object.",
    "string_unicode": "Please use only ordinary letters, digits and punctuation.",  # a lone surrogate
}
_BOOKING_ERROR_STATUS = {
    "slot_unavailable": 409,
    "too_late": 409,
    "not_changeable": 409,
    "urgent_care": 422,
    "initial_assessment_required": 422,
    "busy": 503,  # another's lock outlasted BOOKING_LOCK_TIMEOUT_MS: nothing changed, try again
}

FieldErrors = dict[str, list[str]]


class Rejected(Exception):
    """Stops a view with an error answer."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(status)
        self.status = status
        self.body = body


def field_errors(errors: FieldErrors) -> Rejected:
    return Rejected(400, {"errors": errors})


def problem(status: int, code: str, message: str) -> Rejected:
    return Rejected(status, {"code": code, "message": message})


class InvalidFields(ValidationError):
    def __init__(self, errors: FieldErrors):
        super().__init__([])
        self.by_field = errors


def _message(error: Any, field: str) -> str:
    kind = error["type"]
    if kind == "missing":
        return "Please send the details as JSON." if field == WHOLE_BODY else REQUIRED
    if kind == "string_too_long":
        maximum = error["ctx"]["max_length"]
        return f"Please keep this to {maximum} characters or fewer (it has {len(error['input'])})."
    return _MESSAGES.get(kind, error["msg"])


def _field(source: str, location: tuple[int | str, ...]) -> str:
    if source == "body":
        location = location[1:]  # the view's parameter that holds the body
    return ".".join(str(part) for part in location if isinstance(part, str)) or WHOLE_BODY


class JsonBody(Parser):
    """The body as JSON, or Rejected: 413 past MAX_BODY_BYTES, 415 when not sent as JSON.
    (ninja asks only for a body that is not empty, and wraps what this raises in a 400
    HttpError; _http_error unwraps it.)"""

    def parse_body(self, request: HttpRequest) -> Any:
        if (declared_length(request) or 0) > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES:
            raise _too_large()
        assert request.content_type is not None  # set from the request's headers ("" without one)
        if request.content_type != "application/json" and not request.content_type.endswith("+json"):
            raise problem(415, "unsupported_media_type", "Please send the details as JSON (application/json).")
        return json.loads(request.body)


def declared_length(request: HttpRequest) -> int | None:
    """The Content-Length the client sent, None when it is not a number."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _too_large() -> Rejected:
    return problem(413, "too_large", "This request is too large. Please shorten your answers and try again.")


class ClinicApi(NinjaAPI):
    def get_content_type(self) -> str:
        return "application/json"  # JSON is UTF-8 by definition (RFC 8259): no charset parameter

    def validation_error_from_error_contexts(self, error_contexts: list[ValidationErrorContext]) -> ValidationError:
        errors: FieldErrors = {}
        for context in error_contexts:
            source = context.model.__ninja_param_source__
            reverse = context.model.__ninja_flatten_map_reverse__
            for error in context.pydantic_validation_error.errors(include_url=False):
                field = _field(source, reverse.get(error["loc"], error["loc"]))
                message = _message(error, field)
                if message not in errors.setdefault(field, []):
                    errors[field].append(message)
        return InvalidFields(errors)

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        return super().get_openapi_schema(path_prefix="", path_params=path_params)  # paths are under servers


# What each answer means, in the document, with its body's shape.
Answer = tuple[Any, str]
BAD_INPUT: Answer = (schemas.FieldErrors, "Invalid input: a message for each field at fault.")
NOT_FOUND: Answer = (schemas.NotFound, "No booking has this manage token.")
WITH_A_BODY: dict[int, Answer] = {
    400: BAD_INPUT,
    413: (schemas.TooLarge, "The request body is over 64 KiB."),
    415: (schemas.NotJson, "The request body is not sent as application/json."),
    429: (
        schemas.RateLimited,
        "Too many requests from this client address; the message gives the clinic's number to call.",
    ),
}
BUSY: Answer = (
    schemas.Busy,
    "Busy: another booking held this time longer than the lock timeout. Nothing changed: try again after "
    "Retry-After seconds.",
)


def answers(by_status: dict[int, Answer]) -> dict[str, Any]:
    """An operation's response= and openapi_extra=: each answer's shape and meaning, public
    (security: []), and the Retry-After of a 503."""
    extra: dict[str, Any] = {"security": [], "responses": {}}
    for status, (_shape, description) in sorted(by_status.items()):
        extra["responses"][status] = {"description": description}
    if 503 in by_status:
        extra["responses"][503]["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}
        }
    return {"response": {status: shape for status, (shape, _) in sorted(by_status.items())}, "openapi_extra": extra}


def answer(api: NinjaAPI, request: HttpRequest, rejected: Rejected) -> HttpResponse:
    return api.create_response(request, rejected.body, status=rejected.status)


def refusal_answer(error: BookingError, render: Callable[[Rejected], HttpResponse]) -> HttpResponse:
    """A BookingError as the API answers it: its status (409 unless said otherwise), its code and
    message, and when it is busy (503) the Retry-After to wait."""
    status = _BOOKING_ERROR_STATUS.get(error.code, 409)
    response = render(problem(status, error.code, error.message))
    if status == 503:
        response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    return response


ExceptionT = TypeVar("ExceptionT", bound=Exception)


def install_error_answers(api: NinjaAPI) -> None:
    def handle(exc_class: type[ExceptionT], handler: Callable[[HttpRequest, ExceptionT], HttpResponse]) -> None:
        # ninja types a handler as taking the exception or its class; it is called with the exception.
        api.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]

    def rejected(request: HttpRequest, exc: Rejected) -> HttpResponse:
        return answer(api, request, exc)

    def invalid(request: HttpRequest, exc: InvalidFields) -> HttpResponse:
        return answer(api, request, field_errors(exc.by_field))

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, Rejected):  # from JsonBody
            return answer(api, request, exc.__cause__)
        if isinstance(exc.__cause__, ValueError | RecursionError):  # incl. JSONDecodeError, UnicodeDecodeError
            return answer(
                api, request, field_errors({WHOLE_BODY: ["We could not read this request: it is not valid JSON."]})
            )
        return answer(api, request, problem(exc.status_code, "bad_request", str(exc)))

    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return answer(api, request, _too_large())

    def refused(request: HttpRequest, error: BookingError) -> HttpResponse:
        if error.code == "consent_required":
            return answer(api, request, field_errors({"consent": [error.message]}))
        return refusal_answer(error, lambda rejected: answer(api, request, rejected))

    handle(Rejected, rejected)
    handle(InvalidFields, invalid)
    handle(HttpError, http_error)
    handle(RequestDataTooBig, too_big)
    handle(BookingError, refused)


def answered_as_the_api(patterns: Iterable[Any]) -> list[URLPattern]:
    """ninja's URL patterns, each view made anonymous, HEAD answered as GET, a wrong method
    a JSON 405 with Allow; without ninja's own root page (api-root), which lists nothing here."""
    return [
        URLPattern(pattern.pattern, _as_the_api(pattern.callback), pattern.default_args, pattern.name)
        for pattern in patterns
        if pattern.name != "api-root"
    ]


def _as_the_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)  # keeps ninja's csrf_exempt
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Never look at the session: the history middleware would otherwise read it to
        # record a logged-in staff member as the actor of what is the patient's change.
        request.user = AnonymousUser()
        _blank_body_is_no_body(request)
        method = request.method
        if method == "HEAD":
            request.method = "GET"  # the server sends the headers only
        try:
            response = view(request, *args, **kwargs)
        finally:
            request.method = method
        if response.status_code != 405:
            return response
        allowed = {name.strip() for name in response["Allow"].split(",")}
        if "GET" in allowed:
            allowed.add("HEAD")
        refusal = JsonResponse(
            {"code": "method_not_allowed", "message": f"This address does not accept {method}."}, status=405
        )
        refusal["Allow"] = ", ".join(sorted(allowed))
        add_never_cache_headers(refusal)  # a 405 may be cached by default (RFC 9110)
        return refusal

    return wrapper


def _blank_body_is_no_body(request: HttpRequest) -> None:
    """A body of only whitespace is no body, as in v1 (ninja parses any non-empty body)."""
    length = declared_length(request)
    if length is not None and 0 < length <= MAX_BODY_BYTES and not request.body.strip():
        request._body = b""


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"code": "not_found", "message": "There is nothing at this address."}, status=404)

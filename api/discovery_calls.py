"""POST /api/v1/discovery-calls: a call-back request from another front end (the clinic's own
website, a chat widget), as a django-ninja router; the shape is api/schemas.py's
DiscoveryCallRequest, the answers are api/protocol.py's.

Answers: 201 {"reference"}, the reference of this request, also when this phone number already
asked within 24 hours (discovery.services.submit_call_request keeps it with the earlier one and
acknowledges it to the address typed): anything else would tell anyone who types a stranger's
number that this person asked a pain clinic for a call; 400
{"errors": {field: [message]}}; 429 {"code": "rate_limited", "message"} with the clinic's
number to call instead.
"""

from django.http import HttpRequest
from django.views.decorators.cache import never_cache
from ninja import Router, Status
from ninja.decorators import decorate_view

from api import schemas
from api.idempotency import idempotent, keyed_answers
from api.protocol import WITH_A_BODY, field_errors, problem
from clinic.throttling import REFUSED
from discovery import selectors
from discovery.forms import CallBackForm
from discovery.services import submit_call_request
from discovery.throttling import over_the_limit

router = Router()


@router.post(
    "/discovery-calls",
    **keyed_answers(
        {
            201: (schemas.DiscoveryCall, "Requested (or already requested from this number within 24 hours)."),
            **WITH_A_BODY,
        }
    ),
    operation_id="requestDiscoveryCall",
    summary="Ask the clinic to call back for a free 15-minute discovery call",
    description=(
        "One request per phone number a day: a repeat within 24 hours stores nothing new and answers "
        "201 with the first request's reference. Limited to 5 stored requests per client address "
        "an hour. The clinic emails an acknowledgement to the address given."
    ),
    url_name="discovery_calls",
)
@decorate_view(idempotent, never_cache)
def discovery_call_create(request: HttpRequest, body: schemas.DiscoveryCallRequest) -> Status:
    form = CallBackForm(data=body.model_dump())
    if not form.is_valid():
        raise field_errors({field: [str(message) for message in messages] for field, messages in form.errors.items()})
    if over_the_limit(request):
        raise problem(429, "rate_limited", _call_us_instead())
    call_request, _created = submit_call_request(details=form.details())
    return Status(201, {"reference": call_request.reference})


def _call_us_instead() -> str:
    numbers = " or ".join(location.phone.as_national for location in selectors.clinic_phones())
    return f"{REFUSED} Please call us on {numbers}." if numbers else f"{REFUSED} Please try again later."

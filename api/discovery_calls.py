"""POST /api/v1/discovery-calls: a call-back request from another front end (the clinic's own
website, a chat widget). The contract is DISCOVERY_CALL_REQUEST in api/openapi.py.

Routed in api/urls.py, which wraps this view in api.booking's api_view("POST"): CSRF-exempt,
anonymous (the session is never read), JSON errors.

Answers: 201 {"reference"}, the reference of this request, also when this phone number already
asked within 24 hours (discovery.services.submit_call_request keeps it with the earlier one and
acknowledges it to the address typed): anything else would tell anyone who types a stranger's
number that this person asked a pain clinic for a call; 400
{"errors": {field: [message]}}; 429 {"code": "rate_limited", "message"} with the clinic's
number to call instead.
"""

from django.http import HttpRequest, JsonResponse

from api.booking import field_errors, json_body, problem
from api.openapi import DISCOVERY_CALL_REQUEST
from clinic.throttling import REFUSED
from discovery import selectors
from discovery.forms import CallBackForm
from discovery.services import submit_call_request
from discovery.throttling import over_the_limit


def discovery_call_create(request: HttpRequest) -> JsonResponse:
    body = json_body(request, DISCOVERY_CALL_REQUEST, required=True)
    form = CallBackForm(data={**body, "conditions": body.get("conditions", [])})
    if not form.is_valid():
        raise field_errors({field: [str(message) for message in messages] for field, messages in form.errors.items()})
    if over_the_limit(request):
        raise problem(429, "rate_limited", _call_us_instead())
    call_request, _created = submit_call_request(details=form.details())
    return JsonResponse({"reference": call_request.reference}, status=201)


def _call_us_instead() -> str:
    numbers = " or ".join(location.phone.as_national for location in selectors.clinic_phones())
    return f"{REFUSED} Please call us on {numbers}." if numbers else f"{REFUSED} Please try again later."

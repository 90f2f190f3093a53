"""The /api/v1/ URLconf: the booking endpoints (api/booking.py) and the call-back requests
(api/discovery_calls.py), with the document that is their contract (api/openapi.py)."""

from django.urls import path, re_path
from django.views.decorators.cache import never_cache

from api.booking import (
    api_view,
    appointment_cancel,
    appointment_create,
    appointment_detail,
    appointment_reschedule,
    availability,
    location_list,
    not_found,
    openapi_document,
    practitioner_list,
    service_list,
)
from api.discovery_calls import discovery_call_create

urlpatterns = [
    path("locations", location_list, name="locations"),
    path("services", service_list, name="services"),
    path("practitioners", practitioner_list, name="practitioners"),
    path("availability", availability, name="availability"),
    path("appointments", appointment_create, name="appointments"),
    path("appointments/<str:manage_token>", appointment_detail, name="appointment"),
    path("appointments/<str:manage_token>/cancel", appointment_cancel, name="appointment_cancel"),
    path("appointments/<str:manage_token>/reschedule", appointment_reschedule, name="appointment_reschedule"),
    path("discovery-calls", never_cache(api_view("POST")(discovery_call_create)), name="discovery_calls"),
    path("openapi.json", openapi_document, name="openapi"),
    # Anything else under /api/v1/ answers JSON too, never the site's HTML 404 page.
    re_path(r"", not_found, name="not_found"),
]

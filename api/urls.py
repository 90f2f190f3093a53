"""The /api/v1/ URLconf: one django-ninja API of the booking operations (api/booking.py) and the
call-back requests (api/discovery_calls.py), with the OpenAPI document ninja writes from them."""

import functools
from typing import Any

from django.http import HttpRequest
from django.urls import re_path

from api import booking, discovery_calls
from api.protocol import ClinicApi, JsonBody, answered_as_the_api, answers, install_error_answers, not_found

app_name = "api"

api = ClinicApi(
    title="Clinic booking API",
    version="1.0.0",
    description=(
        "Public and anonymous: no cookies, sessions or CSRF tokens. A booking is managed with the "
        "manage token returned when it is made. Times are RFC 3339 in the location's own time zone."
    ),
    servers=[{"url": "/api/v1"}],
    openapi_extra={"info": {"license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}}},
    openapi_url=None,  # served below as an operation of its own, documented like the others
    docs_url=None,
    parser=JsonBody(),
    urls_namespace="api",
)
install_error_answers(api)
api.add_router("", booking.router)
api.add_router("", discovery_calls.router)


@api.get(
    "/openapi.json",
    **answers({200: (dict[str, Any], "OpenAPI 3.1.")}),
    operation_id="getOpenApiDocument",
    summary="This document",
    url_name="openapi",
)
def openapi_document(request: HttpRequest) -> dict[str, Any]:
    return _document()


@functools.cache
def _document() -> dict[str, Any]:
    # Written once per process: it changes only with the code (about 25 ms to build).
    return api.get_openapi_schema()


urlpatterns = [
    *answered_as_the_api(api.urls[0]),
    # Anything else under /api/v1/ answers JSON too, never the site's HTML 404 page.
    re_path(r"", not_found, name="not_found"),
]

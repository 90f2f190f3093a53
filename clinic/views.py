from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from clinic import selectors
from clinic.outage import RETRY_AFTER_SECONDS


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    services = list(selectors.public_services())
    return render(
        request,
        "clinic/home.html",
        {
            "services": services,
            "discovery_call": next((service for service in services if service.is_by_phone), None),
            "conditions": selectors.public_conditions(),
        },
    )


@require_safe
def service_list(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/service_list.html", {"services": selectors.public_services()})


@require_safe
def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "clinic/service_detail.html", {"service": selectors.public_service(slug=slug)})


@require_safe
def practitioner_list(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/practitioner_list.html", {"practitioners": selectors.public_practitioners()})


@require_safe
def practitioner_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(
        request, "clinic/practitioner_detail.html", {"practitioner": selectors.public_practitioner(slug=slug)}
    )


@require_safe
def condition_list(request: HttpRequest) -> HttpResponse:
    return render(request, "clinic/condition_list.html", {"conditions": selectors.public_conditions()})


@require_safe
def condition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "clinic/condition_detail.html", {"condition": selectors.public_condition(slug=slug)})


HEALTH_KEY = "healthz"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    # A real round-trip, so a load balancer takes an instance out when its database is gone.
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        response = HttpResponse("database unavailable", status=503, content_type="text/plain")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    # Without the shared cache the site still books (clinic/settings.py, REDIS_CACHE), so the
    # instance stays in: every instance shares the one Redis, and taking them all out would stop
    # bookings. The body tells monitoring.
    if not _cache_answers():
        return HttpResponse("ok; cache unavailable", content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def _cache_answers() -> bool:
    cache.set(HEALTH_KEY, "ok", 10)
    return cache.get(HEALTH_KEY) == "ok"

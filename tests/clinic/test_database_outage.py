"""A request that finds the database gone answers 503 with Retry-After (JSON on the API, a
page with the clinics' numbers elsewhere) and logs one line, not a traceback; any other error
is still the 500 page. The real outage (a PostgreSQL stopped under load, and its recovery) is
tests/scripts/test_database_outage.py."""

import logging

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import reverse

from clinic.outage import MESSAGE, OutageLogFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def unguarded():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_the_outage_answer(monkeypatch, unguarded, westerville, physio, error):
    import clinic.selectors

    assert unguarded.get(reverse("clinic:home")).status_code == 200

    def down(*args, **kwargs):
        raise error

    monkeypatch.setattr(clinic.selectors, "public_services", down)
    page = unguarded.get(reverse("clinic:service_list"))
    assert page.status_code == 503 and page["Retry-After"] == "30"
    text = page.content.decode()
    assert MESSAGE in text and "(614) 555-0142" in text and 'href="tel:+16145550142"' in text

    import api.booking

    monkeypatch.setattr(api.booking, "_appointment_by_token", down)
    api = unguarded.get("/api/v1/appointments/" + "a" * 43)
    assert api.status_code == 503 and api["Retry-After"] == "30"
    assert api.json() == {"code": "unavailable", "message": MESSAGE}


class GoneWhenRead:
    """A queryset whose database is gone: nothing fails until it is read."""

    def __iter__(self):
        raise OperationalError("server closed the connection")

    def distinct(self):
        return self


@pytest.mark.parametrize("selector", ["public_locations", "public_services", "public_practitioners"])
def test_an_api_list_read_while_the_database_is_gone_is_the_outage_answer(monkeypatch, unguarded, selector):
    # Read by ninja's pydantic, the error would become a validation error: a 500.
    import clinic.selectors

    monkeypatch.setattr(clinic.selectors, selector, GoneWhenRead)
    path = {"public_locations": "locations", "public_services": "services"}.get(selector, "practitioners")
    response = unguarded.get(f"/api/v1/{path}")
    assert response.status_code == 503 and response.json()["code"] == "unavailable"


def test_any_other_error_is_still_the_500_page(monkeypatch, unguarded):
    import clinic.selectors

    monkeypatch.setattr(clinic.selectors, "public_services", lambda *a, **k: 1 / 0)
    response = unguarded.get(reverse("clinic:service_list"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_the_log_says_it_once_a_minute_without_a_traceback():
    clock = [0.0]
    log_filter = OutageLogFilter(clock=lambda: clock[0])

    def record():
        try:
            raise OperationalError("connection refused")
        except OperationalError:
            import sys

            return logging.LogRecord("django.request", logging.ERROR, "", 0, "Internal Server Error: %s", ("/",),
                                     sys.exc_info())  # fmt: skip

    first = record()
    assert log_filter.filter(first) and first.exc_info is None and first.levelname == "WARNING"
    assert first.getMessage() == "Database unavailable (OperationalError): answering 503 with Retry-After"
    assert not any(log_filter.filter(record()) for _ in range(40))
    clock[0] = 61
    later = record()
    assert log_filter.filter(later)
    assert later.getMessage().endswith("; 40 more since the last line")
    other = logging.LogRecord("django.request", logging.ERROR, "", 0, "boom", (), (ZeroDivisionError,
                              ZeroDivisionError(), None))  # fmt: skip
    assert log_filter.filter(other) and other.exc_info is not None

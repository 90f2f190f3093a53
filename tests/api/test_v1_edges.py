"""Edges of the v1 contract that the move to django-ninja could have changed, each found by a
review comparing the two side by side: what is checked first, what counts as no body, what a
405 and an outage answer."""

import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import OperationalError, connection
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

import api.booking
from api.booking import LocalRfc3339
from clinic.outage import MESSAGE
from tests.api.test_booking import API, book, booking_payload, post_json

pytestmark = pytest.mark.django_db

UNKNOWN = "a" * 43


@pytest.mark.parametrize(
    ("action", "body", "content_type"),
    [
        ("reschedule", "{}", "application/json"),
        ("reschedule", "[]", "application/json"),
        ("cancel", "[]", "application/json"),
        ("cancel", "reason", "text/plain"),
        ("cancel", "", "multipart/form-data; boundary=x"),
    ],
)
def test_an_unknown_token_is_404_whatever_the_body(client, action, body, content_type):
    response = client.post(f"{API}/appointments/{UNKNOWN}/{action}", body, content_type=content_type)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert "no-cache" in response["Cache-Control"]


def test_a_body_of_whitespace_is_no_body(client, dry_needling, westerville, physio, open_all_week, ten_am):
    booking = book(client, dry_needling, westerville, ten_am)
    created = client.post(f"{API}/appointments", "  \n ", content_type="application/json")
    assert created.status_code == 400 and created.json() == {"errors": {"body": ["Please send the details as JSON."]}}
    cancelled = client.post(
        f"{API}/appointments/{booking['manage_token']}/cancel", " \t\r\n", content_type="application/json"
    )
    assert cancelled.status_code == 200 and cancelled.json() == {"status": "cancelled"}


def test_every_missing_availability_field_is_named_at_once(client):
    response = client.get(f"{API}/availability")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "service": ["This field is required."],
        "location": ["This field is required."],
        "start": ["This field is required."],
        "end": ["This field is required."],
    }
    only_dates = client.get(f"{API}/availability", {"start": "x", "end": "y"}).json()["errors"]
    assert set(only_dates) == {"service", "location", "start", "end"}


def test_the_document_says_which_query_fields_are_required(client):
    operation = client.get(f"{API}/openapi.json").json()["paths"]["/availability"]["get"]
    required = {parameter["name"]: parameter["required"] for parameter in operation["parameters"]}
    assert required == {"service": True, "location": True, "practitioner": False, "start": True, "end": True}


def test_a_wrong_method_is_not_cached(client):
    response = client.put(f"{API}/appointments")
    assert response.status_code == 405 and "no-cache" in response["Cache-Control"]


def test_an_outage_right_after_booking_anyone_is_the_outage_answer(
    monkeypatch, dry_needling, westerville, physio, open_all_week, ten_am
):
    """The booking is made; then the database goes. The answer must be the 503 that says a
    confirmation email means it went through, not a 500 from inside ninja's pydantic."""
    real_book, gone = api.booking.book_appointment, contextlib.ExitStack()

    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    def booked_then_down(**kwargs):
        appointment = real_book(**kwargs)
        gone.enter_context(connection.execute_wrapper(refuse))
        return appointment

    monkeypatch.setattr(api.booking, "book_appointment", booked_then_down)
    with gone:
        response = post_json(
            Client(raise_request_exception=False),
            f"{API}/appointments",
            booking_payload(dry_needling, westerville, ten_am),
        )
    assert response.status_code == 503 and response.json() == {"code": "unavailable", "message": MESSAGE}


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(["America/New_York", "America/Edmonton", "Asia/Kolkata", "Australia/Lord_Howe",
                          "Asia/Kathmandu", "Pacific/Chatham", "UTC", "America/St_Johns"]),
    minute=st.integers(0, 200 * 365 * 24 * 60),
)  # fmt: skip
def test_local_times_are_written_as_isoformat_writes_them(zone, minute):
    """The availability answer's encoder, across every kind of offset and clock change."""
    zone = ZoneInfo(zone)
    encode = LocalRfc3339(zone)
    for epoch in (minute * 60, 1762059600 + (minute % 1440) * 60):  # any time; around 2 Nov 2025 (DST ends)
        assert encode(epoch).decode() == datetime.fromtimestamp(epoch, zone).isoformat()

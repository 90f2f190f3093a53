"""POST /api/v1/discovery-calls against its OpenAPI document."""

import json

import pytest
from django.conf import settings
from django.test import Client

from discovery.models import DiscoveryCallRequest
from tests.api.document import conforms, request_schema, response_schema

pytestmark = pytest.mark.django_db

URL = "/api/v1/discovery-calls"
MISSING = object()


def payload(n: int = 0, **changes) -> dict:
    body = {
        "name": "Grace Hopper",
        "phone": f"+1 614 555 01{n:02d}",
        "email": f"grace{n}@example.com",
        "best_time": "evening",
        "concern": "Sciatica since a long drive",
        "consent_to_contact": True,
    }
    for key, value in changes.items():
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def post(client, body, content_type="application/json", **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data, content_type=content_type, **extra)


def schema(status: int) -> dict:
    return response_schema("/discovery-calls", "post", status)


def test_a_request_is_201_with_its_reference(client, sciatica, catalogue):
    response = post(client, payload(conditions=["sciatica"], heard_about="blog"))
    assert response.status_code == 201
    assert conforms(response.json(), schema(201))
    call_request = DiscoveryCallRequest.objects.get()
    assert response.json() == {"reference": call_request.reference}
    assert (str(call_request.phone), call_request.best_time, call_request.heard_about) == (
        "+16145550100",
        "evening",
        "blog",
    )
    assert list(call_request.conditions.all()) == [sciatica]


def test_only_the_documented_minimum_is_required(client):
    response = post(client, payload(concern=MISSING))
    assert response.status_code == 201


def test_a_repeat_from_the_same_phone_answers_exactly_like_a_new_request_and_never_with_the_first_reference(client):
    # Someone typing a stranger's number must not learn that this person asked a pain clinic
    # for a call: the same status and shape, a reference of its own, and an acknowledgement to
    # the address they typed, as for any new request.
    from django.core import mail
    from django.core.management import call_command

    first = post(client, payload(0))
    call_command("send_due_notifications")
    mail.outbox.clear()
    again = post(client, payload(0, name="Grace H.", phone="(614) 555-0100", email="someone.else@example.com"))
    new = post(client, payload(1))
    assert again.status_code == first.status_code == new.status_code == 201
    assert conforms(again.json(), schema(201))
    assert set(again.json()) == set(new.json()) == {"reference"}
    assert again.json()["reference"] != first.json()["reference"]
    call_command("send_due_notifications")
    acknowledged = sorted(message.to[0] for message in mail.outbox if message.to != [settings.CLINIC_EMAIL])
    assert acknowledged == ["grace1@example.com", "someone.else@example.com"]
    repeat = DiscoveryCallRequest.objects.get(reference=again.json()["reference"])
    assert repeat.repeat_of.reference == first.json()["reference"] and repeat.status == "closed"
    for message in mail.outbox:
        assert first.json()["reference"] not in message.body  # the earlier request stays unmentioned
    # Reception is told of the other new request, not of the repeat.
    assert len([message for message in mail.outbox if message.to == [settings.CLINIC_EMAIL]]) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ("", "body"),
        ("not json", "body"),
        ("{]", "body"),
        ("[]", "body"),
        ('"a string"', "body"),
        ("null", "body"),
        ("1e999999", "body"),
        ("[" * 100_00 + "]" * 100_00, "body"),
        (payload(name=MISSING), "name"),
        (payload(phone=MISSING), "phone"),
        (payload(email=MISSING), "email"),
        (payload(best_time=MISSING), "best_time"),
        (payload(consent_to_contact=MISSING), "consent_to_contact"),
        (payload(consent_to_contact=False), "consent_to_contact"),
        (payload(consent_to_contact="true"), "consent_to_contact"),
        (payload(consent_to_contact=1), "consent_to_contact"),
        (payload(name=None), "name"),
        (payload(name=""), "name"),
        (payload(name=["Grace"]), "name"),
        (payload(name={"first": "Grace"}), "name"),
        (payload(name="x" * 121), "name"),
        (payload(name="Grace\x00"), "name"),
        (payload(name="\ud800"), "name"),
        (payload(phone=6145550100), "phone"),
        (payload(phone="call me"), "phone"),
        (payload(phone="+999 1"), "phone"),
        (payload(phone="1" * 33), "phone"),
        (payload(email="grace"), "email"),
        (payload(email="x" * 250 + "@example.com"), "email"),
        (payload(best_time="midnight"), "best_time"),
        (payload(best_time=3), "best_time"),
        (payload(concern="x" * 2001), "concern"),
        (payload(concern=42), "concern"),
        (payload(conditions="sciatica"), "conditions"),
        (payload(conditions=[1]), "conditions"),
        (payload(conditions=["no-such-condition"]), "conditions"),
        (payload(conditions=[None]), "conditions"),
        (payload(heard_about="radio"), "heard_about"),
        (payload(heard_about_other="x" * 201), "heard_about_other"),
    ],
)
def test_malformed_bodies_are_400_field_errors(client, body, field):
    response = post(client, body)
    assert response.status_code == 400, response.content
    assert conforms(response.json(), schema(400))
    assert field in response.json()["errors"]
    assert not DiscoveryCallRequest.objects.exists()


def test_several_problems_are_reported_together(client):
    response = post(client, payload(phone="nope", email="nope", name=""))
    assert set(response.json()["errors"]) == {"phone", "email", "name"}


def test_a_body_over_64_kib_is_413_and_form_data_is_415(client):
    assert post(client, payload(concern="x" * 70_000)).status_code == 413
    assert client.post(URL, {"name": "Grace"}).status_code == 415


def test_the_sixth_stored_request_in_an_hour_is_429_with_the_clinic_phone(client, westerville, calgary):
    for n in range(5):
        assert post(client, payload(n)).status_code == 201
    for _ in range(3):  # malformed bodies are not counted, but are still refused
        assert post(client, payload(email="x")).status_code == 400
    limited = post(client, payload(9))
    assert limited.status_code == 429
    assert conforms(limited.json(), schema(429))
    assert limited.json()["code"] == "rate_limited"
    assert "(614) 555-0142" in limited.json()["message"] and "(403) 555-0163" in limited.json()["message"]
    assert DiscoveryCallRequest.objects.count() == 5
    assert post(client, payload(10), REMOTE_ADDR="198.51.100.7").status_code == 201


def test_the_web_page_and_the_api_share_one_limit(client, catalogue):
    for n in range(5):
        client.post(
            "/discovery-call/",
            {"name": "G", "phone": f"(614) 555-01{n:02d}", "email": "g@example.com", "best_time": "morning",
             "consent_to_contact": "on"},
        )  # fmt: skip
    assert post(client, payload(20)).status_code == 429


def test_no_csrf_token_and_no_session_are_needed_or_used(receptionist):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(receptionist)
    response = post(strict, payload())
    assert response.status_code == 201
    assert not response.cookies
    # The staff cookie that came along is not recorded as the author of the request.
    assert DiscoveryCallRequest.objects.get().history.get().history_user is None


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405_json(client, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_the_document_describes_the_request_and_the_form_limits(client):
    from discovery.forms import CallBackForm

    documented = request_schema("DiscoveryCallRequest")["properties"]
    for name, field in CallBackForm.base_fields.items():
        assert name in documented, name
        if getattr(field, "max_length", None):
            assert documented[name]["maxLength"] == field.max_length, name
    assert client.get("/api/v1/openapi.json").json()["paths"]["/discovery-calls"]["post"]["operationId"] == (
        "requestDiscoveryCall"
    )


def test_queries_are_bounded(client, catalogue, django_assert_max_num_queries):
    # One of them reads the clinic's calling clock, which the caller's window must meet.
    with django_assert_max_num_queries(12):
        assert post(client, payload(conditions=["sciatica"])).status_code == 201
    with django_assert_max_num_queries(7):  # a repeat of the first: kept with it
        assert post(client, payload()).status_code == 201

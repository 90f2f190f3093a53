"""The JSON API v1 (api/booking.py) against the OpenAPI document it serves."""

import copy
import json
import re
from datetime import UTC, time, timedelta

import pytest
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from api.protocol import not_found
from booking.availability import local_instant
from booking.forms import PatientDetailsForm, ScreeningForm
from booking.models import Appointment
from patients.models import Patient, Screening
from tests.api.document import conforms, document, request_schema, response_schema
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, ServiceFactory, patient_details

pytestmark = pytest.mark.django_db

API = "/api/v1"
MISSING = object()


def local_iso(instant, location) -> str:
    return timezone.localtime(instant, location.zone).isoformat()


def booking_payload(service, location, start, *, practitioner="any", n=0) -> dict:
    details = patient_details(n)
    return {
        "service": service.slug,
        "location": location.slug,
        "practitioner": practitioner if isinstance(practitioner, str) else practitioner.slug,
        "start": start if isinstance(start, str) else local_iso(start, location),
        "patient": {
            "first_name": details.first_name,
            "last_name": details.last_name,
            "email": details.email,
            "phone": "(614) 555-0142",
            "date_of_birth": details.date_of_birth.isoformat(),
        },
        "screening": {
            "pregnant": False,
            "blood_thinners": False,
            "bleeding_disorder": False,
            "needle_fear": False,
            "needled_before": False,
            "other_conditions": "",
            "red_flags": [],
        },
        "consent": True,
    }


def changed(payload: dict, dotted: str, value) -> dict:
    """A copy with one (nested, dotted) field set, or removed with MISSING."""
    result = copy.deepcopy(payload)
    *parents, last = dotted.split(".")
    target = result
    for key in parents:
        target = target[key]
    if value is MISSING:
        del target[last]
    else:
        target[last] = value
    return result


def post_json(client, url: str, payload, **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return client.post(url, body, content_type="application/json", **extra)


def book(client, service, location, start, **options):
    response = post_json(client, f"{API}/appointments", booking_payload(service, location, start, **options))
    assert response.status_code == 201, response.json()
    return response.json()


class TestCatalogue:
    def test_locations(self, client, westerville, calgary):
        LocationFactory(slug="closed", is_active=False)
        response = client.get(f"{API}/locations")
        assert response.status_code == 200
        assert conforms(response.json(), response_schema("/locations", "get", 200))
        assert {location["slug"]: location["phone"] for location in response.json()} == {
            "westerville": "+16145550142",
            "calgary": "+14035550163",
        }
        assert response.json()[0]["timezone"] in {"America/New_York", "America/Edmonton"}

    def test_services_with_prices_as_strings_or_null(self, client, dry_needling, discovery_call):
        ServiceFactory(slug="retired", is_active=False)
        response = client.get(f"{API}/services")
        assert response.status_code == 200
        assert conforms(response.json(), response_schema("/services", "get", 200))
        services = {service["slug"]: service for service in response.json()}
        assert set(services) == {"dry-needling-initial", "free-discovery-call"}
        assert services["dry-needling-initial"] == {
            "slug": "dry-needling-initial",
            "name": "Initial assessment + dry needling",
            "kind": "treatment",
            "duration_minutes": 60,
            "price": "95.00",
            "who_can_book": "anyone",
        }
        assert services["free-discovery-call"]["price"] is None
        assert services["free-discovery-call"]["kind"] == "discovery_call"

    def test_practitioners_filtered_by_service_and_location(self, client, catalogue):
        everyone = client.get(f"{API}/practitioners")
        assert everyone.status_code == 200
        assert conforms(everyone.json(), response_schema("/practitioners", "get", 200))
        maya = next(practitioner for practitioner in everyone.json() if practitioner["slug"] == "maya-lindqvist")
        assert maya["services"] == ["free-discovery-call", "dry-needling-initial"]  # the catalogue's order
        assert maya["locations"] == ["westerville"]

        def slugs(query: str) -> list[str]:
            return [practitioner["slug"] for practitioner in client.get(f"{API}/practitioners?{query}").json()]

        assert slugs("service=acupuncture-follow-up") == ["sofia-marchetti"]
        assert slugs("location=calgary") == ["sofia-marchetti"]
        assert slugs("location=westerville") == ["maya-lindqvist", "sofia-marchetti"]
        assert slugs("service=dry-needling-initial&location=calgary") == []

    @pytest.mark.parametrize("query, field", [("service=cupping", "service"), ("location=", "location")])
    def test_practitioners_with_an_unknown_filter_is_a_field_error(self, client, catalogue, query, field):
        response = client.get(f"{API}/practitioners?{query}")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field]


class TestAvailability:
    def url(self, service, location, first_day, last_day=None, practitioner=None) -> str:
        query = f"service={service.slug}&location={location.slug}&start={first_day}&end={last_day or first_day}"
        return f"{API}/availability?{query}" + (f"&practitioner={practitioner}" if practitioner else "")

    def test_free_slots_in_the_locations_time_with_the_practitioner(
        self, client, dry_needling, westerville, physio, open_all_week, booking_day, ten_am
    ):
        two_pm = local_instant(booking_day, time(14), westerville.zone)
        AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling, start=two_pm)
        response = client.get(self.url(dry_needling, westerville, booking_day))
        assert response.status_code == 200
        body = response.json()
        assert conforms(body, response_schema("/availability", "get", 200))
        assert body["timezone"] == "America/New_York"
        nine_am = local_instant(booking_day, time(9), westerville.zone)
        assert body["slots"][0] == {
            "start": local_iso(nine_am, westerville),
            "end": local_iso(nine_am + timedelta(minutes=60), westerville),
            "practitioner": "maya-lindqvist",
        }
        assert body["slots"][0]["start"].endswith(("-04:00", "-05:00"))
        starts = [slot["start"] for slot in body["slots"]]
        # 60 minutes plus a 15-minute buffer must fit around 14:00-14:45 and its own 15 minutes.
        for minutes, free in [(-75, True), (-60, False), (0, False), (45, False), (60, True), (120, True)]:
            assert (local_iso(two_pm + timedelta(minutes=minutes), westerville) in starts) is free, minutes
        assert starts[-1] == local_iso(two_pm + timedelta(hours=2), westerville)  # 16:00, ends at closing

    def test_the_phone_line_offers_only_discovery_calls(
        self, client, dry_needling, discovery_call, phone_line, physio, booking_day
    ):
        # Maya works the phone line and gives dry needling: a treatment is never offered there
        # (a probe once got 29 treatment times at the by-phone location, each refused with 409).
        physio.qualifications.get_or_create(service=dry_needling)
        treatments = client.get(self.url(dry_needling, phone_line, booking_day)).json()
        calls = client.get(self.url(discovery_call, phone_line, booking_day)).json()
        assert treatments["slots"] == []
        assert len(calls["slots"]) == 32  # 9:00-17:00 in 15-minute calls

    def test_one_practitioner_or_any(self, client, dry_needling, westerville, physio, acupuncturist, open_all_week,
                                     booking_day, ten_am):  # fmt: skip
        acupuncturist.qualifications.create(service=dry_needling)
        AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling, start=ten_am)
        slot_at_ten = {
            "start": local_iso(ten_am, westerville),
            "end": local_iso(ten_am + timedelta(hours=1), westerville),
        }
        anyone = client.get(self.url(dry_needling, westerville, booking_day, practitioner="any")).json()["slots"]
        assert {**slot_at_ten, "practitioner": "sofia-marchetti"} in anyone
        assert len({slot["start"] for slot in anyone}) == len(anyone)  # one slot per start
        maya = client.get(self.url(dry_needling, westerville, booking_day, practitioner="maya-lindqvist")).json()
        assert {slot["practitioner"] for slot in maya["slots"]} == {"maya-lindqvist"}
        assert slot_at_ten["start"] not in [slot["start"] for slot in maya["slots"]]

    def test_a_window_of_62_days_is_allowed(self, client, dry_needling, westerville, physio, open_all_week,
                                            booking_day):  # fmt: skip
        response = client.get(self.url(dry_needling, westerville, booking_day, booking_day + timedelta(days=61)))
        assert response.status_code == 200
        assert response.json()["slots"]

    @pytest.mark.parametrize(
        "params, field",
        [
            (lambda day: {"start": None}, "start"),
            (lambda day: {"start": "next tuesday"}, "start"),
            (lambda day: {"start": day.strftime("%m/%d/%Y")}, "start"),
            (lambda day: {"start": f"{day.year}-02-30", "end": f"{day.year}-03-01"}, "start"),
            (lambda day: {"end": (day - timedelta(days=1)).isoformat()}, "end"),  # end < start
            (lambda day: {"end": (day + timedelta(days=62)).isoformat()}, "end"),  # 63 days
            (lambda day: {"start": "0001-01-01", "end": "0001-01-31"}, "end"),  # in the past
            (
                lambda day: {
                    "start": (day - timedelta(days=30)).isoformat(),
                    "end": (day - timedelta(days=8)).isoformat(),
                },
                "end",
            ),  # ended yesterday
            (
                lambda day: {
                    "start": (day + timedelta(days=54)).isoformat(),
                    "end": (day + timedelta(days=60)).isoformat(),
                },
                "start",
            ),  # beyond the horizon
            (lambda day: {"start": "9999-12-01", "end": "9999-12-31"}, "start"),
            (lambda day: {"service": "cupping"}, "service"),
            (lambda day: {"service": None}, "service"),
            (lambda day: {"location": "paris"}, "location"),
            (lambda day: {"location": "west\x00erville"}, "location"),
            (lambda day: {"practitioner": "nobody"}, "practitioner"),
            (lambda day: {"practitioner": "sofia-marchetti"}, "practitioner"),  # not qualified for dry needling
            (lambda day: {"practitioner": ""}, "practitioner"),
        ],
    )
    def test_bad_input_is_a_field_error(self, client, dry_needling, westerville, physio, acupuncturist, open_all_week,
                                        booking_day, params, field):  # fmt: skip
        query = {
            "service": dry_needling.slug,
            "location": westerville.slug,
            "start": booking_day.isoformat(),
            "end": booking_day.isoformat(),
        } | params(booking_day)
        response = client.get(f"{API}/availability", {key: value for key, value in query.items() if value is not None})
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert list(errors) == [field]
        assert conforms(response.json(), response_schema("/availability", "get", 400))
        assert all(message.endswith((".", "”.")) for message in errors[field])


class TestBook:
    url = f"{API}/appointments"

    def test_books_with_screening_and_answers_in_the_locations_time(
        self, client, dry_needling, westerville, physio, open_all_week, ten_am
    ):
        payload = booking_payload(dry_needling, westerville, ten_am, practitioner=physio)
        payload["screening"] |= {"blood_thinners": True, "other_conditions": "Asthma"}
        response = post_json(client, self.url, payload)
        assert response.status_code == 201
        body = response.json()
        assert conforms(body, response_schema("/appointments", "post", 201))
        appointment = Appointment.objects.get()
        assert body == {
            "reference": appointment.reference,
            "status": "confirmed",
            "start": local_iso(ten_am, westerville),
            "end": local_iso(ten_am + timedelta(minutes=60), westerville),
            "practitioner": "maya-lindqvist",
            "service": "dry-needling-initial",
            "location": "westerville",
            "manage_token": appointment.manage_token,
        }
        assert (appointment.start, appointment.source) == (ten_am, "online")
        assert appointment.patient.phone == "+16145550142"
        assert appointment.screening.flags == ["Blood thinners"]
        assert appointment.screening.other_conditions == "Asthma"
        assert response["Cache-Control"].startswith("max-age=0")  # never_cache: it carries the manage token

    def test_any_practitioner_lets_the_clinic_choose(self, client, acupuncture, westerville, acupuncturist,
                                                     open_all_week, ten_am):  # fmt: skip
        payload = changed(booking_payload(acupuncture, westerville, ten_am), "practitioner", MISSING)
        response = post_json(client, self.url, payload)
        assert response.status_code == 201
        assert response.json()["practitioner"] == "sofia-marchetti"

    def test_a_start_in_another_offset_is_the_same_instant(self, client, dry_needling, westerville, physio,
                                                           open_all_week, ten_am):  # fmt: skip
        in_utc = ten_am.astimezone(UTC).isoformat().replace("+00:00", "Z")
        assert book(client, dry_needling, westerville, in_utc)["start"] == local_iso(ten_am, westerville)

    def test_a_taken_slot_is_409(self, client, dry_needling, westerville, physio, open_all_week, ten_am):
        book(client, dry_needling, westerville, ten_am)
        response = post_json(client, self.url, booking_payload(dry_needling, westerville, ten_am, n=1))
        assert response.status_code == 409
        assert response.json() == {
            "code": "slot_unavailable",
            "message": "That time was just taken. Please choose another time.",
        }
        assert conforms(response.json(), response_schema("/appointments", "post", 409))

    @pytest.mark.parametrize("consent", [True, False, MISSING])
    def test_red_flags_are_422_urgent_care_and_nothing_is_kept(self, client, dry_needling, westerville, physio,
                                                               open_all_week, ten_am, consent):  # fmt: skip
        payload = booking_payload(dry_needling, westerville, ten_am)
        payload["screening"] |= {"red_flags": ["bladder_bowel"], "pregnant": True}
        response = post_json(client, self.url, changed(payload, "consent", consent))
        assert response.status_code == 422
        assert response.json()["code"] == "urgent_care"
        assert "emergency" in response.json()["message"]
        assert conforms(response.json(), response_schema("/appointments", "post", 422))
        assert (Patient.objects.count(), Appointment.objects.count(), Screening.objects.count()) == (0, 0, 0)

    def test_a_follow_up_before_a_first_visit_is_422(self, client, acupuncture, westerville, acupuncturist,
                                                     open_all_week, ten_am):  # fmt: skip
        acupuncture.who_can_book = "returning"
        acupuncture.save()
        response = post_json(client, self.url, booking_payload(acupuncture, westerville, ten_am))
        assert response.status_code == 422
        assert response.json()["code"] == "initial_assessment_required"
        assert "initial assessment first" in response.json()["message"]
        assert Appointment.objects.count() == 0

    @pytest.mark.parametrize("consent", [False, MISSING])
    def test_without_consent_is_a_field_error(self, client, dry_needling, westerville, physio, open_all_week, ten_am,
                                              consent):  # fmt: skip
        payload = changed(booking_payload(dry_needling, westerville, ten_am), "consent", consent)
        response = post_json(client, self.url, payload)
        assert response.status_code == 400
        assert response.json() == {"errors": {"consent": ["Please read and agree to the treatment consent to book."]}}
        assert Appointment.objects.count() == Patient.objects.count() == 0

    @pytest.mark.parametrize(
        "field, value",
        [
            ("consent", "yes"),
            ("consent", 1),
            ("patient", []),
            ("patient", MISSING),
            ("screening", "none"),
            ("service", MISSING),
            ("service", 7),
            ("service", "cupping"),
            ("service", "x" * 10_000),
            ("location", "paris"),
            ("practitioner", "sofia-marchetti"),  # not qualified for dry needling
            ("practitioner", None),
            ("start", MISSING),
            ("start", 1_700_000_000),
            ("start", "tomorrow at ten"),
            ("patient.first_name", MISSING),
            ("patient.first_name", ""),
            ("patient.first_name", "   "),
            ("patient.first_name", "A" * 10_000),
            ("patient.first_name", "Ada\x00"),
            ("patient.last_name", ["Lovelace"]),
            ("patient.email", "ada@"),
            ("patient.email", "a" * 250 + "@example.com"),
            ("patient.phone", "call me"),
            ("patient.phone", "1" * 40),
            ("patient.date_of_birth", "1980/01/01"),
            ("patient.date_of_birth", "01/17/1980"),
            ("patient.date_of_birth", "1980-02-30"),
            ("patient.date_of_birth", "2999-01-01"),
            ("screening.pregnant", "no"),
            ("screening.pregnant", MISSING),
            ("screening.red_flags", ["chest_pain"]),
            ("screening.red_flags", "bladder_bowel"),
            ("screening.red_flags", [None]),
            ("screening.other_conditions", "x" * 2001),
            ("screening.other_conditions", None),
            ("screening.previous_needling_notes", "x" * 501),
        ],
    )
    def test_bad_input_is_a_field_error_and_books_nothing(self, client, dry_needling, westerville, physio,
                                                          acupuncturist, open_all_week, ten_am, field,
                                                          value):  # fmt: skip
        payload = changed(booking_payload(dry_needling, westerville, ten_am), field, value)
        response = post_json(client, self.url, payload)
        assert response.status_code == 400, response.json()
        assert list(response.json()["errors"]) == [field]
        assert conforms(response.json(), response_schema("/appointments", "post", 400))
        assert Appointment.objects.count() == Patient.objects.count() == 0

    def test_bad_start_times_are_field_errors(self, client, dry_needling, westerville, physio, open_all_week,
                                              ten_am):  # fmt: skip
        # Within the two hours' notice but on the grid: 15 to 30 minutes from now, on a quarter hour.
        soon = (timezone.now() + timedelta(minutes=30)).replace(second=0, microsecond=0)
        soon -= timedelta(minutes=soon.minute % 15)
        naive = timezone.localtime(ten_am, westerville.zone).replace(tzinfo=None).isoformat()
        cases = {
            local_iso(ten_am + timedelta(minutes=7), westerville): "every 15 minutes",
            local_iso(ten_am + timedelta(seconds=30), westerville): "every 15 minutes",
            local_iso(ten_am - timedelta(days=14), westerville): "already passed",
            local_iso(soon, westerville): "at least 2 hours' notice",
            local_iso(ten_am + timedelta(days=60), westerville): "up to 60 days ahead",
            naive: "time zone offset",
            local_iso(ten_am, westerville)[:16]: "time zone offset",  # no seconds, no offset
            local_iso(ten_am, westerville).replace("T", " "): "date and time with its offset",
            "0001-01-01T00:00:00+01:00": "date and time with its offset",
            f"{ten_am.year}-13-01T10:00:00Z": "date and time with its offset",
            "x" * 100: "64 characters or fewer",
        }
        for start, message in cases.items():
            response = post_json(client, self.url, booking_payload(dry_needling, westerville, start))
            assert response.status_code == 400, start
            assert list(response.json()["errors"]) == ["start"], start
            assert message in response.json()["errors"]["start"][0], start
        assert Appointment.objects.count() == 0

    def test_field_errors_are_reported_together(self, client, dry_needling, westerville, physio, open_all_week,
                                                ten_am):  # fmt: skip
        # The shape first (types, required fields, lengths), all at once...
        payload = booking_payload(dry_needling, westerville, ten_am + timedelta(minutes=5))
        payload["patient"] |= {"email": 42, "phone": "1" * 40}
        payload["screening"] |= {"red_flags": ["bladder_bowel", "made_up", "also_made_up"], "pregnant": "yes"}
        del payload["location"]
        response = post_json(client, self.url, payload)
        assert response.json() == {
            "errors": {
                "location": ["This field is required."],
                "patient.email": ["Please enter this as text."],
                "patient.phone": ["Please keep this to 32 characters or fewer (it has 40)."],
                "screening.pregnant": ["Please answer true or false."],
                "screening.red_flags": ["That is not one of the choices."],
            }
        }
        # ...then the values, all at once.
        payload = booking_payload(dry_needling, westerville, ten_am + timedelta(minutes=5))
        payload["patient"] |= {"email": "not an email", "date_of_birth": "2999-01-01"}
        payload["practitioner"] = "nobody"
        response = post_json(client, self.url, payload)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"start", "practitioner", "patient.email", "patient.date_of_birth"}

    @pytest.mark.parametrize(
        "body",
        [
            '{"service": ',
            "not json",
            b"\xff\xfe\x00",
            "[]",
            "null",
            '"a string"',
            "[" * 30_000 + "]" * 30_000,  # nested deeper than Python recurses, under 64 KiB
            '{"patient": {"first_name": "\\ud800"}}',
            "",
        ],
    )
    def test_malformed_bodies_are_field_errors(self, client, dry_needling, westerville, body):
        response = post_json(client, self.url, body)
        assert response.status_code == 400
        assert "errors" in response.json()

    def test_a_huge_body_is_413(self, client, dry_needling, westerville, ten_am):
        payload = booking_payload(dry_needling, westerville, ten_am)
        payload["screening"]["other_conditions"] = "x" * 70_000
        response = post_json(client, self.url, payload)
        assert response.status_code == 413
        assert response.json()["code"] == "too_large"

    def test_a_body_that_is_not_json_is_415(self, client, dry_needling, westerville, ten_am):
        payload = json.dumps(booking_payload(dry_needling, westerville, ten_am))
        response = client.post(self.url, payload, content_type="text/plain")
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_media_type"

    def test_the_booking_query_count_is_bounded(self, client, dry_needling, westerville, physio, open_all_week,
                                                ten_am, django_assert_max_num_queries):  # fmt: skip
        for day in range(1, 6):
            AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling,
                               start=ten_am + timedelta(days=day))  # fmt: skip
        with django_assert_max_num_queries(15):
            book(client, dry_needling, westerville, ten_am, practitioner=physio)
        with django_assert_max_num_queries(15):
            book(client, dry_needling, westerville, ten_am + timedelta(hours=2), n=1)  # any practitioner


@pytest.fixture
def booking(client, dry_needling, westerville, physio, open_all_week, ten_am) -> dict:
    payload = booking_payload(dry_needling, westerville, ten_am, practitioner=physio)
    payload["screening"] |= {"pregnant": True, "needle_fear": True, "other_conditions": "Asthma and a pacemaker"}
    payload["patient"]["first_name"] = "Grace"
    response = post_json(client, f"{API}/appointments", payload)
    assert response.status_code == 201
    return response.json()


@pytest.fixture
def due_soon(dry_needling, westerville, physio) -> Appointment:
    """Confirmed, three hours from now: inside the 24-hour cancellation window."""
    return AppointmentFactory(
        practitioner=physio, location=westerville, service=dry_needling, start=timezone.now() + timedelta(hours=3)
    )


class TestManage:
    def test_get_the_booking_without_any_screening_or_patient_data(self, client, booking):
        response = client.get(f"{API}/appointments/{booking['manage_token']}")
        assert response.status_code == 200
        assert response.json() == booking
        assert conforms(response.json(), response_schema("/appointments/{manage_token}", "get", 200))
        page = response.content.decode()
        for private in ("Asthma", "pacemaker", "pregnant", "needle", "screening", "Grace", "example.com"):
            assert private not in page

    @pytest.mark.parametrize("token", ["no-such-token", "x" * 65, "abc%00def", "..%2F..%2Fetc"])
    def test_an_unknown_token_is_404_everywhere(self, client, booking, ten_am, token):
        for response in (
            client.get(f"{API}/appointments/{token}"),
            post_json(client, f"{API}/appointments/{token}/cancel", {}),
            post_json(client, f"{API}/appointments/{token}/reschedule", {"start": booking["start"]}),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
            assert response.json()["message"]

    def test_cancel(self, client, booking):
        url = f"{API}/appointments/{booking['manage_token']}/cancel"
        response = post_json(client, url, {"reason": "  Feeling better  "})
        assert response.status_code == 200
        assert response.json() == {"status": "cancelled"}
        appointment = Appointment.objects.get()
        assert (appointment.status, appointment.cancellation_reason) == ("cancelled", "Feeling better")
        assert appointment.history.latest().history_change_reason == "cancelled by patient"

        again = post_json(client, url, {})
        assert again.status_code == 409
        assert again.json() == {"code": "not_changeable", "message": "This appointment is cancelled."}
        assert conforms(again.json(), response_schema("/appointments/{manage_token}/cancel", "post", 409))

    def test_cancel_needs_no_body(self, client, booking):
        response = client.generic("POST", f"{API}/appointments/{booking['manage_token']}/cancel")
        assert response.status_code == 200

    @pytest.mark.parametrize("body", [{"reason": 5}, {"reason": "x" * 501}, {"reason": "a\x00b"}, "[1]", "{"])
    def test_cancel_with_a_bad_reason_is_a_field_error(self, client, booking, body):
        response = post_json(client, f"{API}/appointments/{booking['manage_token']}/cancel", body)
        assert response.status_code == 400
        assert set(response.json()["errors"]) <= {"reason", "body"}
        assert Appointment.objects.get().status == "confirmed"

    def test_cancel_inside_the_window_is_too_late(self, client, due_soon):
        response = post_json(client, f"{API}/appointments/{due_soon.manage_token}/cancel", {})
        assert response.status_code == 409
        assert response.json()["code"] == "too_late"
        assert "24 hours" in response.json()["message"]
        due_soon.refresh_from_db()
        assert due_soon.status == "confirmed"

    def test_reschedule(self, client, booking, westerville, booking_day):
        tomorrow_at_two = local_instant(booking_day + timedelta(days=1), time(14), westerville.zone)
        url = f"{API}/appointments/{booking['manage_token']}/reschedule"
        response = post_json(client, url, {"start": local_iso(tomorrow_at_two, westerville)})
        assert response.status_code == 200
        assert response.json() == booking | {
            "start": local_iso(tomorrow_at_two, westerville),
            "end": local_iso(tomorrow_at_two + timedelta(hours=1), westerville),
        }
        assert conforms(response.json(), response_schema("/appointments/{manage_token}/reschedule", "post", 200))
        assert Appointment.objects.get().start == tomorrow_at_two

    def test_reschedule_onto_a_taken_time_is_409(self, client, booking, dry_needling, westerville, physio, ten_am):
        other = book(client, dry_needling, westerville, ten_am + timedelta(hours=2), practitioner=physio, n=1)
        url = f"{API}/appointments/{booking['manage_token']}/reschedule"
        response = post_json(client, url, {"start": other["start"]})
        assert response.status_code == 409
        assert response.json()["code"] == "slot_unavailable"
        assert Appointment.objects.get(reference=booking["reference"]).start == ten_am

    def test_reschedule_inside_the_window_is_too_late(self, client, due_soon, open_all_week, ten_am, westerville):
        url = f"{API}/appointments/{due_soon.manage_token}/reschedule"
        response = post_json(client, url, {"start": local_iso(ten_am, westerville)})
        assert response.status_code == 409
        assert response.json()["code"] == "too_late"

    @pytest.mark.parametrize(
        "body, field",
        [
            ({}, "start"),
            ({"start": None}, "start"),
            ("", "body"),
            ("{]", "body"),
            ("[]", "body"),
        ],
    )
    def test_reschedule_with_bad_input_is_a_field_error(self, client, booking, body, field):
        response = post_json(client, f"{API}/appointments/{booking['manage_token']}/reschedule", body)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field]

    def test_reschedule_off_the_grid_naive_or_past_is_a_field_error(self, client, booking, westerville, ten_am):
        url = f"{API}/appointments/{booking['manage_token']}/reschedule"
        for start in (
            local_iso(ten_am + timedelta(days=1, minutes=10), westerville),
            timezone.localtime(ten_am + timedelta(days=1), westerville.zone).replace(tzinfo=None).isoformat(),
            local_iso(ten_am - timedelta(days=14), westerville),
            local_iso(ten_am + timedelta(days=60), westerville),
        ):
            response = post_json(client, url, {"start": start})
            assert response.status_code == 400, start
            assert list(response.json()["errors"]) == ["start"]
        assert Appointment.objects.get().start == ten_am


class TestProtocol:
    @pytest.mark.parametrize(
        "method, path, allow",
        [
            ("delete", "/locations", "GET, HEAD"),
            ("post", "/services", "GET, HEAD"),
            ("put", "/availability", "GET, HEAD"),
            ("get", "/appointments", "POST"),
            ("get", "/appointments/token/cancel", "POST"),
            ("patch", "/appointments/token", "GET, HEAD"),
            ("options", "/openapi.json", "GET, HEAD"),
        ],
    )
    def test_a_wrong_method_is_405_json(self, client, method, path, allow):
        response = getattr(client, method)(f"{API}{path}")
        assert response.status_code == 405
        assert response["Allow"] == allow
        assert response.json()["code"] == "method_not_allowed"

    @pytest.mark.parametrize("path", ["/nothing", "/locations/", "/appointments/a/b/c", "/"])
    def test_unknown_addresses_are_404_json(self, client, path):
        for response in (client.get(f"{API}{path}"), client.post(f"{API}{path}")):
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"

    def test_csrf_is_not_required(self, dry_needling, westerville, physio, open_all_week, ten_am):
        strict = Client(enforce_csrf_checks=True)
        booked = book(strict, dry_needling, westerville, ten_am)
        response = post_json(strict, f"{API}/appointments/{booked['manage_token']}/cancel", {})
        assert response.status_code == 200

    def test_no_cookies_are_set_or_honoured(self, client, receptionist, booking, dry_needling, westerville,
                                            booking_day, ten_am):  # fmt: skip
        client.force_login(receptionist)  # a staff session cookie rides along, as from a browser
        token = booking["manage_token"]
        responses = [
            client.get(f"{API}/locations"),
            client.get(f"{API}/services"),
            client.get(f"{API}/practitioners"),
            client.get(
                f"{API}/availability?service={dry_needling.slug}&location=westerville&start={booking_day}"
                f"&end={booking_day}"
            ),
            post_json(
                client,
                f"{API}/appointments",
                booking_payload(dry_needling, westerville, ten_am + timedelta(hours=2), n=1),
            ),
            client.get(f"{API}/appointments/{token}"),
            post_json(client, f"{API}/appointments/{token}/cancel", {}),
            client.get(f"{API}/openapi.json"),
            client.get(f"{API}/nothing"),
        ]
        for response in responses:
            assert response.status_code < 500
            assert not response.cookies
            assert "Cookie" not in response.get("Vary", "")  # the session was never read
        cancelled = Appointment.objects.get(reference=booking["reference"])
        # The patient cancelled through the API, not the receptionist whose cookie came along.
        assert cancelled.history.latest().history_user is None


class TestOpenApiDocument:
    def test_is_served_as_json_with_every_path(self, client):
        response = client.get(f"{API}/openapi.json")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        served = json.loads(response.content)
        assert served == document()
        assert served["openapi"] == "3.1.0"
        assert served["servers"] == [{"url": "/api/v1"}]
        assert served["info"]["license"] == {"name": "Apache-2.0", "identifier": "Apache-2.0"}
        assert set(served["paths"]) == {
            "/locations",
            "/services",
            "/practitioners",
            "/availability",
            "/appointments",
            "/appointments/{manage_token}",
            "/appointments/{manage_token}/cancel",
            "/appointments/{manage_token}/reschedule",
            "/discovery-calls",
            "/openapi.json",
        }

    def test_every_path_is_routed_and_every_reference_resolves(self, client):
        for path, operations in document()["paths"].items():
            match = resolve(API + path.replace("{manage_token}", "some-token"))
            assert match.func is not not_found, path
            assert match.app_name == "api"
            for method in set(operations) - {"parameters"}:
                response = getattr(client, method)(API + path.replace("{manage_token}", "some-token"))
                assert response.status_code != 405, (method, path)
                assert str(response.status_code) in operations[method]["responses"], (method, path)
        references = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(document()))
        assert references and set(references) <= set(document()["components"]["schemas"])

    def test_every_operation_is_public_and_documents_every_answer_it_gives(self):
        for path, operations in document()["paths"].items():
            for method, operation in operations.items():
                assert operation["security"] == [], (method, path)
                for status, answer in operation["responses"].items():
                    assert answer["description"] and answer["description"][0].isupper(), (status, path)
                    assert "application/json" in answer["content"], (status, path)

    def test_request_limits_match_the_forms(self):
        patient = request_schema("PatientRequest")["properties"]
        screening = request_schema("ScreeningRequest")["properties"]
        for name, field in PatientDetailsForm.base_fields.items():
            if getattr(field, "max_length", None):
                assert patient[name]["maxLength"] == field.max_length, name
        for name, field in ScreeningForm.base_fields.items():
            if name != "consent" and getattr(field, "max_length", None):
                assert screening[name]["maxLength"] == field.max_length, name
        assert set(screening["red_flags"]["items"]["enum"]) == {
            code for code, _ in ScreeningForm.base_fields["red_flags"].choices
        }
        assert set(patient) == set(PatientDetailsForm.base_fields)
        assert set(screening) == set(ScreeningForm.base_fields) - {"consent"}


class TestQueryBounds:
    @pytest.fixture
    def two_hundred_appointments(self, dry_needling, westerville, physio, acupuncturist, open_all_week, booking_day):
        acupuncturist.qualifications.create(service=dry_needling)
        patients = {physio: PatientFactory(), acupuncturist: PatientFactory()}  # one can't be in two rooms
        for day in range(50):
            for practitioner in (physio, acupuncturist):
                for hour in (9, 13):
                    start = local_instant(booking_day + timedelta(days=day), time(hour), westerville.zone)
                    AppointmentFactory(patient=patients[practitioner], practitioner=practitioner, location=westerville,
                                       service=dry_needling, start=start)  # fmt: skip
        assert Appointment.objects.count() == 200

    @pytest.mark.parametrize("days", [1, 62])
    @pytest.mark.parametrize("practitioner", ["any", "maya-lindqvist"])
    def test_availability_runs_at_most_six_queries(self, client, two_hundred_appointments, dry_needling, westerville,
                                                   booking_day, django_assert_max_num_queries, days,
                                                   practitioner):  # fmt: skip
        last_day = booking_day + timedelta(days=days - 1)
        url = (
            f"{API}/availability?service={dry_needling.slug}&location=westerville&practitioner={practitioner}"
            f"&start={booking_day}&end={last_day}"
        )
        with django_assert_max_num_queries(6):
            response = client.get(url)
        assert response.status_code == 200
        starts = [slot["start"] for slot in response.json()["slots"]]
        assert starts
        assert local_iso(local_instant(booking_day, time(9), westerville.zone), westerville) not in starts

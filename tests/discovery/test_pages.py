"""The public call-back page /discovery-call/ and its thank-you page."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail, signing
from django.urls import reverse

from discovery.models import DiscoveryCallRequest
from discovery.views import THANKS_SALT
from tests.discovery.factories import DiscoveryCallRequestFactory

pytestmark = pytest.mark.django_db

URL = "/discovery-call/"
NEW_YORK = ZoneInfo("America/New_York")


def form_data(n: int = 0, **changes) -> dict:
    data = {
        "name": "Grace Hopper",
        "phone": f"(614) 555-01{n:02d}",
        "email": f"grace{n}@example.com",
        "best_time": "morning",
        "concern": "Burning pain down the back of my left leg",
        "heard_about": "friend",
        "consent_to_contact": "on",
        "website": "",
    }
    return {**data, **changes}


@pytest.fixture
def page_ready(catalogue, by_phone):
    """The small clinic, with Maya taking discovery calls "By phone"."""
    return catalogue


class TestForm:
    def test_explains_both_options_with_a_link_into_the_wizard(self, client, page_ready):
        response = client.get(URL)
        assert response.status_code == 200
        page = response.content.decode()
        assert 'href="/book/?service=free-discovery-call&amp;location=by-phone"' in page
        assert "Ask for a call back" in page
        for field in ("name", "phone", "email", "best_time", "concern", "consent_to_contact"):
            assert f'name="{field}"' in page
        assert 'value="sciatica"' in page  # conditions to pick from

    def test_without_a_phone_line_only_the_call_back_is_offered(self, client, catalogue):
        page = client.get(URL).content.decode()
        assert "location=by-phone" not in page
        assert "Ask us to call you" in page

    def test_the_honeypot_is_hidden_from_people_and_screen_readers(self, client, page_ready):
        page = client.get(URL).content.decode()
        assert '<div class="visually-hidden" aria-hidden="true">' in page
        assert '<input type="text" name="website" id="id_website" value="" tabindex="-1" autocomplete="off">' in page

    def test_the_home_page_and_how_to_book_link_here(self, client, page_ready, dry_needling):
        assert f'href="{URL}"' in client.get("/").content.decode()
        assert f'href="{URL}"' in client.get(dry_needling.get_absolute_url()).content.decode()

    def test_the_phone_line_is_not_listed_as_a_clinic(self, client, page_ready):
        footer = client.get(URL).content.decode().split("<footer", 1)[1]
        assert "Westerville" in footer and "By phone" not in footer


class TestSubmit:
    def test_a_request_is_stored_and_the_thank_you_page_says_when_we_call(self, client, page_ready, sciatica):
        monday_7am = datetime(2030, 1, 14, 7, tzinfo=NEW_YORK)
        with time_machine.travel(monday_7am, tick=False):
            response = client.post(URL, form_data(conditions=["sciatica"]))
            assert response.status_code == 302
            thanks = client.get(response["Location"])
        call_request = DiscoveryCallRequest.objects.get()
        assert (call_request.name, str(call_request.phone), call_request.best_time) == (
            "Grace Hopper",
            "+16145550100",
            "morning",
        )
        assert list(call_request.conditions.all()) == [sciatica]
        assert call_request.heard_about == "friend"
        page = thanks.content.decode()
        assert thanks.status_code == 200
        assert call_request.reference in page
        assert "today, Monday 14 January" in page
        # Calgary keeps another clock: the promise says which one it is on.
        assert "in the morning, between 9 am and 12 pm (New York time)" in page
        assert "clinic time" not in page
        assert "Grace" not in page and "Burning" not in page  # nothing personal on a page at a shareable URL
        assert len(mail.outbox) == 0  # the emails are the worker's job

    def test_the_thank_you_address_carries_no_personal_or_health_data(self, client, page_ready):
        location = client.post(URL, form_data(conditions=["sciatica"]))["Location"]
        for typed in ("Grace", "Hopper", "555", "grace0", "Burning", "sciatica", "friend"):
            assert typed.lower() not in location.lower()
        token = location.rstrip("/").rsplit("/", 1)[1]
        note = signing.loads(token, salt=THANKS_SALT)
        # The zone of the caller's clock ("America/New_York"), which millions share: no one's data.
        assert set(note) == {"reference", "best_time", "day", "zone"}
        assert note["reference"] == DiscoveryCallRequest.objects.get().reference

    def test_a_late_friday_request_is_promised_for_monday(self, client, page_ready):
        with time_machine.travel(datetime(2030, 1, 18, 16, tzinfo=NEW_YORK), tick=False):
            thanks = client.post(URL, form_data(best_time="afternoon"), follow=True)
        assert "on Monday 21 January" in thanks.content.decode()

    def test_a_repeat_from_the_same_phone_shows_a_page_like_any_other(self, client, page_ready):
        first = DiscoveryCallRequestFactory(phone="+16145550100")
        thanks = client.post(URL, form_data(), follow=True).content.decode()
        assert first.reference not in thanks
        repeat = DiscoveryCallRequest.objects.get(repeat_of=first)
        assert repeat.reference in thanks and "already" not in thanks

    def test_field_errors_are_shown_with_everything_typed_kept(self, client, page_ready):
        response = client.post(URL, form_data(phone="not a phone", email="grace@", consent_to_contact=""))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Enter a valid phone number" in page
        assert "Please agree to be contacted so we can call you back." in page
        assert 'value="Grace Hopper"' in page and 'value="not a phone"' in page
        assert "Burning pain down the back of my left leg</textarea>" in page
        assert not DiscoveryCallRequest.objects.exists()

    @pytest.mark.parametrize(
        "changes",
        [
            {"name": "Grace\x00Hopper"},
            {"concern": "x" * 5000},
            {"name": "x" * 500},
            {"best_time": "midnight"},
            {"best_time": ""},
            {"conditions": ["no-such-condition"]},
            {"conditions": ["../../etc"]},
            {"heard_about": "radio"},
            {"phone": "+999"},
            {"phone": "1" * 300},
        ],
    )
    def test_bad_input_is_a_field_error_never_a_500(self, client, page_ready, changes):
        response = client.post(URL, form_data(**changes))
        assert response.status_code == 200
        assert "Please check the answers marked below" in response.content.decode()
        assert not DiscoveryCallRequest.objects.exists()

    def test_an_empty_post_is_a_form_with_errors(self, client, page_ready):
        response = client.post(URL, {})
        assert response.status_code == 200
        assert not DiscoveryCallRequest.objects.exists()


def test_a_staff_member_browsing_the_site_is_not_recorded_as_the_author(client, page_ready, receptionist):
    client.force_login(receptionist)
    assert client.post(URL, form_data()).status_code == 302
    assert DiscoveryCallRequest.objects.get().history.get().history_user is None


class TestSpam:
    def test_a_filled_honeypot_shows_the_normal_thank_you_page_and_stores_nothing(self, client, page_ready):
        response = client.post(URL, form_data(website="http://spam.example"))
        assert response.status_code == 302
        thanks = client.get(response["Location"])
        assert thanks.status_code == 200
        assert "Your reference: <strong" in thanks.content.decode()
        assert not DiscoveryCallRequest.objects.exists()

    def test_the_sixth_request_in_an_hour_gets_the_clinic_phone_and_keeps_the_answers(self, client, page_ready):
        for n in range(5):
            assert client.post(URL, form_data(n)).status_code == 302
        response = client.post(URL, form_data(6, name="Rita Limited", concern="My neck, for weeks"))
        assert response.status_code == 429
        page = response.content.decode()
        assert "Please call us instead" in page
        assert 'href="tel:+16145550142"' in page and 'href="tel:+14035550163"' in page
        assert 'value="Rita Limited"' in page and "My neck, for weeks</textarea>" in page
        assert DiscoveryCallRequest.objects.count() == 5
        # Another address is not affected.
        other = client.post(URL, form_data(7), REMOTE_ADDR="203.0.113.9")
        assert other.status_code == 302

    def test_mistakes_do_not_use_up_the_limit(self, client, page_ready):
        for _ in range(10):
            assert client.post(URL, form_data(email="nope")).status_code == 200
        assert client.post(URL, form_data()).status_code == 302

    def test_honeypot_submissions_count_towards_the_limit(self, client, page_ready):
        for n in range(5):
            client.post(URL, form_data(n, website="spam"))
        assert client.post(URL, form_data(9)).status_code == 429


class TestThanks:
    @pytest.mark.parametrize("token", ["nonsense", "eyJ4IjoxfQ:1abc:def", "a" * 300])
    def test_a_mangled_link_goes_back_to_the_form(self, client, token):
        response = client.get(reverse("discovery:thanks", args=[token]))
        assert response.status_code == 302
        assert response["Location"] == URL

    def test_a_validly_signed_note_of_the_wrong_shape_goes_back_to_the_form(self, client):
        token = signing.dumps({"reference": "DC-AAAAA", "best_time": "noon", "day": "x"}, salt=THANKS_SALT)
        assert client.get(reverse("discovery:thanks", args=[token]))["Location"] == URL


class TestQueryBounds:
    def test_the_form_page(self, client, page_ready, django_assert_max_num_queries):
        with django_assert_max_num_queries(5):
            assert client.get(URL).status_code == 200

    def test_a_submission(self, client, page_ready, django_assert_max_num_queries):
        with django_assert_max_num_queries(12):
            assert client.post(URL, form_data(conditions=["sciatica"])).status_code == 302

    def test_the_thank_you_page(self, client, page_ready, django_assert_max_num_queries):
        location = client.post(URL, form_data())["Location"]
        with django_assert_max_num_queries(2):
            assert client.get(location).status_code == 200


def test_the_form_page_serialises_no_health_data_into_cookies(client, page_ready):
    response = client.post(URL, form_data())
    assert not any("Burning" in json.dumps(cookie.value) for cookie in response.cookies.values())

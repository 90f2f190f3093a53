"""The public waiting-list pages: join from the day picker, your place by its link, an offer."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment
from booking.services import cancel_appointment
from tests.factories import AppointmentFactory
from tests.helpers import book
from tests.waitlist.helpers import join, make_offers
from waitlist.models import WaitlistEntry, WaitlistOffer

pytestmark = pytest.mark.django_db

JOIN = reverse("waitlist:join")


def _join_data(day, **changes):
    data = {
        "practitioner": "any",
        "first_day": day.isoformat(),
        "last_day": (day + timedelta(days=3)).isoformat(),
        "times_of_day": ["mornings", "afternoons"],
        "first_name": "Wanda",
        "last_name": "Waiting",
        "email": "wanda@example.com",
        "phone": "(614) 555-0177",
    }
    return {**data, **changes}


def _join_url(**params):
    query = "&".join(
        f"{name}={value}"
        for name, value in {"service": "dry-needling-initial", "location": "westerville", **params}.items()
    )
    return f"{JOIN}?{query}"


def test_the_day_picker_offers_the_waiting_list_with_the_choices_so_far(client, catalogue, open_all_week):
    response = client.get(
        reverse("booking:start") + "?service=dry-needling-initial&location=westerville&practitioner=maya-lindqvist"
    )

    assert "Tell me if an earlier time opens" in response.text
    assert (
        f"{JOIN}?service=dry-needling-initial&amp;location=westerville&amp;practitioner=maya-lindqvist" in response.text
    )


def test_the_join_form_starts_from_today_for_two_weeks_with_the_chosen_practitioner(client, catalogue):
    response = client.get(_join_url(practitioner="maya-lindqvist"))

    today = timezone.localtime(timezone.now(), catalogue["locations"][0].zone).date()
    assert response.status_code == 200
    assert f'value="{today.isoformat()}"' in response.text
    assert f'value="{(today + timedelta(days=13)).isoformat()}"' in response.text
    assert '<option value="maya-lindqvist" selected>' in response.text


def test_joining_says_check_your_email_and_the_emailed_link_leads_to_the_place(client, catalogue, booking_day):
    response = client.post(_join_url(), _join_data(booking_day))

    entry = WaitlistEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("waitlist:joined") + "?service=dry-needling-initial&location=westerville"
    assert entry.token not in response["Location"]
    assert (entry.first_day, entry.mornings, entry.evenings, str(entry.phone)) == (
        booking_day,
        True,
        False,
        "+16145550177",
    )
    page = client.get(response["Location"])
    assert "Check your email" in page.text and entry.token not in page.text
    place = client.get(reverse("waitlist:entry", args=[entry.token]))
    assert "Leave the waiting list" in place.text and "Change the days or times" in place.text


@pytest.mark.parametrize(
    ("changes", "field_error"),
    [
        ({"first_day": "2020-01-01"}, "That day has passed"),
        ({"last_day": "not a day"}, "Enter the day as YYYY-MM-DD."),
        ({"times_of_day": []}, "Choose at least one time of day."),
        ({"phone": "12"}, "Enter a valid phone number"),
        ({"practitioner": "sofia-marchetti"}, "Choose someone from the list"),
        ({"first_day": "9999-12-31", "last_day": "9999-12-31"}, "Bookings open 60 days ahead"),
        ({"first_name": "\x00"}, "Null characters are not allowed."),
    ],
)
def test_bad_input_is_explained_and_what_was_typed_kept(client, catalogue, booking_day, changes, field_error):
    response = client.post(_join_url(), _join_data(booking_day, **changes))

    assert response.status_code == 200
    assert field_error in response.text
    assert 'value="wanda@example.com"' in response.text
    assert not WaitlistEntry.objects.exists()


def test_joining_without_a_service_goes_back_to_the_wizard(client, catalogue):
    assert client.get(JOIN + "?service=nope&location=westerville")["Location"] == reverse("booking:start")


def test_joining_is_rate_limited_per_address_and_keeps_what_was_typed(client, catalogue, booking_day):
    for n in range(10):
        assert client.post(_join_url(), _join_data(booking_day, email=f"w{n}@example.com")).status_code == 302

    response = client.post(_join_url(), _join_data(booking_day, email="late@example.com"))

    assert response.status_code == 429
    assert 'value="late@example.com"' in response.text
    assert WaitlistEntry.objects.count() == 10


def test_an_unknown_overlong_or_odd_link_is_a_plain_404(client, catalogue):
    for token in ["x" * 43, "x" * 65]:
        assert client.get(reverse("waitlist:entry", args=[token])).status_code == 404
        assert client.get(reverse("waitlist:offer", args=[token])).status_code == 404
        assert client.post(reverse("waitlist:leave", args=[token])).status_code == 404
    for path in ["/waitlist/%00/", "/waitlist/offers/%00/", "/waitlist/%C3%A9t%C3%A9/", "/waitlist/%00/leave/"]:
        assert client.get(path).status_code in {404, 405}


def test_leaving_by_the_link(client, catalogue, booking_day):
    entry = join(catalogue["services"][0], catalogue["locations"][0], booking_day)

    assert client.get(reverse("waitlist:leave", args=[entry.token])).status_code == 405
    response = client.post(reverse("waitlist:leave", args=[entry.token]), follow=True)

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT
    assert "You have left the waiting list" in response.text


def test_the_place_shows_times_free_right_now_that_match(client, catalogue, open_all_week, booking_day):
    entry = join(catalogue["services"][0], catalogue["locations"][0], booking_day, mornings=False, evenings=False)

    response = client.get(reverse("waitlist:entry", args=[entry.token]))

    assert "Free right now" in response.text
    assert "12:00 PM" in response.text
    assert "9:00 AM" not in response.text


def test_the_place_page_reads_a_constant_few_rows(
    client, catalogue, open_all_week, booking_day, django_assert_max_num_queries
):
    entry = join(catalogue["services"][0], catalogue["locations"][0], booking_day)

    with django_assert_max_num_queries(7):  # with the practitioners the change form offers
        client.get(reverse("waitlist:entry", args=[entry.token]))


# Offers --------------------------------------------------------------------------------------


@pytest.fixture
def offer(catalogue, open_all_week, booking_day, ten_am):
    dry_needling, westerville = catalogue["services"][0], catalogue["locations"][0]
    appointment = book(dry_needling, westerville, ten_am)
    join(dry_needling, westerville, booking_day, n=1)
    join(dry_needling, westerville, booking_day, n=2)
    cancel_appointment(appointment=appointment, actor=None)
    return make_offers()[0]


def _booking_answers(**changes):
    data = {
        "first_name": "Wanda",
        "last_name": "Waiting1",
        "email": "wanda1@example.com",
        "phone": "+16145550177",
        "date_of_birth": "1985-04-02",
        "consent": "on",
    }
    return {**data, **changes}


def test_the_offer_is_the_booking_form_filled_in_from_the_waiting_list(client, offer, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = client.get(reverse("waitlist:offer", args=[offer.token]))

    assert response.status_code == 200
    assert "A time has opened for you" in response.text
    assert 'value="wanda1@example.com"' in response.text
    assert 'value="Waiting1"' in response.text
    assert f'action="{reverse("waitlist:offer", args=[offer.token])}"' in response.text


def test_confirming_the_offer_books_the_exact_time(client, offer, ten_am):
    response = client.post(reverse("waitlist:offer", args=[offer.token]), _booking_answers())

    appointment = Appointment.objects.get(status="confirmed")
    assert response.status_code == 302
    assert response["Location"] == reverse("booking:manage", args=[appointment.manage_token]) + "?booked=1"
    assert (appointment.start, appointment.practitioner_id) == (ten_am, offer.practitioner_id)
    # The link now leads to the booking.
    again = client.get(reverse("waitlist:offer", args=[offer.token]))
    assert again["Location"] == reverse("booking:manage", args=[appointment.manage_token])


def test_an_offer_someone_else_took_says_so_and_shows_what_is_free(client, offer, catalogue, ten_am):
    other = WaitlistOffer.objects.exclude(pk=offer.pk).get()
    assert (
        client.post(reverse("waitlist:offer", args=[other.token]), _booking_answers(email="w2@example.com")).status_code
        == 302
    )

    page = client.get(reverse("waitlist:offer", args=[offer.token]))
    posted = client.post(reverse("waitlist:offer", args=[offer.token]), _booking_answers())

    assert page.status_code == 410
    assert "Sorry, that time has gone" in page.text
    assert "You are still on the waiting list" in page.text
    assert "Free right now" in page.text
    assert posted.status_code == 409
    assert Appointment.objects.filter(status="confirmed").count() == 1


def test_bad_answers_on_the_offer_keep_what_was_typed(client, offer):
    response = client.post(
        reverse("waitlist:offer", args=[offer.token]), _booking_answers(date_of_birth="", consent="")
    )

    assert response.status_code == 200
    assert "Please check the answers marked below" in response.text
    assert 'value="wanda1@example.com"' in response.text


def test_red_flags_on_the_offer_give_urgent_care_advice(client, offer):
    response = client.post(reverse("waitlist:offer", args=[offer.token]), _booking_answers(red_flags=["both_legs"]))

    assert "urgent care" in response.text
    assert not Appointment.objects.filter(status="confirmed").exists()


def test_an_offer_after_leaving_is_closed(client, offer):
    client.post(reverse("waitlist:leave", args=[offer.entry.token]))

    response = client.get(reverse("waitlist:offer", args=[offer.token]))

    assert response.status_code == 410
    assert "This offer is closed" in response.text


def test_a_newcomer_offered_a_follow_up_is_sent_on_to_book_the_first_visit(
    client, catalogue, open_all_week, booking_day, ten_am, acupuncturist
):
    dry_needling, acupuncture, westerville = (
        catalogue["services"][0],
        catalogue["services"][1],
        catalogue["locations"][0],
    )
    acupuncture.who_can_book = "returning"
    acupuncture.save()
    dry_needling.who_can_book = "new"
    dry_needling.save()
    returning_visit = AppointmentFactory(
        service=acupuncture, location=westerville, practitioner=acupuncturist, start=ten_am,
        end=ten_am + timedelta(minutes=60), blocked_until=ten_am + timedelta(minutes=75),
    )  # fmt: skip
    join(acupuncture, westerville, booking_day, n=1)
    cancel_appointment(appointment=returning_visit, actor=None)
    offered = make_offers()[0]

    page = client.post(reverse("waitlist:offer", args=[offered.token]), _booking_answers()).content.decode()

    assert "Please book an initial assessment first" in page
    # The first visit's form goes to the wizard's details step, which books it; the offer would refuse it again.
    assert f'action="{reverse("booking:details")}"' in page
    assert f'<input type="hidden" name="service" value="{dry_needling.slug}">' in page
    assert 'value="Waiting1"' in page

"""The open calendar's poll: 204 while nothing it shows has changed, the grid again as soon as
another desk (or a patient online) books, moves or cancels; 401 once the login has ended; and
the poll itself never keeps a login alive."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from booking.models import TimeOff
from booking.services import cancel_appointment, reschedule_appointment
from reception.selectors import calendar_version
from tests.helpers import book

pytestmark = pytest.mark.django_db
UPDATES = reverse("reception:calendar_updates")


@pytest.fixture
def desk(client, receptionist):
    client.force_login(receptionist)
    return client


def poll(client, location, day, version):
    return client.get(UPDATES, {"location": location.slug, "date": day.isoformat(), "version": version})


def shown_version(location, day) -> str:
    return calendar_version(location=location, day=day, show_calls=True)


@pytest.fixture
def frozen(ten_am):
    # The version carries the minute (the "now" line moves): hold the clock still.
    with time_machine.travel(ten_am - timedelta(days=1), tick=False) as clock:
        yield clock


def test_nothing_changed_is_a_204_without_a_body(frozen, desk, westerville, physio, open_all_week, booking_day):
    version = shown_version(westerville, booking_day)
    response = poll(desk, westerville, booking_day, version)
    assert response.status_code == 204 and response.content == b""


def test_another_desks_booking_move_and_cancellation_each_come_through(
    frozen, desk, receptionist, dry_needling, westerville, physio, open_all_week, booking_day, ten_am
):
    version = shown_version(westerville, booking_day)

    appointment = book(dry_needling, westerville, ten_am, practitioner=physio, first_name="Newly", last_name="Booked")
    response = poll(desk, westerville, booking_day, version)
    assert response.status_code == 200 and "Newly Booked" in response.content.decode()
    version = response.context["version"]
    assert poll(desk, westerville, booking_day, version).status_code == 204

    reschedule_appointment(appointment=appointment, new_start=ten_am + timedelta(hours=2), actor=receptionist)
    response = poll(desk, westerville, booking_day, version)
    assert response.status_code == 200 and "12:00 PM–1:00 PM" in response.content.decode()
    version = response.context["version"]

    cancel_appointment(appointment=appointment, reason="Rang", actor=receptionist)
    response = poll(desk, westerville, booking_day, version)
    assert response.status_code == 200 and "<del>" in response.content.decode()


def test_time_off_and_bookings_elsewhere_change_the_version_too(
    frozen, physio, acupuncturist, westerville, calgary, acupuncture, open_all_week, booking_day, ten_am
):
    version = shown_version(westerville, booking_day)
    TimeOff.objects.create(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1))
    assert shown_version(westerville, booking_day) != version

    version = shown_version(westerville, booking_day)
    # Sofia works at Westerville too: her Calgary patient takes her time there.
    from booking.models import WorkingHours

    WorkingHours.objects.create(
        practitioner=acupuncturist, location=calgary, weekday=booking_day.weekday(), start_time=ten_am.time(),
        end_time=(ten_am + timedelta(hours=8)).time(),
    )  # fmt: skip
    version = shown_version(westerville, booking_day)
    in_calgary = timezone.localtime(ten_am, calgary.zone).replace(hour=15, minute=0).astimezone(ten_am.tzinfo)
    book(acupuncture, calgary, in_calgary, practitioner=acupuncturist, n=3)
    assert shown_version(westerville, booking_day) != version


def test_an_ended_login_is_a_401_with_a_message_not_the_login_page(client, westerville, booking_day):
    response = poll(client, westerville, booking_day, "x")
    assert response.status_code == 401 and b"Reload the page to log in again" in response.content


def test_a_poll_does_not_keep_the_login_alive(client, receptionist, westerville, booking_day):
    calendar = reverse("reception:calendar")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        response = client.post(reverse("admin:login"), {"username": "reception", "password": "demo-password"})
        assert response.status_code == 302
        assert client.get(calendar).status_code == 200
        for _ in range(9):  # 27 minutes of polling and nothing else
            clock.shift(timedelta(minutes=3))
            assert poll(client, westerville, booking_day, "x").status_code == 200
        clock.shift(timedelta(minutes=3, seconds=1))  # 30 minutes after the last click
        assert poll(client, westerville, booking_day, "x").status_code == 401
        assert client.get(calendar)["Location"].startswith(reverse("admin:login"))


def test_a_click_does_keep_it_alive(client, receptionist, westerville, booking_day):
    calendar = reverse("reception:calendar")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.post(reverse("admin:login"), {"username": "reception", "password": "demo-password"})
        for _ in range(3):
            clock.shift(timedelta(minutes=20))
            assert client.get(calendar).status_code == 200


def test_the_poll_costs_a_fixed_number_of_queries(
    frozen, desk, westerville, physio, open_all_week, booking_day, django_assert_max_num_queries
):
    version = shown_version(westerville, booking_day)
    # The session, the user, their permissions (two), the locations, the version.
    with django_assert_max_num_queries(6):
        assert poll(desk, westerville, booking_day, version).status_code == 204


def test_a_renamed_patient_or_new_screening_answers_change_the_version(
    frozen, dry_needling, westerville, physio, open_all_week, booking_day, ten_am
):
    from patients.models import Screening

    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    version = shown_version(westerville, booking_day)
    patient = appointment.patient
    patient.last_name = "Renamed"
    patient.save()
    assert shown_version(westerville, booking_day) != version

    version = shown_version(westerville, booking_day)
    Screening.objects.filter(appointment=appointment).update(needle_fear=True)
    assert shown_version(westerville, booking_day) != version


def test_a_user_who_lost_the_permission_gets_a_plain_403(client, westerville, booking_day):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="former", is_staff=True))
    response = poll(client, westerville, booking_day, "x")
    assert response.status_code == 403 and response["Content-Type"].startswith("text/plain")
    assert b"<" not in response.content

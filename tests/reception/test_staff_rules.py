"""The staff booking rules: reception books from the current grid time (walk-ins), up to
STAFF_BOOKING_HORIZON_DAYS ahead, and may book a returning-only service for a patient the system
has not seen, with a reason. Every patient path (the wizard, the API, the manage link) keeps
today's rules and refuses all three."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse

from booking.availability import BookingRules, available_slots, local_instant
from booking.models import Appointment
from booking.services import BookingError, book_appointment, reschedule_appointment
from tests.api.test_booking import API, booking_payload, post_json
from tests.booking.test_wizard import details_post
from tests.factories import AppointmentFactory, ServiceFactory, patient_details
from tests.helpers import NO_FLAGS, book

pytestmark = pytest.mark.django_db

# Wednesday 10 June 2026, 12:37 in Westerville (EDT, UTC-4): a walk-in at the desk.
WALK_IN_MOMENT = datetime(2026, 6, 10, 16, 37, tzinfo=UTC)
A_WEDNESDAY = WALK_IN_MOMENT.date()


def book_as(actor, service, location, start, *, practitioner=None, n=0, **options):
    return book_appointment(
        service=service,
        location=location,
        practitioner=practitioner,
        start=start,
        patient_details=patient_details(n),
        screening=NO_FLAGS,
        consent_given=True,
        source=Appointment.Source.PHONE if actor else Appointment.Source.ONLINE,
        actor=actor,
        **options,
    )


@pytest.fixture
def at_the_walk_in_moment():
    with time_machine.travel(WALK_IN_MOMENT, tick=False):
        yield


@pytest.fixture
def returning_only(physio, westerville):
    service = ServiceFactory(name="Dry needling follow-up", slug="dn-follow-up", who_can_book="returning")
    physio.qualifications.create(service=service)
    return service


def half_past_twelve(westerville):
    return local_instant(A_WEDNESDAY, time(12, 30), westerville.zone)


# Walk-ins: from the current grid time ---------------------------------------------------------


def test_the_staff_rules_start_at_the_grid_time_now_falls_in(westerville):
    rules = BookingRules.for_staff()
    assert rules.earliest_start(WALK_IN_MOMENT, westerville.zone) == half_past_twelve(westerville)
    on_the_grid = half_past_twelve(westerville)
    assert rules.earliest_start(on_the_grid, westerville.zone) == on_the_grid
    # Asia/Kolkata is UTC+5:30: its grid is its own local quarter hours.
    kolkata = datetime(2026, 6, 10, 7, 7, tzinfo=UTC)  # 12:37 IST
    from zoneinfo import ZoneInfo

    earliest = rules.earliest_start(kolkata, ZoneInfo("Asia/Kolkata"))
    assert earliest.astimezone(ZoneInfo("Asia/Kolkata")).time() == time(12, 30)


def test_reception_books_a_walk_in_now_and_a_patient_online_cannot(
    at_the_walk_in_moment, receptionist, dry_needling, westerville, physio, open_all_week
):
    with pytest.raises(BookingError) as refused:
        book_as(None, dry_needling, westerville, half_past_twelve(westerville), practitioner=physio)
    assert refused.value.code == "slot_unavailable"

    walk_in = book_as(receptionist, dry_needling, westerville, half_past_twelve(westerville), practitioner=physio, n=1)

    assert walk_in.start == half_past_twelve(walk_in.location)
    assert walk_in.history.latest().history_user == receptionist


def test_a_start_before_the_current_grid_time_is_refused_to_staff_too(
    at_the_walk_in_moment, receptionist, dry_needling, westerville, physio, open_all_week
):
    with pytest.raises(BookingError) as refused:
        book_as(receptionist, dry_needling, westerville, half_past_twelve(westerville) - timedelta(minutes=15))
    assert refused.value.code == "slot_unavailable"


def test_the_patient_paths_offer_nothing_before_the_minimum_notice(
    at_the_walk_in_moment, client, catalogue, dry_needling, westerville, physio, open_all_week
):
    patient_slots = available_slots(
        service=dry_needling, location=westerville, practitioner=physio, first_day=A_WEDNESDAY, last_day=A_WEDNESDAY
    )
    # 12:37 + 120 minutes' notice: 14:45 is the first online start.
    assert patient_slots[0].start == local_instant(A_WEDNESDAY, time(14, 45), westerville.zone)

    response = details_post(client, dry_needling, westerville, half_past_twelve(westerville), practitioner=physio.slug)
    assert response.status_code == 302 and response["Location"].startswith(reverse("booking:start"))  # choose again
    assert Appointment.objects.count() == 0

    api = post_json(
        client, f"{API}/appointments", booking_payload(dry_needling, westerville, half_past_twelve(westerville))
    )
    assert api.status_code in (400, 409) and Appointment.objects.count() == 0


def test_the_phone_booking_page_offers_the_walk_in_time(
    at_the_walk_in_moment, client, receptionist, catalogue, dry_needling, westerville, physio, open_all_week
):
    client.force_login(receptionist)
    url = reverse("admin:booking_appointment_add")
    query = f"?service={dry_needling.slug}&location=westerville&practitioner={physio.slug}&day={A_WEDNESDAY}"
    page = client.get(url + query).content.decode()
    assert f'value="{half_past_twelve(westerville).isoformat()}"' in page
    assert f'value="{(half_past_twelve(westerville) - timedelta(minutes=15)).isoformat()}"' not in page


# The horizon: STAFF_BOOKING_HORIZON_DAYS ----------------------------------------------------------


def test_reception_books_beyond_the_patient_horizon_and_patients_cannot(
    receptionist, client, catalogue, dry_needling, westerville, physio, open_all_week, booking_day
):
    far = local_instant(booking_day + timedelta(days=100), time(10), westerville.zone)

    with pytest.raises(BookingError) as refused:
        book_as(None, dry_needling, westerville, far, practitioner=physio)
    assert refused.value.code == "slot_unavailable"
    assert details_post(client, dry_needling, westerville, far).status_code in (200, 302)
    assert Appointment.objects.count() == 0
    api = post_json(client, f"{API}/appointments", booking_payload(dry_needling, westerville, far))
    assert api.status_code == 400 and "60 days ahead" in api.content.decode()

    booked = book_as(receptionist, dry_needling, westerville, far, practitioner=physio, n=1)
    assert booked.start == far


@override_settings(STAFF_BOOKING_HORIZON_DAYS=120)
def test_the_staff_horizon_is_a_setting(receptionist, dry_needling, westerville, physio, open_all_week, booking_day):
    beyond = local_instant(booking_day + timedelta(days=130), time(10), westerville.zone)
    with pytest.raises(BookingError):
        book_as(receptionist, dry_needling, westerville, beyond, practitioner=physio)


def test_a_patient_moving_online_keeps_the_patient_rules_and_reception_does_not(
    receptionist, dry_needling, westerville, physio, open_all_week, ten_am
):
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    far = ten_am + timedelta(days=90)
    with pytest.raises(BookingError) as refused:
        reschedule_appointment(appointment=appointment, new_start=far, actor=None)
    assert refused.value.code == "slot_unavailable"

    moved = reschedule_appointment(appointment=appointment, new_start=far, actor=receptionist)
    assert moved.start == far


# Returning-only services for a patient the system has not seen --------------------------------------


def test_reception_books_a_returning_only_service_with_a_reason(
    receptionist, returning_only, westerville, physio, open_all_week, ten_am
):
    with pytest.raises(BookingError) as refused:
        book_as(receptionist, returning_only, westerville, ten_am, practitioner=physio)
    assert refused.value.code == "initial_assessment_required"

    reason = "Treated at the clinic before we used this system"
    booked = book_as(
        receptionist, returning_only, westerville, ten_am, practitioner=physio, returning_patient_reason=reason
    )

    assert booked.returning_patient_reason == reason and booked.source == "phone"
    assert booked.history.latest().history_user == receptionist
    # Treated here before: no "New patient" badge to prepare a first visit for.
    from booking.selectors import with_new_patient_flag

    assert not with_new_patient_flag(Appointment.objects.filter(pk=booked.pk)).get().is_new_patient


def test_the_reason_is_only_kept_where_it_allowed_the_booking(
    receptionist, returning_only, dry_needling, westerville, physio, open_all_week, ten_am
):
    booked = book_as(
        receptionist, dry_needling, westerville, ten_am, practitioner=physio, returning_patient_reason="Not needed"
    )
    assert booked.returning_patient_reason == ""


def test_the_patient_paths_never_override_returning_only(
    client, returning_only, catalogue, westerville, physio, open_all_week, ten_am
):
    with pytest.raises(BookingError) as refused:
        book_as(None, returning_only, westerville, ten_am, practitioner=physio)
    assert refused.value.code == "initial_assessment_required"
    with pytest.raises(ValueError, match="Only staff"):
        book_as(None, returning_only, westerville, ten_am, practitioner=physio, returning_patient_reason="I was here")

    page = details_post(client, returning_only, westerville, ten_am, practitioner=physio.slug).content.decode()
    assert "initial assessment" in page and Appointment.objects.count() == 0
    api = post_json(client, f"{API}/appointments", booking_payload(returning_only, westerville, ten_am))
    assert api.status_code == 422 and api.json()["code"] == "initial_assessment_required"
    assert Appointment.objects.count() == 0


def test_the_database_refuses_an_online_booking_carrying_an_override(physio, westerville, ten_am):
    with pytest.raises(IntegrityError, match="appointment_returning_override_by_staff_only"), transaction.atomic():
        AppointmentFactory(
            practitioner=physio, location=westerville, start=ten_am, source="online", returning_patient_reason="x"
        )

"""Regressions found in review: locks, lookups, duplicate submissions, oracles, odd input."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse

import booking.availability as availability
from booking.models import Appointment
from booking.notifications import send_confirmation
from booking.services import BookingError, reschedule_appointment
from patients.models import ConsentText, Patient
from tests.factories import AppointmentFactory
from tests.helpers import book


@pytest.mark.django_db(transaction=True)
def test_a_reschedule_and_a_booking_at_the_same_place_do_not_deadlock(
    dry_needling, westerville, physio, open_all_week, ten_am, monkeypatch
):
    existing = book(dry_needling, westerville, ten_am, practitioner=physio, n=1)
    real_available_slots = availability.available_slots
    booker_holds_lock = threading.Event()

    def slow_for_the_booker(**kwargs):
        if threading.current_thread().name == "booker":
            booker_holds_lock.set()  # it holds the practitioner's row now
            time.sleep(1.0)  # let the rescheduler take its locks meanwhile
        return real_available_slots(**kwargs)

    monkeypatch.setattr(availability, "available_slots", slow_for_the_booker)
    results = {}

    def booker():
        try:
            results["book"] = book(dry_needling, westerville, ten_am + timedelta(hours=3), practitioner=physio, n=2)
        except Exception as error:
            results["book"] = error
        finally:
            connection.close()

    def mover():
        booker_holds_lock.wait(10)
        try:
            results["move"] = reschedule_appointment(
                appointment=existing, new_start=ten_am + timedelta(hours=5), actor=None
            )
        except Exception as error:
            results["move"] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=booker, name="booker"), threading.Thread(target=mover, name="mover")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert isinstance(results["book"], Appointment), results["book"]
    assert isinstance(results["move"], Appointment), results["move"]


@pytest.mark.django_db
@pytest.mark.parametrize("first, second", [("i@example.com", "ı@example.com"), ("k@example.com", "\u212a@example.com")])
def test_emails_that_lower_case_alike_find_one_patient(dry_needling, westerville, open_all_week, ten_am, first, second):
    one = book(dry_needling, westerville, ten_am, email=first)
    two = book(dry_needling, westerville, ten_am + timedelta(days=1), email=second)
    assert one.patient == two.patient or Patient.objects.count() == 2  # never a 500


@pytest.mark.django_db
def test_a_double_submitted_form_does_not_book_the_patient_twice(
    dry_needling, westerville, physio, acupuncturist, open_all_week, ten_am
):
    acupuncturist.qualifications.create(service=dry_needling)
    book(dry_needling, westerville, ten_am)
    with pytest.raises(BookingError) as error:
        book(dry_needling, westerville, ten_am)  # "any": another practitioner is free, but it is the same patient
    assert error.value.code == "already_booked"
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_a_follow_up_request_for_an_impossible_time_does_not_reveal_who_is_a_patient(
    acupuncture, dry_needling, westerville, open_all_week, ten_am
):
    acupuncture.who_can_book = "returning"
    acupuncture.save()
    book(dry_needling, westerville, ten_am, n=1)  # patient 1 is ours; patient 2 is not
    midnight = ten_am.replace(hour=5)  # 00:00 or 01:00 in Westerville: nobody works then
    codes = set()
    for n in (1, 2):
        with pytest.raises(BookingError) as error:
            book(acupuncture, westerville, midnight + timedelta(days=2), n=n)
        codes.add(error.value.code)
    assert codes == {"slot_unavailable"}


@pytest.mark.django_db
def test_a_discovery_call_does_not_make_a_returning_patient(
    acupuncture, discovery_call, westerville, physio, open_all_week, ten_am
):
    acupuncture.who_can_book = "returning"
    acupuncture.save()
    book(discovery_call, westerville, ten_am)
    with pytest.raises(BookingError) as error:
        book(acupuncture, westerville, ten_am + timedelta(days=2))
    assert error.value.code == "initial_assessment_required"


@pytest.mark.django_db
def test_a_newer_consent_text_must_be_read_before_booking(
    client, catalogue, open_all_week, dry_needling, westerville, ten_am
):
    ConsentText.objects.create(
        version="2", body="New wording.", published_at=ConsentText.objects.latest().published_at + timedelta(seconds=1)
    )
    response = client.post(
        reverse("booking:details"),
        {
            "service": dry_needling.slug,
            "location": westerville.slug,
            "practitioner": "any",
            "start": ten_am.isoformat(),
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "+16145550100",
            "date_of_birth": "1980-05-17",
            "consent": "on",
            "consent_version": "1",
        },
    )
    page = response.content.decode()
    assert "Please read it again" in page and "New wording." in page
    assert Appointment.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start", ["0001-01-01T00:00:00+01:00", "9999-12-31T12:00:00+00:00", "2020-01-01T10:00:00+00:00", "nonsense"]
)
def test_absurd_starts_go_back_to_the_wizard_not_a_500(client, catalogue, dry_needling, westerville, physio, start):
    params = {"service": dry_needling.slug, "location": westerville.slug, "practitioner": "any", "start": start}
    assert client.get(reverse("booking:details"), params).status_code == 302
    assert client.post(reverse("booking:details"), params).status_code == 302
    appointment = AppointmentFactory(practitioner=physio, location=westerville)
    response = client.post(reverse("booking:reschedule", args=[appointment.manage_token]), {"start": start})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_cancel_reason_with_a_nul_character_is_cleaned(client, physio):
    appointment = AppointmentFactory(practitioner=physio)
    client.post(reverse("booking:cancel", args=[appointment.manage_token]), {"reason": "ill\x00ness"})
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancellation_reason) == ("cancelled", "illness")


@pytest.mark.django_db
def test_the_calendar_file_carries_the_manage_link_but_no_treatment_and_pages_are_not_cached(client, physio):
    # Issue 14 chose, as Calendly and Jane do, to put the manage link in the event (where the
    # patient looks for it on the day); the treatment's name stays out.
    appointment = AppointmentFactory(practitioner=physio)
    response = client.get(reverse("booking:calendar", args=[appointment.manage_token]))
    unfolded = response.content.decode().replace("\r\n ", "")
    assert appointment.manage_token in unfolded
    assert appointment.service.name not in unfolded
    assert "no-cache" in response["Cache-Control"]
    assert "no-cache" in client.get(reverse("booking:manage", args=[appointment.manage_token]))["Cache-Control"]


@pytest.mark.django_db
def test_a_cancelled_booking_gets_no_confirmation(physio, mailoutbox):
    appointment = AppointmentFactory(practitioner=physio, status="cancelled")
    assert send_confirmation(appointment.pk) is False
    assert mailoutbox == []


@pytest.mark.django_db
def test_moving_onto_the_patients_other_appointment_is_a_kind_error(
    dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, ten_am
):
    moved = book(dry_needling, westerville, ten_am, practitioner=physio)
    book(acupuncture, westerville, ten_am + timedelta(hours=3), practitioner=acupuncturist)  # the same patient
    with pytest.raises(BookingError) as error:
        reschedule_appointment(appointment=moved, new_start=ten_am + timedelta(hours=3), actor=None)
    assert error.value.code == "already_booked"

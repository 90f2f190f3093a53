"""A free discovery call booked in the wizard stays free of the medical intake: who to call,
what it is about, one "is any of these happening now?" and consent to be contacted; its times
on the caller's clock, from the link (their browser, or chosen), else their number, else asked."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment
from patients.models import Patient, Screening
from tests.factories import AppointmentFactory
from tests.helpers import worker_round

pytestmark = pytest.mark.django_db

CALLER = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@example.com",
    "phone": "(403) 555-0199",  # Calgary
    "concern": "Burning pain down the back of my left leg since March",
    "urgent_now": "no",
    "consent_to_contact": "on",
}


@pytest.fixture
def call_start(phone_line, booking_day):
    """11:00 in New York a week from now: 9:00 in Calgary."""
    return local_instant(booking_day, time(11), phone_line.zone)


def visible_text(page: str) -> str:
    return re.sub(r"<script.*?</script>|<[^>]+>", " ", page, flags=re.S)


def book_call(client, discovery_call, phone_line, start, **changes):
    data = {
        "service": discovery_call.slug,
        "location": phone_line.slug,
        "practitioner": "any",
        "start": start.isoformat(),
        **CALLER,
        **changes,
    }
    return client.post(reverse("booking:details"), {key: value for key, value in data.items() if value is not None})


def test_the_details_page_asks_no_medical_intake(client, discovery_call, phone_line, call_start):
    query = {"service": discovery_call.slug, "location": phone_line.slug, "practitioner": "any"}
    page = client.get(reverse("booking:details"), {**query, "start": call_start.isoformat()}).content.decode()
    assert "Is any of these happening now?" in page and 'name="consent_to_contact"' in page
    for intake in ("date_of_birth", "pregnant", "blood_thinners", "needle_fear", "red_flags", 'name="consent"'):
        assert intake not in page, intake
    assert "Consent to treatment" not in page and "Safety questions" not in page


def test_a_call_is_booked_without_date_of_birth_screening_or_treatment_consent(
    client, discovery_call, phone_line, call_start
):
    response = book_call(client, discovery_call, phone_line, call_start)
    appointment = Appointment.objects.get()
    assert response.status_code == 302 and response.url.startswith(
        reverse("booking:manage", args=[appointment.manage_token])
    )
    assert appointment.consent is None and appointment.consented_at is not None
    assert not Screening.objects.exists()
    assert appointment.concern == CALLER["concern"]
    assert appointment.patient.date_of_birth is None
    # No zone in the link and no browser zone: the (403) number's.
    assert appointment.caller_timezone == "America/Edmonton"
    page = client.get(response.url).content.decode()
    assert "9:00 AM (Calgary time)" in page and "We call you at that time" in page
    assert "New York" not in page and CALLER["concern"] not in page


def test_the_confirmation_names_the_callers_clock_and_keeps_what_they_wrote_out(
    client, discovery_call, phone_line, call_start
):
    book_call(client, discovery_call, phone_line, call_start)
    worker_round()
    confirmation = next(message for message in mail.outbox if message.to == ["grace@example.com"])
    assert "9:00 AM (Calgary time)" in confirmation.body and "9:00 AM" in confirmation.subject
    assert "we will call you at that time" in confirmation.body
    assert "Burning pain" not in confirmation.body + confirmation.subject
    assert "Burning pain" not in confirmation.attachments[0][1]


def test_is_any_of_these_happening_now_yes_sends_to_urgent_care_and_keeps_nothing(
    client, discovery_call, phone_line, call_start
):
    response = book_call(client, discovery_call, phone_line, call_start, urgent_now="yes")
    page = response.content.decode()
    assert response.status_code == 200 and "Please get urgent care now" in page
    assert "not a phone call with us" in page
    assert not Appointment.objects.exists() and not Patient.objects.exists()


def test_unanswered_urgent_check_and_missing_consent_are_asked_with_everything_kept(
    client, discovery_call, phone_line, call_start
):
    page = book_call(client, discovery_call, phone_line, call_start, urgent_now=None).content.decode()
    assert "Please answer: is any of these happening now?" in page
    assert 'value="Grace"' in page and CALLER["concern"] in page
    page = book_call(client, discovery_call, phone_line, call_start, consent_to_contact=None).content.decode()
    assert "Please agree to be contacted, so we can call you at this time." in page
    assert 'value="Grace"' in page and CALLER["concern"] in page
    assert not Appointment.objects.exists()


def test_a_number_that_spans_zones_is_asked_for_its_zone_unless_the_browser_said(
    client, discovery_call, phone_line, call_start
):
    page = book_call(client, discovery_call, phone_line, call_start, phone="(800) 555-0199").content.decode()
    assert "Which time zone are you in?" in page and 'name="timezone"' in page
    assert not Appointment.objects.exists()
    book_call(
        client, discovery_call, phone_line, call_start, phone="(800) 555-0199", browser_timezone="America/Chicago"
    )
    assert Appointment.objects.get().caller_timezone == "America/Chicago"


def test_the_zone_the_times_page_showed_wins_over_the_number(client, discovery_call, phone_line, call_start):
    book_call(client, discovery_call, phone_line, call_start, timezone="America/Vancouver")
    assert Appointment.objects.get().caller_timezone == "America/Vancouver"


def test_a_second_call_from_the_same_email_and_phone_finds_the_callers_record_and_no_other(
    client, discovery_call, phone_line, call_start
):
    book_call(client, discovery_call, phone_line, call_start)
    book_call(client, discovery_call, phone_line, call_start + timedelta(days=1))
    assert Patient.objects.count() == 1 and Appointment.objects.count() == 2
    # The same email with another phone (or a stranger using it) gets a record of its own:
    # we never call the first caller's number for someone else's booking.
    book_call(client, discovery_call, phone_line, call_start + timedelta(days=2), phone="(403) 555-0111")
    assert Patient.objects.count() == 2


def test_a_treatment_booked_later_makes_a_record_with_a_date_of_birth(
    client, discovery_call, phone_line, call_start, dry_needling, westerville, open_all_week, ten_am
):
    book_call(client, discovery_call, phone_line, call_start)
    from tests.booking.test_wizard import details_post

    details_post(client, dry_needling, westerville, ten_am + timedelta(days=1), email="grace@example.com")
    treatment = Appointment.objects.get(service=dry_needling)
    assert treatment.patient.date_of_birth is not None and treatment.consent is not None
    assert Screening.objects.filter(appointment=treatment).exists()
    assert Appointment.objects.get(service=discovery_call).patient.date_of_birth is None


def test_the_database_refuses_a_treatment_without_its_consent(dry_needling, westerville, physio, ten_am):
    with pytest.raises(IntegrityError, match="appointment_treatment_needs_consent"), transaction.atomic():
        AppointmentFactory(service=dry_needling, location=westerville, practitioner=physio, start=ten_am, consent=None)
    appointment = AppointmentFactory(service=dry_needling, location=westerville, practitioner=physio, start=ten_am)
    with pytest.raises(IntegrityError, match="appointment_treatment_needs_consent"), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(consent=None)


def test_the_database_refuses_two_callers_records_for_one_email_and_phone(db):
    Patient.objects.create(first_name="A", last_name="B", email="x@example.com", phone="+14035550199")
    with pytest.raises(IntegrityError, match="patient_caller_email_phone_unique"), transaction.atomic():
        Patient.objects.create(first_name="C", last_name="D", email="X@example.com", phone="+14035550199")


class TestTimesOnTheCallersClock:
    def test_the_times_page_shows_the_callers_clock_and_carries_it(
        self, client, discovery_call, phone_line, booking_day
    ):
        query = {"service": discovery_call.slug, "zone": "America/Edmonton", "from": str(booking_day)}
        page = client.get(reverse("booking:start"), query).content.decode()
        assert "Times are on your clock: <strong>Calgary time</strong>" in page
        # Maya's 9:00-17:00 in New York is 7:00 AM to 2:45 PM in Calgary.
        assert ">7:00 AM<" in page and ">2:45 PM<" in page and ">9:00 AM<" in page and ">3:00 PM<" not in page
        assert "zone=America%2FEdmonton&amp;start=" in page
        assert "New York time" not in visible_text(page)

    def test_without_a_zone_the_times_are_the_clinics_with_a_choice_of_clock(
        self, client, discovery_call, phone_line, booking_day
    ):
        query = {"service": discovery_call.slug, "from": str(booking_day)}
        page = client.get(reverse("booking:start"), query).content.decode()
        assert "Times are <strong>New York time</strong>" in page and "data-ask-browser" in page
        assert ">9:00 AM<" in page and ">4:45 PM<" in page
        assert '<select name="zone"' in page and "caller_zone.js" in page

    def test_a_callers_day_is_their_own(self, client, discovery_call, phone_line, booking_day):
        # In Paris, Maya's afternoon in New York is the evening: the day headings are Paris's.
        query = {"service": discovery_call.slug, "zone": "Europe/Paris", "from": str(booking_day)}
        page = client.get(reverse("booking:start"), query).content.decode()
        assert ">3:00 PM<" in page and ">10:45 PM<" in page

    def test_a_treatment_ignores_a_zone_in_the_link(self, client, catalogue, dry_needling, westerville, booking_day):
        query = {"service": dry_needling.slug, "zone": "Europe/Paris", "from": str(booking_day)}
        page = client.get(reverse("booking:start"), query).content.decode()
        assert "Times are New York time" in page and "zone=" not in page


def test_a_call_moved_by_the_patient_is_offered_on_their_clock(client, discovery_call, phone_line, call_start):
    response = book_call(client, discovery_call, phone_line, call_start, timezone="America/Edmonton")
    appointment = Appointment.objects.get()
    page = client.get(reverse("booking:reschedule", args=[appointment.manage_token])).content.decode()
    assert "Calgary time" in page and "New York" not in page
    assert response.status_code == 302

    local = timezone.localtime(appointment.start, ZoneInfo("America/Edmonton"))
    assert local.time() == time(9) and isinstance(local, datetime)


def test_only_a_call_is_booked_without_the_intake_and_a_call_with_it_keeps_it(
    discovery_call, dry_needling, westerville, phone_line, physio, ten_am, call_start
):
    from booking.services import book_appointment
    from patients.services import ScreeningAnswers
    from tests.factories import patient_details

    with pytest.raises(ValueError, match="Only a discovery call"):
        book_appointment(
            service=dry_needling,
            location=westerville,
            practitioner=physio,
            start=ten_am,
            patient_details=patient_details(),
            screening=ScreeningAnswers(),
            consent_given=True,
            with_intake=False,
        )
    # Reception reads a caller the intake: a call booked with it keeps it, as a treatment does.
    asked = book_appointment(
        service=discovery_call,
        location=phone_line,
        practitioner=physio,
        start=call_start,
        patient_details=patient_details(),
        screening=ScreeningAnswers(needle_fear=True),
        consent_given=True,
    )
    assert asked.screening.needle_fear and asked.consent is not None


def test_a_call_too_close_to_change_online_says_to_call_us_not_the_phone_line_by_name(
    client, discovery_call, phone_line, physio
):
    soon = AppointmentFactory(
        service=discovery_call,
        location=phone_line,
        practitioner=physio,
        start=timezone.now() + timedelta(hours=3),
        consent=None,
    )
    manage = client.get(reverse("booking:manage", args=[soon.manage_token])).content.decode()
    assert "To change or cancel now, please call us:" in manage and "call By phone" not in manage

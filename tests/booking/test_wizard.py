"""The patient's booking wizard, confirmation email and manage link, through real requests."""

import re
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from icalendar import Calendar

from booking.models import Appointment
from booking.notifications import send_confirmation
from patients.models import Patient, Screening
from tests.factories import AppointmentFactory, LocationFactory, PractitionerFactory
from tests.helpers import race

pytestmark = pytest.mark.django_db

DETAILS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "(614) 555-0100",
    "date_of_birth": "1980-05-17",
    "consent": "on",
}


def choice(service, location, practitioner="any", **extra):
    return {"service": service.slug, "location": location.slug, "practitioner": practitioner, **extra}


def details_post(client, service, location, start, practitioner="any", **changes):
    data = {**choice(service, location, practitioner), "start": start.isoformat(), **DETAILS, **changes}
    return client.post(reverse("booking:details"), {k: v for k, v in data.items() if v is not None})


class TestSteps:
    def test_step_one_lists_bookable_services(self, client, catalogue, open_all_week, django_assert_max_num_queries):
        with django_assert_max_num_queries(4):
            page = client.get(reverse("booking:start")).content.decode()
        assert "Initial assessment + dry needling" in page
        assert "?service=dry-needling-initial" in page

    def test_a_step_with_one_possible_answer_is_answered_and_the_page_says_who(
        self, client, catalogue, open_all_week, dry_needling, westerville
    ):
        # Dry needling: only at Westerville, only by Maya. The wizard goes straight to the times.
        page = client.get(reverse("booking:start"), {"service": dry_needling.slug}).content.decode()
        assert "When?" in page and "Where?" not in page and 'aria-label="With whom"' not in page
        assert "location=westerville&amp;practitioner=maya-lindqvist&amp;start=" in page
        assert "your appointment will be with Maya Lindqvist" in page

    def test_a_step_with_a_choice_is_asked(self, client, catalogue, open_all_week, dry_needling, westerville, calgary):
        PractitionerFactory(name="Ravi Rao", slug="ravi-rao", services=[dry_needling], locations=[westerville, calgary])
        page = client.get(reverse("booking:start"), {"service": dry_needling.slug}).content.decode()
        assert "Where?" in page and "location=westerville" in page and "location=calgary" in page
        # Two practitioners there: the times are anyone's, and the page lets the patient narrow them.
        page = client.get(reverse("booking:start"), choice(dry_needling, westerville, "")).content.decode()
        assert "When?" in page and 'aria-label="With whom"' in page
        assert (
            '?service=dry-needling-initial&amp;location=westerville&amp;practitioner=any" aria-current="true"' in page
        )
        assert "practitioner=maya-lindqvist" in page and "practitioner=ravi-rao" in page
        assert "Sofia Marchetti" not in page
        page = client.get(reverse("booking:start"), choice(dry_needling, westerville, "ravi-rao")).content.decode()
        assert 'practitioner=ravi-rao" aria-current="true">Ravi Rao</a>' in page

    def test_unknown_or_unqualified_choices_fall_back_to_the_step_before(
        self, client, catalogue, open_all_week, acupuncture, westerville
    ):
        page = client.get(reverse("booking:start"), {"service": "nope"}).content.decode()
        assert "Which treatment?" in page
        # Maya gives no acupuncture: the link's practitioner is dropped, and Sofia is the only one who does.
        page = client.get(reverse("booking:start"), choice(acupuncture, westerville, "maya-lindqvist")).content
        assert "your appointment will be with Sofia Marchetti" in page.decode()
        assert "practitioner=maya-lindqvist" not in page.decode()

    def test_book_with_a_practitioner_offers_only_what_they_give_where_they_work(
        self, client, catalogue, open_all_week, dry_needling, acupuncture, westerville
    ):
        page = client.get(reverse("booking:start"), {"practitioner": "sofia-marchetti"}).content.decode()
        assert "Which treatment with Sofia Marchetti?" in page
        assert "?service=acupuncture-follow-up&amp;practitioner=sofia-marchetti" in page
        assert dry_needling.name not in page
        # She works in Westerville and Calgary: the place is asked, her name kept.
        page = client.get(reverse("booking:start"), {"service": acupuncture.slug, "practitioner": "sofia-marchetti"})
        page = page.content.decode()
        assert "Where?" in page and "with Sofia Marchetti" in page
        assert "?service=acupuncture-follow-up&amp;location=calgary&amp;practitioner=sofia-marchetti" in page
        page = client.get(reverse("booking:start"), choice(acupuncture, westerville, "sofia-marchetti")).content
        assert "When?" in page.decode() and "practitioner=sofia-marchetti&amp;start=" in page.decode()

    def test_a_phone_call_never_asks_where(self, client, catalogue, physio, discovery_call, westerville):
        by_phone = LocationFactory(name="By phone", slug="by-phone", is_by_phone=True)
        physio.locations.add(by_phone)
        page = client.get(reverse("booking:start"), {"service": discovery_call.slug}).content.decode()
        assert "Where?" not in page and "When?" in page
        assert "location=by-phone" in page and "location=westerville" not in page

    def test_the_day_picker_shows_local_times_in_few_queries(
        self, client, catalogue, open_all_week, dry_needling, westerville, booking_day, django_assert_max_num_queries
    ):
        for hour in range(9, 17):
            AppointmentFactory(
                practitioner=catalogue["practitioners"][1],
                location=westerville,
                start=booking_day_start(booking_day, westerville, hour),
            )
        with django_assert_max_num_queries(9):
            response = client.get(
                reverse("booking:start"), choice(dry_needling, westerville, **{"from": str(booking_day)})
            )
        page = response.content.decode()
        assert "9:00 AM" in page and "4:00 PM" in page and "4:15 PM" not in page
        assert f"{booking_day:%A} {booking_day.day} {booking_day:%B}" in page

    def test_a_week_without_times_points_to_the_next_free_one(
        self, client, catalogue, dry_needling, westerville, physio, booking_day
    ):
        from booking.models import WorkingHours

        WorkingHours.objects.create(
            practitioner=physio,
            location=westerville,
            weekday=booking_day.weekday(),
            start_time="09:00",
            end_time="10:00",
            effective_from=booking_day + timedelta(days=14),
        )
        page = client.get(reverse("booking:start"), choice(dry_needling, westerville)).content.decode()
        assert "The next free time is" in page


def booking_day_start(day, location, hour):
    from datetime import time

    from booking.availability import local_instant

    return local_instant(day, time(hour), location.zone)


class TestDetails:
    def test_booking_end_to_end_in_bounded_queries(
        self, client, catalogue, open_all_week, dry_needling, westerville, ten_am, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(15):
            response = details_post(client, dry_needling, westerville, ten_am, needle_fear="on")
        appointment = Appointment.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("booking:manage", args=[appointment.manage_token]) + "?booked=1"
        assert "Set-Cookie" not in response.headers
        assert appointment.start == ten_am and appointment.source == "online"
        assert str(appointment.patient.phone) == "+16145550100"
        page = client.get(response["Location"]).content.decode()
        assert "You're booked" in page and appointment.reference in page
        assert "needle-free options" in page
        assert len(mail.outbox) == 0  # the email is the worker's job, not the request's

    def test_bad_input_keeps_what_was_typed_and_says_what_to_fix(
        self, client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        response = details_post(client, dry_needling, westerville, ten_am, phone="12", other_conditions="Asthma")
        page = response.content.decode()
        assert response.status_code == 200
        assert "Enter a valid phone number" in page
        assert 'value="Lovelace"' in page and "Asthma" in page
        assert Appointment.objects.count() == 0

    def test_missing_consent_is_a_field_error(
        self, client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        page = details_post(client, dry_needling, westerville, ten_am, consent=None).content.decode()
        assert "Please read and agree to the treatment consent" in page
        assert Appointment.objects.count() == 0

    def test_a_red_flag_sends_the_patient_to_urgent_care_and_stores_nothing(
        self, client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        response = details_post(client, dry_needling, westerville, ten_am, red_flags="both_legs", pregnant="on")
        page = response.content.decode()
        assert "Please get urgent care now" in page and "Call 911" in page
        assert "tel:+16145550142" in page
        assert (Appointment.objects.count(), Patient.objects.count(), Screening.objects.count()) == (0, 0, 0)

    def test_a_taken_slot_offers_the_nearest_times_and_keeps_the_answers(
        self, client, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
    ):
        AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling, start=ten_am)
        response = details_post(client, dry_needling, westerville, ten_am, practitioner=physio.slug)
        page = response.content.decode()
        assert response.status_code == 409
        assert "That time was just taken" in page
        assert page.count('name="start"') >= 3 and 'value="Lovelace"' in page
        alternative = (ten_am + timedelta(hours=1, minutes=15)).isoformat()
        assert alternative in page
        retry = details_post(
            client, dry_needling, westerville, ten_am + timedelta(hours=1, minutes=15), practitioner=physio.slug
        )
        assert retry.status_code == 302

    def test_a_new_patient_asking_for_a_follow_up_is_sent_to_an_initial_assessment(
        self, client, catalogue, open_all_week, acupuncture, dry_needling, westerville, ten_am
    ):
        acupuncture.who_can_book = "returning"
        acupuncture.save()
        dry_needling.who_can_book = "new"
        dry_needling.save()
        page = details_post(client, acupuncture, westerville, ten_am).content.decode()
        assert "Please book an initial assessment first" in page
        # The same form, now for the first visit, at one of its nearest free times: nothing retyped.
        assert f'<input type="hidden" name="service" value="{dry_needling.slug}">' in page
        assert 'value="Lovelace"' in page and 'value="ada@example.com"' in page
        assert f"<strong>{acupuncture.name}</strong>" not in page  # the summary names what the form books now
        first_time = re.search(r'name="start" id="alt-1" value="([^"]+)" checked', page).group(1)
        booked = details_post(client, dry_needling, westerville, datetime.fromisoformat(first_time))
        assert booked.status_code == 302
        appointment = Appointment.objects.get(patient__email="ada@example.com")
        assert appointment.service == dry_needling and appointment.start == datetime.fromisoformat(first_time)

    def test_a_practitioner_named_in_the_link_who_no_longer_gives_it_is_not_swapped_for_anyone(
        self, client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        response = details_post(client, dry_needling, westerville, ten_am, practitioner="sofia-marchetti")
        assert response.status_code == 302 and response["Location"].startswith("/book/?")
        assert not Appointment.objects.exists()

    def test_a_follow_up_asks_have_you_been_here_before_ahead_of_the_times(
        self, client, catalogue, open_all_week, acupuncture, dry_needling, westerville
    ):
        acupuncture.who_can_book = "returning"
        acupuncture.save()
        dry_needling.who_can_book = "new"
        dry_needling.follow_up_service = acupuncture
        dry_needling.save()
        page = client.get(reverse("booking:start"), choice(acupuncture, westerville)).content.decode()
        assert "Have you been treated here before?" in page and "When?" not in page
        assert f"?service={dry_needling.slug}&amp;location=westerville" in page  # "No, this is my first visit"
        yes = client.get(reverse("booking:start"), {**choice(acupuncture, westerville), "returning": "yes"})
        page = yes.content.decode()
        assert "When?" in page and "returning=yes" in page  # kept by the week links and the times
        details = client.get(
            reverse("booking:details"), {**choice(acupuncture, westerville), "returning": "yes", "start": "x"}
        )
        assert details.status_code == 302  # no time: back to the wizard

    def test_details_without_a_time_go_back_to_the_wizard(self, client, catalogue, dry_needling, westerville):
        response = client.get(reverse("booking:details"), choice(dry_needling, westerville))
        assert response.status_code == 302


class TestManageLink:
    def test_the_link_shows_the_booking_and_a_wrong_one_is_404(self, client, physio):
        appointment = AppointmentFactory(practitioner=physio, start=_in_days(5))
        page = client.get(reverse("booking:manage", args=[appointment.manage_token])).content.decode()
        assert appointment.reference in page and "Change the time" in page
        assert client.get(reverse("booking:manage", args=["x" * 43])).status_code == 404
        assert client.get(reverse("booking:manage", args=[appointment.reference])).status_code == 404

    def test_cancel_outside_the_window_frees_the_slot(self, client, physio):
        appointment = AppointmentFactory(practitioner=physio, start=_in_days(5))
        response = client.post(reverse("booking:cancel", args=[appointment.manage_token]), {"reason": "Better"})
        assert response.status_code == 302
        appointment.refresh_from_db()
        assert appointment.status == "cancelled" and appointment.cancellation_reason == "Better"
        AppointmentFactory(practitioner=physio, start=appointment.start)  # the time is free again
        assert Appointment.objects.count() == 2  # cancelled is a state, not a delete

    def test_inside_the_window_the_page_explains_and_gives_the_phone(self, client, physio, westerville):
        appointment = AppointmentFactory(practitioner=physio, location=westerville, start=_in_days(0.5))
        page = client.get(reverse("booking:manage", args=[appointment.manage_token])).content.decode()
        assert "until 24 hours before" in page and "tel:+16145550142" in page
        client.post(reverse("booking:cancel", args=[appointment.manage_token]))
        appointment.refresh_from_db()
        assert appointment.status == "confirmed"

    def test_reschedule_moves_through_the_engine(
        self, client, catalogue, open_all_week, physio, westerville, dry_needling, ten_am
    ):
        appointment = AppointmentFactory(
            practitioner=physio,
            location=westerville,
            service=dry_needling,
            start=ten_am,
            end=ten_am + timedelta(minutes=60),
            blocked_until=ten_am + timedelta(minutes=75),
        )
        url = reverse("booking:reschedule", args=[appointment.manage_token])
        page = client.get(url, {"from": (ten_am.date()).isoformat()}).content.decode()
        later = ten_am + timedelta(minutes=30)  # overlaps its own old time: allowed
        assert quote(later.isoformat()) in page
        assert "10:00 AM · your time now" in page  # the current time, marked, not offered
        # A tapped time is asked about once, on the same page, before anything moves.
        asked = client.get(url, {"from": ten_am.date().isoformat(), "start": later.isoformat()}).content.decode()
        assert "Move to " in asked and ", 10:30 AM?" in asked
        assert f'<input type="hidden" name="start" value="{later.isoformat()}">' in asked
        assert Appointment.objects.get(pk=appointment.pk).start == ten_am
        assert client.post(url, {"start": later.isoformat()}).status_code == 302
        appointment.refresh_from_db()
        assert appointment.start == later
        assert appointment.history.count() == 2  # the move is audited

    def test_calendar_file_has_a_stable_uid_time_zone_and_no_health_data(self, client, physio, westerville):
        appointment = AppointmentFactory(practitioner=physio, location=westerville, start=_in_days(5))
        body = client.get(reverse("booking:calendar", args=[appointment.manage_token])).content
        event = Calendar.from_ical(body).walk("VEVENT")[0]
        assert str(event["UID"]) == f"appointment-{appointment.reference}@testserver"
        assert event.decoded("DTSTART") == appointment.start
        assert "Westerville" in str(event["LOCATION"])
        assert appointment.service.name not in body.decode()
        assert b"VTIMEZONE" in body


class TestConfirmationEmail:
    def test_the_worker_sends_it_once_with_the_calendar_file(self, physio, westerville):
        appointment = AppointmentFactory(practitioner=physio, location=westerville, start=_in_days(5))
        call_command("send_due_notifications")
        call_command("send_due_notifications")
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == [appointment.patient.email]
        assert appointment.reference in message.subject
        assert appointment.service.name not in message.subject
        assert appointment.manage_token in message.body
        assert message.attachments[0][0] == f"appointment-{appointment.reference}.ics"
        assert message.alternatives[0][1] == "text/html"

    def test_the_subject_shows_the_clinic_name_as_written(self, physio, westerville, settings):
        settings.CLINIC_NAME = "Pain & Needling"
        AppointmentFactory(practitioner=physio, location=westerville, start=_in_days(5))
        call_command("send_due_notifications")
        assert mail.outbox[0].subject.startswith("Your appointment at Pain & Needling on ")


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_exactly_one_confirmation(physio, westerville):
    appointment = AppointmentFactory(practitioner=physio, location=westerville, start=_in_days(5))
    results = race(2, lambda _: send_confirmation(appointment.pk))
    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1


def _in_days(days: float):
    from django.utils import timezone

    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


@pytest.mark.parametrize("query", ["service=%00", "service=dry-needling-initial&location=%00", "service=a%C3%A9"])
def test_choices_no_link_of_ours_carries_start_the_wizard_again(client, catalogue, query):
    """Found by tests/test_public_forms_hypothesis.py: a NUL in a choice was a 500."""
    response = client.get(f"/book/?{query}")

    assert response.status_code == 200

"""Book for a caller: the receptionist's booking form in the admin, through real requests."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from booking.availability import local_instant
from booking.models import Appointment, WorkingHours
from booking.notifications import due_confirmations
from patients.models import ConsentText, Patient, Screening
from patients.services import current_consent
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

URL = reverse("admin:booking_appointment_add")
NINE, FIVE = time(9), time(17)
AT_WESTERVILLE = {"service": "dry-needling-initial", "location": "westerville"}
NEW_PATIENT = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "(614) 555-0100",
    "date_of_birth": "1980-05-17",
}


def page_url(**params) -> str:
    return f"{URL}?{urlencode({name: value for name, value in params.items() if value is not None})}"


def steps(service, location, *, practitioner="any", day=None, **extra) -> str:
    return page_url(
        service=service.slug,
        location=location.slug,
        practitioner=practitioner,
        day=day.isoformat() if day else None,
        **extra,
    )


def booking_data(at, **changes) -> dict:
    data = {
        "start": at.isoformat(),
        "source": "phone",
        **NEW_PATIENT,
        "consent": "on",
        "consent_version": current_consent().version,
        **changes,
    }
    return {name: value for name, value in data.items() if value is not None}


def radio_values(page: str) -> list[str]:
    """The start times offered as radio buttons, in page order."""
    return [chunk.split('"', 1)[0] for chunk in page.split('name="start" value="')[1:]]


def checked(page: str, name: str) -> bool:
    tag = page.split(f'name="{name}"', 1)[1].split(">", 1)[0]
    return " checked" in tag


@pytest.fixture
def reception_client(client, receptionist):
    client.force_login(receptionist)
    return client


@pytest.fixture
def busy_clinic(catalogue, open_all_week, dry_needling, westerville, booking_day):
    """Thirty more qualified practitioners at Westerville, each with appointments all week."""
    for number in range(30):
        practitioner = PractitionerFactory(services=[dry_needling], locations=[westerville])
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practitioner=practitioner, location=westerville, weekday=weekday, start_time=time(9), end_time=time(17)
            )
            for weekday in range(7)
        )
        for offset in range(7):
            AppointmentFactory(
                practitioner=practitioner,
                location=westerville,
                service=dry_needling,
                start=local_instant(booking_day + timedelta(days=offset), time(9 + number % 8), westerville.zone),
            )


class TestSteps:
    def test_each_step_narrows_the_next_and_shows_local_times(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, booking_day
    ):
        page = reception_client.get(URL).content.decode()
        assert "Book for a caller" in page
        assert 'value="dry-needling-initial"' in page and 'name="location"' not in page

        page = reception_client.get(page_url(service=dry_needling.slug)).content.decode()
        assert 'value="westerville"' in page and 'value="calgary"' not in page  # no dry needling in Calgary
        assert 'name="practitioner"' not in page

        page = reception_client.get(page_url(service=dry_needling.slug, location="westerville")).content.decode()
        assert "Anyone qualified" in page and "Maya Lindqvist" in page and "Sofia Marchetti" not in page
        assert "Westerville local time (America/New_York)" in page
        assert 'id="phone-booking-form"' in page  # practitioner defaults to anyone, day to today

        page = reception_client.get(steps(dry_needling, westerville, day=booking_day)).content.decode()
        nine = local_instant(booking_day, time(9), westerville.zone)
        assert radio_values(page)[0] == nine.isoformat()
        assert "9:00 AM · Maya Lindqvist" in page  # "anyone" names who would see the caller
        assert f"Free times on {booking_day:%A} {booking_day.day} {booking_day:%B %Y}" in page

    def test_the_steps_stay_in_constant_queries(
        self,
        reception_client,
        busy_clinic,
        dry_needling,
        westerville,
        physio,
        booking_day,
        django_assert_max_num_queries,
    ):
        # Session and user (2), the user's permissions (2), then one query per step reached;
        # the free times are the engine's four, whatever the number of practitioners and bookings.
        patient = PatientFactory()
        with django_assert_max_num_queries(6):
            assert reception_client.get(URL).status_code == 200
        with django_assert_max_num_queries(7):
            assert reception_client.get(page_url(service=dry_needling.slug)).status_code == 200
        with django_assert_max_num_queries(12):
            page = reception_client.get(steps(dry_needling, westerville, day=booking_day)).content.decode()
        assert len(radio_values(page)) > 20
        with django_assert_max_num_queries(12):
            page = reception_client.get(steps(dry_needling, westerville, practitioner=physio.slug, day=booking_day))
        assert page.status_code == 200
        # + the patient named in the link, checked and shown, and their last answers to fill in
        with django_assert_max_num_queries(15):
            page = reception_client.get(steps(dry_needling, westerville, day=booking_day, patient=patient.pk))
        assert page.status_code == 200

    def test_a_day_without_times_points_to_the_next_free_one(
        self, reception_client, catalogue, dry_needling, westerville, physio, booking_day
    ):
        WorkingHours.objects.create(
            practitioner=physio,
            location=westerville,
            weekday=booking_day.weekday(),
            start_time=time(9),
            end_time=time(10),
            effective_from=booking_day + timedelta(days=14),
        )
        page = reception_client.get(steps(dry_needling, westerville, day=booking_day)).content.decode()
        assert "No free times on this day" in page
        assert f"day={(booking_day + timedelta(days=14)).isoformat()}" in page
        # Nothing to book into: no button, and no patient details to type in vain.
        assert "Book this time" not in page and 'name="first_name"' not in page and 'name="consent"' not in page

    @pytest.mark.parametrize(
        ("params", "error"),
        [
            ({"service": "nope"}, "“nope” is not a bookable service"),
            ({"service": "dry\x00"}, "is not a bookable service"),
            ({"service": "acupuncture-follow-up", "location": "nope"}, "“nope” is not a location offering"),
            ({"service": "dry-needling-initial", "location": "calgary"}, "“calgary” is not a location offering"),
            ({**AT_WESTERVILLE, "practitioner": "sofia-marchetti"}, "“sofia-marchetti” does not offer this service"),
            ({"service": "dry-needling-initial", "location": "westerville", "day": "2026-02-30"}, "YYYY-MM-DD"),
            ({"service": "dry-needling-initial", "location": "westerville", "day": "tomorrow"}, "YYYY-MM-DD"),
            (
                {"service": "dry-needling-initial", "location": "westerville", "day": "2001-01-01"},
                "That day has passed",
            ),
            ({"service": "dry-needling-initial", "location": "westerville", "day": "2999-01-01"}, "Choose "),
            ({"patient": "abc"}, "There is no patient"),
            ({"patient": "999999"}, "There is no patient"),
            ({"patient": "99999999999999999999999"}, "There is no patient"),
            ({"discovery_call": "abc"}, "There is no discovery-call request"),
            ({"discovery_call": "-3"}, "There is no discovery-call request"),
            ({"discovery_call": "999999"}, "There is no discovery-call request"),
            ({"discovery_call": "99999999999999999999999"}, "There is no discovery-call request"),
        ],
    )
    def test_bad_parameters_are_errors_on_the_form(self, reception_client, catalogue, open_all_week, params, error):
        response = reception_client.get(page_url(**params))
        page = response.content.decode()
        assert response.status_code == 200
        assert "Please correct the errors below" in page and error in page
        assert 'id="phone-booking-form"' not in page  # nothing to book until the steps are right


class TestBooking:
    def test_reception_books_a_new_patient_by_phone(
        self, reception_client, receptionist, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        page = reception_client.get(url).content.decode()
        assert ten_am.isoformat() in radio_values(page)
        assert "Consent read to the patient and given (on the phone or at the desk)" in page and "Version 1" in page
        # The consent scrolls in its box: a keyboard can reach and scroll it.
        assert (
            '<div class="phone-booking-consent" tabindex="0" role="region" aria-label="Consent text, version 1">'
            in page
        )

        response = reception_client.post(url, booking_data(ten_am, needle_fear="on", other_conditions="Asthma"))

        appointment = Appointment.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:booking_appointment_change", args=[appointment.pk])
        assert (appointment.source, appointment.start, appointment.practitioner) == ("phone", ten_am, physio)
        assert appointment.consent.version == "1"
        assert str(appointment.patient.phone) == "+16145550100" and appointment.patient.last_name == "Lovelace"
        assert appointment.screening.needle_fear and appointment.screening.other_conditions == "Asthma"
        assert appointment.history.get().history_user == receptionist
        assert LogEntry.objects.get().user == receptionist
        [message] = [str(each) for each in get_messages(response.wsgi_request)]
        assert appointment.reference in message and "10:00 AM Westerville time (America/New_York)" in message
        assert "Lovelace" not in message and dry_needling.name not in message  # it sits in the session
        # The worker sends the confirmation exactly as for an online booking.
        assert appointment.pk in due_confirmations()
        change_page = reception_client.get(response["Location"]).content.decode()
        assert appointment.reference in change_page

    def test_reception_books_an_existing_patient_without_retyping_them(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        patient = PatientFactory(first_name="Grace", last_name="Hopper", email="Grace@Example.com")
        url = steps(dry_needling, westerville, day=ten_am.date(), patient=patient.pk)
        page = reception_client.get(url).content.decode()
        assert f'<option value="{patient.pk}" selected>Grace Hopper</option>' in page
        assert "admin/js/autocomplete.js" in page and "jquery" in page

        data = booking_data(ten_am, **dict.fromkeys(NEW_PATIENT, None), patient=patient.pk)
        response = reception_client.post(url, data)

        assert response.status_code == 302
        appointment = Appointment.objects.get()
        assert appointment.patient == patient and appointment.source == "phone"
        assert Patient.objects.count() == 1

    def test_a_caller_who_booked_only_a_call_is_booked_as_they_are_once_their_birthday_is_known(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        # Their record from a discovery call has no date of birth: a treatment needs one.
        caller = PatientFactory(first_name="Grace", last_name="Hopper", date_of_birth=None)
        url = steps(dry_needling, westerville, day=ten_am.date(), patient=caller.pk)
        data = booking_data(ten_am, **dict.fromkeys(NEW_PATIENT, None), patient=caller.pk)
        response = reception_client.post(url, data)
        assert response.status_code == 200 and not Appointment.objects.exists()
        assert "has no date of birth yet" in response.content.decode()
        response = reception_client.post(url, {**data, "date_of_birth": "1976-12-09"})
        assert response.status_code == 302
        caller.refresh_from_db()
        assert Appointment.objects.get().patient == caller and str(caller.date_of_birth) == "1976-12-09"
        assert Patient.objects.count() == 1

    def test_a_callers_birthday_that_makes_them_another_record_is_refused_with_the_way_out(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        PatientFactory(email="grace@example.com", date_of_birth="1976-12-09")
        caller = PatientFactory(email="grace@example.com", date_of_birth=None)
        url = steps(dry_needling, westerville, day=ten_am.date(), patient=caller.pk)
        data = {
            **booking_data(ten_am, **dict.fromkeys(NEW_PATIENT, None), patient=caller.pk),
            "date_of_birth": "1976-12-09",
        }
        page = reception_client.post(url, data).content.decode()
        assert "Merge the two records first, then book." in page
        caller.refresh_from_db()
        assert caller.date_of_birth is None and not Appointment.objects.exists()

    def test_the_autocomplete_finds_patients_for_reception(self, reception_client):
        patient = PatientFactory(first_name="Grace", last_name="Hopper")
        PatientFactory(first_name="Alan", last_name="Turing")
        response = reception_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "booking", "model_name": "appointment", "field_name": "patient", "term": "hopp"},
        )
        assert response.json()["results"] == [{"id": str(patient.pk), "text": "Grace Hopper"}]

    def test_the_patient_search_tells_look_alikes_apart(self, reception_client, physio, westerville, dry_needling):
        older = PatientFactory(first_name="Maria", last_name="Garcia", email="maria.g@example.com",
                               date_of_birth=date(1961, 3, 4))  # fmt: skip
        PatientFactory(
            first_name="Maria", last_name="Garcia", email="mgarcia@example.org", date_of_birth=date(1990, 7, 1)
        )
        AppointmentFactory(
            patient=older, practitioner=physio, location=westerville, service=dry_needling, status="completed",
            start=datetime(2026, 11, 3, 15, tzinfo=UTC),
        )  # fmt: skip
        response = reception_client.get(
            reverse("reception:patient_search"),
            {"app_label": "booking", "model_name": "appointment", "field_name": "patient", "term": "garcia"},
        )
        texts = sorted(result["text"] for result in response.json()["results"])
        assert texts == [
            "Maria Garcia · born 1 Jul 1990 · mg…@example.org · no visit yet",
            "Maria Garcia · born 4 Mar 1961 · ma…@example.com · last visit 3 Nov 2026",
        ]

    def test_the_booking_form_searches_patients_there(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, booking_day
    ):
        page = reception_client.get(steps(dry_needling, westerville, day=booking_day)).content.decode()
        assert f'data-ajax--url="{reverse("reception:patient_search")}"' in page

    def test_the_patient_search_is_staffs_only(self, client, practitioner_user):
        url = reverse("reception:patient_search")
        query = {"app_label": "booking", "model_name": "appointment", "field_name": "patient", "term": "a"}
        assert client.get(url, query)["Location"].startswith(reverse("admin:login"))
        practitioner_user.is_staff = True
        practitioner_user.save()
        client.force_login(practitioner_user)
        assert client.get(url, query).status_code == 403

    def test_the_patient_search_costs_a_fixed_number_of_queries(self, reception_client, django_assert_max_num_queries):
        for number in range(30):
            PatientFactory(first_name="Sam", last_name=f"Lee{number}")
        query = {"app_label": "booking", "model_name": "appointment", "field_name": "patient", "term": "lee"}
        with django_assert_max_num_queries(7):
            response = reception_client.get(reverse("reception:patient_search"), query)
        assert len(response.json()["results"]) == 20 and response.json()["pagination"]["more"]

    def test_anyone_gets_the_first_free_qualified_practitioner(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
    ):
        colleague = PractitionerFactory(name="Zoe Adams", services=[dry_needling], locations=[westerville])
        WorkingHours.objects.create(
            practitioner=colleague,
            location=westerville,
            weekday=ten_am.weekday(),
            start_time=time(9),
            end_time=time(17),
        )
        AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling, start=ten_am)
        url = steps(dry_needling, westerville, day=ten_am.date())
        assert "10:00 AM · Zoe Adams" in reception_client.get(url).content.decode()

        response = reception_client.post(url, booking_data(ten_am))

        assert response.status_code == 302
        assert Appointment.objects.get(source="phone").practitioner == colleague

    def test_a_time_taken_meanwhile_is_an_error_with_fresh_times_and_the_typing_kept(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
    ):
        url = steps(dry_needling, westerville, practitioner=physio.slug, day=ten_am.date())
        assert ten_am.isoformat() in radio_values(reception_client.get(url).content.decode())
        AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling, start=ten_am)  # online

        response = reception_client.post(url, booking_data(ten_am, other_conditions="Asthma", pregnant="on"))

        page = response.content.decode()
        assert response.status_code == 200
        assert "That time was just taken. Choose another of the free times below." in page
        offered = radio_values(page)
        assert ten_am.isoformat() not in offered and (ten_am + timedelta(hours=1)).isoformat() in offered
        assert 'value="Lovelace"' in page and "Asthma" in page and checked(page, "pregnant")
        assert Appointment.objects.filter(source="phone").count() == 0

    def test_a_red_flag_stops_the_booking_and_stores_nothing(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        response = reception_client.post(url, booking_data(ten_am, red_flags="bladder_bowel", pregnant="on"))

        page = response.content.decode()
        assert response.status_code == 200
        assert "Do not book: the caller needs urgent care now." in page
        assert "Tell them to call 911 now" in page
        assert 'value="Lovelace"' in page  # a mis-click can be undone without retyping
        assert (Appointment.objects.count(), Patient.objects.count(), Screening.objects.count()) == (0, 0, 0)

    def test_a_red_flag_is_said_at_once_even_before_the_form_is_complete(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        data = booking_data(ten_am, **dict.fromkeys(NEW_PATIENT, None), red_flags="trauma")
        page = reception_client.post(url, data).content.decode()
        assert "Do not book: the caller needs urgent care now." in page
        assert Appointment.objects.count() == 0

    def test_a_red_flag_on_an_empty_form_shows_only_the_urgent_care_alert(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        response = reception_client.post(url, {"red_flags": "trauma", "consent_version": current_consent().version})

        page = response.content.decode()
        assert 'role="alert" id="urgent-care"' in page and "Tell them to call 911 now" in page
        # Nothing else is asked for: nothing is to be booked.
        assert response.context["form"].errors == {"red_flags": ["Do not book: the caller needs urgent care now."]}
        assert "Choose the caller as an existing patient" not in page
        assert "Choose one of the free times." not in page and "Please correct the errors below" not in page

    def test_consent_not_given_is_an_error(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        page = reception_client.post(url, booking_data(ten_am, consent=None)).content.decode()
        assert "Read the consent to the caller and tick the box when they agree." in page
        assert Appointment.objects.count() == 0 and Patient.objects.count() == 0

    def test_consent_updated_while_booking_must_be_read_again(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        ConsentText.objects.create(version="2", body="The new wording.", published_at=timezone.now())

        page = reception_client.post(url, booking_data(ten_am, consent_version="1")).content.decode()

        assert "The consent text was updated while you were booking" in page
        assert "The new wording." in page and 'name="consent_version" value="2"' in page
        assert not checked(page, "consent")  # ticked for version 1, not for version 2
        assert Appointment.objects.count() == 0

    def test_a_patient_already_booked_at_that_time(
        self, reception_client, catalogue, open_all_week, dry_needling, acupuncture, westerville, acupuncturist, ten_am
    ):
        patient = PatientFactory()
        AppointmentFactory(patient=patient, practitioner=acupuncturist, location=westerville, start=ten_am)
        url = steps(dry_needling, westerville, day=ten_am.date())
        data = booking_data(ten_am, **dict.fromkeys(NEW_PATIENT, None), patient=patient.pk)

        page = reception_client.post(url, data).content.decode()

        assert "This patient already has an appointment at that time." in page
        assert Appointment.objects.count() == 1

    def test_a_follow_up_for_a_new_patient_points_to_an_initial_assessment(
        self, reception_client, catalogue, open_all_week, acupuncture, dry_needling, westerville, ten_am
    ):
        acupuncture.who_can_book = "returning"
        acupuncture.save()
        dry_needling.who_can_book = "new"
        dry_needling.save()
        url = steps(acupuncture, westerville, day=ten_am.date())

        page = reception_client.post(url, booking_data(ten_am)).content.decode()

        assert "Book an initial assessment instead" in page
        assert "say so under “Returning patient without a record here”" in page
        assert f"?service={dry_needling.slug}&amp;location=westerville" in page
        assert 'value="Lovelace"' in page and Appointment.objects.count() == 0

        reason = "Treated at the clinic before we used this system"
        response = reception_client.post(url, booking_data(ten_am, returning_patient_reason=reason))
        assert response.status_code == 302
        assert Appointment.objects.get().returning_patient_reason == reason

    def test_the_override_is_only_asked_for_a_service_for_returning_patients(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        page = reception_client.get(steps(dry_needling, westerville, day=ten_am.date())).content.decode()
        assert 'name="returning_patient_reason"' not in page

    def test_a_walk_in_is_booked_as_one(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        assert reception_client.post(url, booking_data(ten_am, source="walk_in")).status_code == 302
        assert Appointment.objects.get().source == "walk_in"
        response = reception_client.post(url, booking_data(ten_am + timedelta(hours=2), source="online"))
        assert "Select a valid choice" in response.content.decode()  # "online" is the patients' own

    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({**dict.fromkeys(NEW_PATIENT, None)}, "Choose the caller as an existing patient, or fill in"),
            ({"email": None, "phone": None}, "Required for a new patient."),
            ({"phone": "12"}, "Enter a valid phone number"),
            ({"date_of_birth": "2999-01-01"}, "The date of birth cannot be in the future."),
            ({"start": "not a time"}, "Choose one of the free times."),
            ({"start": None}, "Choose one of the free times."),
            ({"red_flags": "not-a-flag"}, "Select a valid choice."),
            ({"other_conditions": "Asthma\x00"}, "Null characters are not allowed."),
            ({"patient": "not-a-number"}, "Select a valid choice."),
            ({"patient": "²"}, "Select a valid choice."),  # a digit to str.isdigit(), not to int()
            ({"patient": "99999999999999999999999"}, "Select a valid choice."),
            ({"consent_version": None}, "This field is required."),
        ],
    )
    def test_incomplete_or_malformed_details_are_form_errors(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am, changes, error
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        response = reception_client.post(url, booking_data(ten_am, **changes))
        assert response.status_code == 200 and error in response.content.decode()
        assert Appointment.objects.count() == 0

    def test_an_existing_and_a_new_patient_at_once_is_an_error(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am
    ):
        patient = PatientFactory()
        url = steps(dry_needling, westerville, day=ten_am.date())
        page = reception_client.post(url, booking_data(ten_am, patient=patient.pk)).content.decode()
        assert "Choose an existing patient or fill in a new patient, not both." in page
        assert Appointment.objects.count() == 0

    def test_booking_stays_in_bounded_queries(
        self, reception_client, busy_clinic, dry_needling, westerville, physio, ten_am, django_assert_max_num_queries
    ):
        url = steps(dry_needling, westerville, practitioner=physio.slug, day=ten_am.date())
        with django_assert_max_num_queries(29):
            response = reception_client.post(url, booking_data(ten_am))
        assert response.status_code == 302


class TestDaylightSaving:
    def test_times_on_the_spring_forward_day_are_local(
        self, reception_client, receptionist, catalogue, open_all_week, dry_needling, westerville
    ):
        # 8 March 2026: clocks in New York go from 02:00 EST to 03:00 EDT.
        with time_machine.travel(datetime(2026, 3, 1, 15, tzinfo=UTC), tick=False):
            reception_client.force_login(receptionist)
            before = reception_client.get(steps(dry_needling, westerville, day=date(2026, 3, 7))).content.decode()
            page = reception_client.get(steps(dry_needling, westerville, day=date(2026, 3, 8))).content.decode()
            assert radio_values(before)[0] == "2026-03-07T14:00:00+00:00"  # 9:00 AM EST
            assert radio_values(page)[0] == "2026-03-08T13:00:00+00:00"  # 9:00 AM EDT
            # The day the clocks change, each time names its zone; the day before, bare times.
            assert 'value="2026-03-08T13:00:00+00:00"' in page and "9:00 AM EDT · Maya Lindqvist" in page
            assert "9:00 AM · Maya Lindqvist" in before
            assert "Westerville local time (America/New_York)" in page

            url = steps(dry_needling, westerville, day=date(2026, 3, 8))
            response = reception_client.post(url, booking_data(datetime(2026, 3, 8, 13, tzinfo=UTC)))
            [message] = [str(each) for each in get_messages(response.wsgi_request)]
        assert "Sunday 8 March 2026, 9:00 AM Westerville time" in message
        assert Appointment.objects.get().start == datetime(2026, 3, 8, 13, tzinfo=UTC)


class TestAccess:
    def test_a_staff_practitioner_is_refused(self, client, practitioner_user, catalogue, dry_needling, westerville):
        practitioner_user.is_staff = True
        practitioner_user.save()
        client.force_login(practitioner_user)
        assert client.get(URL).status_code == 403
        assert client.post(steps(dry_needling, westerville), {"start": "x"}).status_code == 403

    def test_anonymous_is_sent_to_the_admin_login(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


class TestDiscoveryCall:
    @pytest.fixture
    def call_request(self, db):
        from discovery.models import DiscoveryCallRequest

        return DiscoveryCallRequest.objects.create(
            name="Grace Hopper",
            phone="+16145550199",
            email="grace@example.com",
            best_time="morning",
            consent_to_contact=True,
            consented_at=timezone.now(),
            patient=PatientFactory(first_name="Grace", last_name="Hopper", email="grace@example.com"),
        )

    def test_the_request_is_carried_through_and_marked_booked_with_the_appointment(
        self, reception_client, receptionist, catalogue, open_all_week, dry_needling, westerville, ten_am, call_request
    ):
        page = reception_client.get(page_url(discovery_call=call_request.pk)).content.decode()
        assert call_request.reference in page and f'name="discovery_call" value="{call_request.pk}"' in page

        url = steps(dry_needling, westerville, day=ten_am.date(), discovery_call=call_request.pk)
        page = reception_client.get(url).content.decode()
        assert f'<option value="{call_request.patient_id}" selected>Grace Hopper</option>' in page
        booking_form_action = page.split('id="phone-booking-form"')[0].rsplit('action="', 1)[1]
        assert f"discovery_call={call_request.pk}" in booking_form_action

        data = booking_data(ten_am, **dict.fromkeys(NEW_PATIENT, None), patient=call_request.patient_id)
        response = reception_client.post(url, data)

        assert response.status_code == 302
        appointment = Appointment.objects.get()
        call_request.refresh_from_db()
        assert (call_request.status, call_request.appointment) == ("booked", appointment)
        assert call_request.history.first().history_user == receptionist

    def test_a_request_that_cannot_be_booked_undoes_the_booking(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, ten_am, call_request
    ):
        call_request.status = "closed"
        call_request.save()
        url = steps(dry_needling, westerville, day=ten_am.date(), discovery_call=call_request.pk)

        data = booking_data(ten_am, **dict.fromkeys(NEW_PATIENT, None), patient=call_request.patient_id)
        page = reception_client.post(url, data).content.decode()

        assert f"Request {call_request.reference} is closed" in page
        assert Appointment.objects.count() == 0  # booked and then rolled back with the refusal


class TestFromTheCalendar:
    """A click on a free cell of the day calendar: location, practitioner, day and time filled in."""

    def cell_url(self, location, practitioner, start) -> str:
        return page_url(
            location=location.slug,
            practitioner=practitioner.slug,
            day=start.astimezone(location.zone).date().isoformat(),
            at=start.strftime("%Y-%m-%dT%H:%MZ"),
        )

    def test_the_services_that_fit_the_time_are_offered(
        self, reception_client, catalogue, open_all_week, dry_needling, discovery_call, westerville, physio, ten_am
    ):
        # Maya gives dry needling (60 min + 15) and discovery calls (15 min) at Westerville; with
        # a patient at 11:00, only the call fits at 10:30.
        AppointmentFactory(practitioner=physio, location=westerville, start=ten_am + timedelta(hours=1))

        fits_both = reception_client.get(
            self.cell_url(westerville, physio, ten_am - timedelta(hours=1))
        ).content.decode()
        fits_one = reception_client.get(
            self.cell_url(westerville, physio, ten_am + timedelta(minutes=30))
        ).content.decode()

        assert "These services fit this time" in fits_both
        assert (
            ">Initial assessment + dry needling · 60 min<" in fits_both
            and ">Free discovery call · 15 min<" in fits_both
        )
        assert (
            ">Initial assessment + dry needling · 60 min<" not in fits_one
            and ">Free discovery call · 15 min<" in fits_one
        )
        nine = (ten_am - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%MZ")
        assert f"?service={dry_needling.slug}&amp;location=westerville&amp;practitioner=maya-lindqvist" in fits_both
        assert f"at={nine.replace(':', '%3A')}" in fits_both

    def test_the_clicked_time_comes_preselected(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
    ):
        url = steps(
            dry_needling,
            westerville,
            practitioner=physio.slug,
            day=ten_am.date(),
            at=ten_am.strftime("%Y-%m-%dT%H:%MZ"),
        )
        page = reception_client.get(url).content.decode()
        radio = page.split(f'value="{ten_am.isoformat()}"', 1)[1].split(">", 1)[0]
        assert " checked" in radio
        assert f"at={ten_am.strftime('%Y-%m-%dT%H:%MZ').replace(':', '%3A')}" in page  # kept in the POST's action

    def test_a_clicked_time_taken_meanwhile_says_so(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
    ):
        AppointmentFactory(practitioner=physio, location=westerville, start=ten_am)
        url = steps(
            dry_needling,
            westerville,
            practitioner=physio.slug,
            day=ten_am.date(),
            at=ten_am.strftime("%Y-%m-%dT%H:%MZ"),
        )
        page = reception_client.get(url).content.decode()
        assert "10:00 AM is no longer free on this day" in page

    def test_nothing_fits_says_what_to_do(
        self, reception_client, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
    ):
        AppointmentFactory(practitioner=physio, location=westerville, start=ten_am)
        page = reception_client.get(self.cell_url(westerville, physio, ten_am)).content.decode()
        assert "fits this time (it may have been taken meanwhile)" in page

    @pytest.mark.parametrize("at", ["soon", "\x00", "2026-99-99T10:00Z", "9999-12-31T23:59Z", "0001-01-01T00:00Z"])
    def test_nonsense_in_the_cell_link_is_ignored(self, reception_client, catalogue, westerville, physio, at):
        response = reception_client.get(page_url(location="westerville", practitioner=physio.slug, at=at))
        assert response.status_code == 200 and "These services fit" not in response.content.decode()
        chosen = page_url(service="dry-needling-initial", location="westerville", practitioner=physio.slug, at=at)
        assert reception_client.get(chosen).status_code == 200

    def test_the_fitting_services_cost_a_fixed_number_of_queries(
        self, reception_client, busy_clinic, physio, westerville, ten_am, django_assert_max_num_queries
    ):
        with django_assert_max_num_queries(16):
            response = reception_client.get(self.cell_url(westerville, physio, ten_am))
        assert response.status_code == 200


class TestEarlierAnswers:
    """Picking an existing patient in the search box does not fill in the safety questions: their
    earlier flags must not be dropped by an unticked form."""

    @pytest.fixture
    def grace(self, dry_needling, westerville, physio, open_all_week, ten_am):
        from patients.services import ScreeningAnswers
        from tests.helpers import book

        earlier = book(dry_needling, westerville, ten_am - timedelta(hours=1), practitioner=physio,
                       screening=ScreeningAnswers(blood_thinners=True, other_conditions="Asthma"))  # fmt: skip
        return earlier.patient

    def test_an_earlier_flag_left_unticked_is_asked_again_once(
        self, reception_client, catalogue, grace, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        data = booking_data(ten_am + timedelta(hours=2), **dict.fromkeys(NEW_PATIENT, None), patient=grace.pk)

        page = reception_client.post(url, data).content.decode()

        assert "At their last booking" in page and "takes blood thinners (anticoagulants)" in page
        assert checked(page, "blood_thinners") and Appointment.objects.filter(patient=grace).count() == 1
        response = reception_client.post(url, {**data, "blood_thinners": "on", "screening_reviewed": "1"})
        assert response.status_code == 302
        assert Screening.objects.filter(appointment__patient=grace).latest("created_at").blood_thinners

    def test_reception_may_untick_it_on_purpose(
        self, reception_client, catalogue, grace, dry_needling, westerville, ten_am
    ):
        url = steps(dry_needling, westerville, day=ten_am.date())
        data = booking_data(ten_am + timedelta(hours=2), **dict.fromkeys(NEW_PATIENT, None), patient=grace.pk)
        assert reception_client.post(url, {**data, "screening_reviewed": "1"}).status_code == 302
        assert not Screening.objects.filter(appointment__patient=grace).latest("created_at").blood_thinners

    def test_a_patient_known_when_the_page_opens_has_their_answers_filled_in(
        self, reception_client, catalogue, grace, dry_needling, westerville, ten_am
    ):
        page = reception_client.get(
            steps(dry_needling, westerville, day=ten_am.date(), patient=grace.pk)
        ).content.decode()
        assert checked(page, "blood_thinners") and not checked(page, "pregnant") and "Asthma</textarea>" in page


def test_booked_from_a_free_time_goes_back_to_that_days_calendar(
    reception_client, catalogue, open_all_week, dry_needling, westerville, physio, ten_am
):
    at = ten_am.strftime("%Y-%m-%dT%H:%MZ")
    url = steps(dry_needling, westerville, practitioner=physio.slug, day=ten_am.date(), at=at)
    response = reception_client.post(url, booking_data(ten_am))
    assert response.status_code == 302
    day = ten_am.astimezone(westerville.zone).date()
    assert response["Location"] == f"{reverse('reception:calendar')}?location=westerville&date={day}"

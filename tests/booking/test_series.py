"""Treatment series ("book my follow-ups"): the next visits booked together from an appointment,
each through book_appointment; weeks that fail are shown with other times, and never undo the rest."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment, TimeOff, TreatmentSeries
from booking.selectors import series_of, series_overview
from booking.services import BookingError, book_follow_ups, book_series_session, cancel_appointment, follow_up_starts
from clinic.selectors import follow_up_service_for
from patients.models import ConsentText
from tests.factories import AppointmentFactory, ServiceFactory
from tests.helpers import book, race

NEW_YORK = ZoneInfo("America/New_York")


def week(booking_day: date, location, number: int) -> datetime:
    """10:00 local time, `number` weeks after the first visit."""
    return local_instant(booking_day + timedelta(weeks=number), time(10), location.zone)


def book_weekly(appointment, sessions=3, **changes):
    arguments = {"sessions": sessions, "interval_weeks": 1, "consent_given": True, "consent_version": "1", **changes}
    return book_follow_ups(appointment=appointment, **arguments)


def post_series(client, appointment, **changes):
    data = {"sessions": "3", "interval_weeks": "1", "answers_still_apply": "on", "consent_version": "1", **changes}
    return client.post(
        reverse("booking:follow_ups", args=[appointment.manage_token]),
        {name: value for name, value in data.items() if value is not None},
    )


def series_page(client, appointment):
    return client.get(reverse("booking:follow_ups", args=[appointment.manage_token]))


# Which service a follow-up is ---------------------------------------------------------------


@pytest.mark.django_db
class TestFollowUpServiceFor:
    def test_the_named_follow_up_else_the_same_service_unless_it_is_for_new_patients(self, dry_needling, follow_up):
        assert follow_up_service_for(dry_needling) == follow_up
        assert follow_up_service_for(follow_up) == follow_up  # returning patients: more of the same
        cupping = ServiceFactory(name="Cupping", who_can_book="anyone")
        assert follow_up_service_for(cupping) == cupping
        dry_needling.follow_up_service = None
        assert follow_up_service_for(dry_needling) is None  # a second initial assessment is no follow-up

    def test_none_for_a_discovery_call_or_an_inactive_follow_up(self, dry_needling, follow_up, discovery_call):
        assert follow_up_service_for(discovery_call) is None
        follow_up.is_active = False
        follow_up.save()
        dry_needling.refresh_from_db()
        assert follow_up_service_for(dry_needling) is None


# The times asked for ------------------------------------------------------------------------


class TestFollowUpStarts:
    def test_the_local_time_stays_across_the_autumn_clock_change(self):
        tuesday_ten_edt = datetime(2026, 10, 27, 10, tzinfo=NEW_YORK)
        starts = follow_up_starts(after=tuesday_ten_edt, zone=NEW_YORK, sessions=3, interval_weeks=1)
        assert [start.astimezone(NEW_YORK).strftime("%a %d %b %H:%M %Z") for start in starts] == [
            "Tue 03 Nov 10:00 EST",
            "Tue 10 Nov 10:00 EST",
            "Tue 17 Nov 10:00 EST",
        ]
        assert starts[0] - tuesday_ten_edt == timedelta(days=7, hours=1)  # a week and the hour given back
        assert all(start.tzinfo == UTC for start in starts)

    def test_a_wall_time_the_spring_clock_change_skips_becomes_what_local_instant_gives(self):
        sunday_half_past_two_est = datetime(2027, 3, 7, 2, 30, tzinfo=NEW_YORK)
        [skipped] = follow_up_starts(after=sunday_half_past_two_est, zone=NEW_YORK, sessions=1, interval_weeks=1)
        # 02:30 on 14 March 2027 does not exist in New York: read with the offset before the change.
        assert (
            skipped
            == local_instant(date(2027, 3, 14), time(2, 30), NEW_YORK)
            == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
        )
        assert skipped.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"

    def test_every_two_weeks(self):
        monday = datetime(2030, 1, 14, 9, tzinfo=NEW_YORK)
        starts = follow_up_starts(after=monday, zone=NEW_YORK, sessions=2, interval_weeks=2)
        assert [start.astimezone(NEW_YORK).date() for start in starts] == [date(2030, 1, 28), date(2030, 2, 11)]


# Booking the series -------------------------------------------------------------------------


@pytest.mark.django_db
class TestBookFollowUps:
    def test_every_week_is_booked_with_the_same_practitioner_answers_and_consent(
        self, first_visit, follow_up, physio, westerville, booking_day
    ):
        result = book_weekly(first_visit)
        assert result.created
        assert [outcome.error for outcome in result.sessions] == [None, None, None]
        series = result.series
        assert (series.service, series.practitioner, series.location) == (follow_up, physio, westerville)
        assert series.wanted_starts == [week(booking_day, westerville, n) for n in (1, 2, 3)]
        visits = list(series.appointments.order_by("start"))
        assert [visit.start for visit in visits] == series.wanted_starts
        assert [visit.series_session for visit in visits] == [1, 2, 3]
        for visit in visits:
            assert (visit.service, visit.practitioner, visit.patient) == (follow_up, physio, first_visit.patient)
            assert (visit.status, visit.source, visit.consent.version) == ("confirmed", "online", "1")
            assert visit.screening.blood_thinners and visit.screening.other_conditions == "Asthma"
            assert visit.history.get().series_id == series.pk  # the audit trail records the series

    def test_a_blocked_week_is_left_out_and_the_others_stay_booked(self, first_visit, physio, westerville, booking_day):
        blocked = week(booking_day, westerville, 2)
        TimeOff.objects.create(
            practitioner=physio, start=blocked - timedelta(hours=1), end=blocked + timedelta(hours=7)
        )
        result = book_weekly(first_visit)
        assert [outcome.appointment is not None for outcome in result.sessions] == [True, False, True]
        assert result.sessions[1].error.code == "slot_unavailable"
        assert result.series.appointments.count() == 2

    def test_weeks_beyond_the_booking_horizon_fail_like_any_other(self, first_visit, booking_day, westerville):
        result = book_follow_ups(
            appointment=first_visit, sessions=6, interval_weeks=2, consent_given=True, consent_version="1"
        )
        # Two, four, six weeks after a visit a week from now are inside 60 days; eight and more are not.
        assert [outcome.error.code if outcome.error else "booked" for outcome in result.sessions] == [
            "booked",
            "booked",
            "booked",
            "beyond_horizon",
            "beyond_horizon",
            "beyond_horizon",
        ]
        assert result.sessions[3].error.message == "Bookings open 60 days ahead."
        assert result.series.wanted_starts[5] == week(booking_day, westerville, 12)

    def test_a_second_call_books_nothing_and_returns_the_first_series(self, first_visit):
        first = book_weekly(first_visit)
        again = book_weekly(first_visit, sessions=6)
        assert (again.created, again.series, again.sessions) == (False, first.series, [])
        assert TreatmentSeries.objects.count() == 1 and Appointment.objects.filter(series__isnull=False).count() == 3

    def test_a_changed_consent_books_nothing(self, first_visit):
        ConsentText.objects.create(version="2", body="New wording.", published_at=timezone.now())
        with pytest.raises(BookingError) as error:
            book_weekly(first_visit)
        assert error.value.code == "consent_changed"
        assert "consent has been updated" in error.value.message
        assert (TreatmentSeries.objects.count(), Appointment.objects.count()) == (0, 1)

    def test_agreeing_to_the_new_consent_books_with_it(self, first_visit):
        ConsentText.objects.create(version="2", body="New wording.", published_at=timezone.now())
        result = book_weekly(first_visit, consent_version="2")
        assert {visit.consent.version for visit in result.booked} == {"2"}

    @pytest.mark.parametrize(
        "changes, code",
        [
            ({"consent_given": False}, "consent_required"),
            ({"sessions": 7}, "invalid_series"),
            ({"sessions": 0}, "invalid_series"),
            ({"interval_weeks": 3}, "invalid_series"),
        ],
    )
    def test_refusals_book_nothing(self, first_visit, changes, code):
        with pytest.raises(BookingError) as error:
            book_weekly(first_visit, **changes)
        assert error.value.code == code
        assert TreatmentSeries.objects.count() == 0

    def test_only_after_a_confirmed_treatment(self, first_visit):
        cancel_appointment(appointment=first_visit, actor=None)
        with pytest.raises(BookingError) as error:
            book_weekly(first_visit)
        assert error.value.code == "follow_ups_unavailable"

    def test_not_from_a_visit_of_a_series(self, first_visit):
        visit = book_weekly(first_visit).booked[0]
        with pytest.raises(BookingError) as error:
            book_weekly(visit)
        assert error.value.code == "follow_ups_unavailable"

    def test_not_when_the_practitioner_does_not_give_the_follow_up(self, first_visit, physio, follow_up):
        physio.qualifications.filter(service=follow_up).delete()
        with pytest.raises(BookingError) as error:
            book_weekly(first_visit)
        assert error.value.code == "follow_ups_unavailable"

    def test_the_local_time_stays_across_the_clock_change(self, follow_up, dry_needling, westerville, physio,
                                                           open_all_week):  # fmt: skip
        with time_machine.travel(datetime(2026, 10, 20, 12, tzinfo=UTC), tick=False):
            source = book(dry_needling, westerville, datetime(2026, 10, 27, 10, tzinfo=NEW_YORK), practitioner=physio)
            result = book_weekly(source)
        times = [visit.local_start.strftime("%a %d %b %H:%M %Z") for visit in result.booked]
        assert times == ["Tue 03 Nov 10:00 EST", "Tue 10 Nov 10:00 EST", "Tue 17 Nov 10:00 EST"]


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_make_one_series(first_visit):
    results = race(2, lambda _: book_weekly(first_visit))
    assert sorted(result.created for result in results) == [False, True]
    assert TreatmentSeries.objects.count() == 1
    assert Appointment.objects.filter(series__isnull=False).count() == 3


# Another time for a week that failed ----------------------------------------------------------


@pytest.fixture
def series_with_week_two_taken(first_visit, physio, westerville, booking_day):
    """Another patient holds Maya's 10:00 in week 2."""
    AppointmentFactory(practitioner=physio, location=westerville, start=week(booking_day, westerville, 2))
    return book_weekly(first_visit).series


@pytest.mark.django_db
class TestSeriesOverview:
    def test_a_taken_week_is_listed_with_the_nearest_free_times_in_bounded_queries(
        self, series_with_week_two_taken, first_visit, booking_day, westerville, django_assert_max_num_queries
    ):
        series = series_of(first_visit)
        with django_assert_max_num_queries(8):
            overview = series_overview(series)
        assert overview.booked_count == 2
        one, two, three = overview.sessions
        assert one.appointment and three.appointment and two.appointment is None
        assert two.not_booked_reason == "Maya Lindqvist was not free at that time."
        wanted = week(booking_day, westerville, 2)
        # The other patient's visit holds 10:00-11:00 (its buffer included); 45 minutes plus
        # 15 to clean up fit from 9:00, then from 11:00.
        assert [slot.start - wanted for slot in two.alternatives] == [
            timedelta(hours=-1),
            timedelta(hours=1),
            timedelta(hours=1, minutes=15),
            timedelta(hours=1, minutes=30),
        ]

    def test_six_missing_weeks_every_two_weeks_stay_in_bounded_queries(
        self, first_visit, physio, booking_day, westerville, django_assert_max_num_queries
    ):
        # Maya is away for the whole series: nothing is booked, every week has its own search.
        TimeOff.objects.create(practitioner=physio, start=first_visit.end, end=first_visit.start + timedelta(days=100))
        result = book_follow_ups(
            appointment=first_visit, sessions=6, interval_weeks=2, consent_given=True, consent_version="1"
        )
        assert result.booked == []
        series = series_of(first_visit)
        with django_assert_max_num_queries(10):
            overview = series_overview(series)
        reasons = [session.not_booked_reason for session in overview.sessions]
        assert reasons[:3] == ["Maya Lindqvist was not free at that time."] * 3
        opens = timezone.localtime(result.series.wanted_starts[3] - timedelta(days=60), westerville.zone)
        assert (
            reasons[3]
            == f"Bookings open 60 days ahead: this week can be booked from {opens:%A} {opens.day} {opens:%B}."
        )

    def test_a_week_freed_since_offers_its_own_time(self, series_with_week_two_taken, first_visit, booking_day,
                                                    westerville):  # fmt: skip
        wanted = week(booking_day, westerville, 2)
        Appointment.objects.filter(start=wanted, series__isnull=True).update(status="cancelled")
        two = series_overview(series_of(first_visit)).sessions[1]
        assert two.not_booked_reason == "Maya Lindqvist was not free at that time. It is free now."
        assert wanted in [slot.start for slot in two.alternatives]

    def test_a_cancelled_visit_is_shown_as_such_and_can_be_booked_again(self, series_with_week_two_taken):
        visit = series_with_week_two_taken.appointments.get(series_session=3)
        cancel_appointment(appointment=visit, actor=None)
        session = series_overview(series_with_week_two_taken).sessions[2]
        assert session.not_booked_reason == "Cancelled."
        assert visit.start in [slot.start for slot in session.alternatives]  # its own time is free again
        again = book_series_session(series=series_with_week_two_taken, session=3, start=visit.start)
        assert again.series_session == 3 and again.pk != visit.pk

    def test_another_appointment_of_the_patient_is_the_reason(self, first_visit, physio, booking_day, westerville,
                                                               acupuncturist, acupuncture):  # fmt: skip
        wanted = week(booking_day, westerville, 1)
        book(acupuncture, westerville, wanted, practitioner=acupuncturist, email=first_visit.patient.email,
             date_of_birth=first_visit.patient.date_of_birth)  # fmt: skip
        result = book_weekly(first_visit, sessions=1)
        assert result.sessions[0].error.code == "already_booked"
        overview = series_overview(series_of(first_visit))
        assert overview.sessions[0].not_booked_reason == "You already have an appointment at that time."


@pytest.mark.django_db
class TestBookSeriesSession:
    def test_an_alternative_fills_the_week(self, series_with_week_two_taken, booking_day, westerville):
        eleven = week(booking_day, westerville, 2) + timedelta(hours=1)
        booked = book_series_session(series=series_with_week_two_taken, session=2, start=eleven)
        assert (booked.series, booked.series_session, booked.start) == (series_with_week_two_taken, 2, eleven)
        assert booked.screening.blood_thinners
        assert series_overview(series_with_week_two_taken).booked_count == 3

    def test_a_booked_week_is_not_booked_twice(self, series_with_week_two_taken, booking_day, westerville):
        eleven = week(booking_day, westerville, 1) + timedelta(hours=1)
        with pytest.raises(BookingError) as error:
            book_series_session(series=series_with_week_two_taken, session=1, start=eleven)
        assert error.value.code == "session_booked"
        with pytest.raises(BookingError) as error:
            book_series_session(series=series_with_week_two_taken, session=4, start=eleven)
        assert error.value.code == "invalid_session"

    def test_the_database_refuses_a_second_live_visit_for_one_session(self, series_with_week_two_taken):
        visit = series_with_week_two_taken.appointments.get(series_session=1)
        with pytest.raises(IntegrityError, match="appointment_one_live_per_series_session"), transaction.atomic():
            AppointmentFactory(
                patient=visit.patient,
                practitioner=visit.practitioner,
                location=visit.location,
                start=visit.start + timedelta(days=1),
                series=series_with_week_two_taken,
                series_session=1,
            )
        with pytest.raises(IntegrityError, match="appointment_series_session_with_series"), transaction.atomic():
            AppointmentFactory(series=series_with_week_two_taken, series_session=None)


# The pages ----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestManagePageOffersFollowUps:
    def test_the_confirmation_offers_the_form_in_bounded_queries(
        self, client, first_visit, django_assert_max_num_queries
    ):
        url = reverse("booking:manage", args=[first_visit.manage_token])
        # The appointment (with its series, consent and screening), the follow-up's practitioner,
        # the consent text, the footer's locations.
        with django_assert_max_num_queries(4):
            page = client.get(url, {"booked": "1"}).content.decode()
        assert "Book my follow-ups" in page
        assert f'action="{reverse("booking:follow_ups", args=[first_visit.manage_token])}"' in page
        assert '<option value="3" selected>3</option>' in page
        assert "Every week" in page and "Every two weeks" in page
        assert "My health answers from this booking still apply" in page
        assert '<input type="hidden" name="consent_version" value="1">' in page
        assert "How many visits do people need?" in page and "Often 2 to 4 visits" in page
        assert '<legend class="h5">Your health answers and consent</legend>' in page

    def test_no_form_for_a_cancelled_appointment_and_a_post_books_nothing(self, client, first_visit):
        cancel_appointment(appointment=first_visit, actor=None)
        page = client.get(reverse("booking:manage", args=[first_visit.manage_token])).content.decode()
        assert "Book my follow-ups" not in page
        response = post_series(client, first_visit)
        assert response.status_code == 302
        assert response["Location"] == reverse("booking:manage", args=[first_visit.manage_token])
        assert "cannot be booked online" in client.get(response["Location"]).content.decode()
        unticked = post_series(client, first_visit, answers_still_apply=None)  # no form to show it on
        assert unticked.status_code == 302 and unticked["Location"] == response["Location"]
        assert TreatmentSeries.objects.count() == 0

    def test_no_form_after_a_discovery_call(self, client, physio, westerville, discovery_call, open_all_week, ten_am):
        call = book(discovery_call, westerville, ten_am, practitioner=physio)
        assert (
            "Book my follow-ups" not in client.get(reverse("booking:manage", args=[call.manage_token])).content.decode()
        )

    def test_with_a_series_the_page_links_to_it_instead(self, client, first_visit):
        visit = book_weekly(first_visit).booked[0]
        page = client.get(reverse("booking:manage", args=[first_visit.manage_token])).content.decode()
        assert "Book my follow-ups" not in page
        assert reverse("booking:follow_ups", args=[first_visit.manage_token]) in page
        visit_page = client.get(reverse("booking:manage", args=[visit.manage_token])).content.decode()
        assert "follow-up visit 1 of 3" in visit_page and "Book my follow-ups" not in visit_page


@pytest.mark.django_db
class TestBookingFollowUpsThroughThePages:
    def test_all_booked_redirects_to_the_series_page(
        self, client, first_visit, booking_day, westerville, django_assert_max_num_queries
    ):
        # Each visit is a whole booking (about 14 queries: locks, the engine, the rows); three here,
        # then one marking the series booked for its one email.
        with django_assert_max_num_queries(48):
            response = post_series(client, first_visit)
        assert response.status_code == 302
        assert response["Location"] == reverse("booking:follow_ups", args=[first_visit.manage_token])
        visits = list(Appointment.objects.filter(series__isnull=False).order_by("start"))
        assert len(visits) == 3
        page = client.get(response["Location"]).content.decode()
        assert "3 of 3 booked" in page and page.count("Booked:") == 3
        for visit in visits:
            assert reverse("booking:manage", args=[visit.manage_token]) in page
        assert f"{booking_day + timedelta(weeks=1):%A} {(booking_day + timedelta(weeks=1)).day}" in page
        assert "10:00 AM" in page and "New York time" in page and "America/New_York" not in page

    def test_a_blocked_week_is_shown_and_one_of_its_times_books_it(
        self, client, first_visit, physio, booking_day, westerville, django_assert_max_num_queries
    ):
        blocked = week(booking_day, westerville, 2)
        TimeOff.objects.create(
            practitioner=physio, start=blocked - timedelta(hours=1), end=blocked + timedelta(hours=7)
        )
        response = post_series(client, first_visit)
        with django_assert_max_num_queries(10):
            page = client.get(response["Location"]).content.decode()
        assert "2 of 3 booked" in page and page.count("Booked:") == 2
        assert "Not booked:" in page and "Maya Lindqvist was not free at that time." in page
        assert "Book visit 2 at another time" in page
        day_after = blocked + timedelta(days=1)
        assert f'name="start" value="{day_after.isoformat()}"' in page  # the same time, a day later
        assert f'value="{blocked.isoformat()}"' not in page

        booked = client.post(
            reverse("booking:book_follow_up_session", args=[first_visit.manage_token]),
            {"session": "2", "start": day_after.isoformat()},
        )
        assert booked.status_code == 302
        page = client.get(booked["Location"]).content.decode()
        assert "3 of 3 booked" in page and "Booked:" in page
        assert Appointment.objects.get(series_session=2).start == day_after

    def test_weeks_not_open_yet_say_when_they_open(self, client, first_visit):
        post_series(client, first_visit, sessions="6", interval_weeks="2")
        page = series_page(client, first_visit).content.decode()
        assert "3 of 6 booked" in page and "every two weeks" in page
        assert page.count("Bookings open 60 days ahead: this week can be booked from") == 3
        assert "No other free times near then" not in page

    def test_a_double_submit_makes_one_series(self, client, first_visit):
        assert post_series(client, first_visit).status_code == 302
        second = post_series(client, first_visit, sessions="6")
        assert second.status_code == 302
        assert second["Location"] == reverse("booking:follow_ups", args=[first_visit.manage_token])
        assert TreatmentSeries.objects.get().sessions_requested == 3
        assert Appointment.objects.filter(series__isnull=False).count() == 3

    def test_a_consent_changed_since_the_page_was_shown_asks_for_it_again(self, client, first_visit):
        ConsentText.objects.create(version="2", body="Newly worded consent.", published_at=timezone.now())
        response = post_series(client, first_visit, consent_version="1")
        page = response.content.decode()
        assert response.status_code == 200
        assert "Our treatment consent has been updated" in page
        assert "Newly worded consent." in page and "has changed since you booked" in page
        assert '<input type="hidden" name="consent_version" value="2">' in page
        assert (TreatmentSeries.objects.count(), Appointment.objects.count()) == (0, 1)
        assert post_series(client, first_visit, consent_version="2").status_code == 302
        assert {visit.consent.version for visit in Appointment.objects.filter(series__isnull=False)} == {"2"}

    @pytest.mark.parametrize(
        "changes, message",
        [
            ({"sessions": "9"}, "Choose 1 to 6 visits."),
            ({"sessions": "99999999999999999999999"}, "Choose 1 to 6 visits."),
            ({"sessions": "3\x00"}, "Choose 1 to 6 visits."),
            ({"interval_weeks": "3"}, "Choose every week or every two weeks."),
            ({"interval_weeks": None}, "Choose every week or every two weeks."),
            ({"answers_still_apply": None}, "Please confirm this to book."),
            ({"consent_version": "1\x00"}, "Null characters are not allowed."),
        ],
    )
    def test_bad_input_shows_the_form_again_with_what_to_fix(self, client, first_visit, changes, message):
        response = post_series(client, first_visit, **changes)
        assert response.status_code == 200
        page = response.content.decode()
        assert message in page and "Book my follow-ups" in page
        assert TreatmentSeries.objects.count() == 0

    def test_bad_alternatives_are_refused_with_a_message(self, client, series_with_week_two_taken, first_visit):
        url = reverse("booking:book_follow_up_session", args=[first_visit.manage_token])
        for data in (
            {"session": "2", "start": "not a time"},
            {"session": "99999999999999999999", "start": timezone.now().isoformat()},
            {"session": "2\x00", "start": "\x00"},
            {"session": "2", "start": "1999-01-01T10:00:00+00:00"},
        ):
            response = client.post(url, data, follow=True)
            assert response.status_code == 200
            assert "Please choose one of the times shown." in response.content.decode()
        assert series_with_week_two_taken.appointments.count() == 2
        assert client.get(url).status_code == 405  # booking is a POST

    def test_a_taken_alternative_says_so(self, client, series_with_week_two_taken, first_visit, booking_day,
                                         westerville, physio):  # fmt: skip
        eleven = week(booking_day, westerville, 2) + timedelta(hours=1)
        AppointmentFactory(practitioner=physio, location=westerville, start=eleven)
        url = reverse("booking:book_follow_up_session", args=[first_visit.manage_token])
        response = client.post(url, {"session": "2", "start": eleven.isoformat()}, follow=True)
        assert "That time was just taken" in response.content.decode()


@pytest.mark.django_db
class TestAccess:
    def test_an_unknown_link_is_404(self, client, first_visit):
        for token in ("x" * 43, "y" * 65, first_visit.reference, first_visit.manage_token[:-1] + "\x00"):
            series_url = reverse("booking:follow_ups", args=[token])
            assert client.get(series_url).status_code == 404
            assert client.post(series_url, {"sessions": "3", "interval_weeks": "1"}).status_code == 404
            url = reverse("booking:book_follow_up_session", args=[token])
            assert client.post(url, {"session": "1", "start": "x"}).status_code == 404
            assert client.get(reverse("booking:manage", args=[token])).status_code == 404

    def test_another_patients_link_never_shows_or_books_into_this_series(
        self, client, series_with_week_two_taken, first_visit, dry_needling, westerville, physio, booking_day
    ):
        other = book(dry_needling, westerville, week(booking_day, westerville, 0) + timedelta(hours=4),
                     practitioner=physio, n=7)  # fmt: skip
        response = series_page(client, other)
        assert response.status_code == 302  # no series of theirs: back to their own page
        assert response["Location"] == reverse("booking:manage", args=[other.manage_token])
        eleven = week(booking_day, westerville, 2) + timedelta(hours=1)
        url = reverse("booking:book_follow_up_session", args=[other.manage_token])
        assert client.post(url, {"session": "2", "start": eleven.isoformat()}).status_code == 404
        assert series_with_week_two_taken.appointments.count() == 2
        own = series_page(client, first_visit).content.decode()
        assert other.reference not in own and other.manage_token not in own

    def test_a_visit_of_the_series_does_not_open_the_series_page(self, client, series_with_week_two_taken):
        visit = series_with_week_two_taken.appointments.first()
        response = series_page(client, visit)
        assert response.status_code == 302
        assert response["Location"] == reverse("booking:manage", args=[visit.manage_token])

    def test_no_health_data_or_times_in_any_address(self, client, series_with_week_two_taken, first_visit):
        page = series_page(client, first_visit).content.decode()
        for href in (part.split('"')[0] for part in page.split('href="')[1:]):
            assert "Asthma" not in href and "start=" not in href

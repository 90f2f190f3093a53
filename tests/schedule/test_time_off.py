"""A practitioner's own time off: the services, the page, and a real race against a booking."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.availability import available_slots, local_instant
from booking.models import Appointment, TimeOff
from booking.services import BookingError, add_time_off, remove_time_off
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, PractitionerFactory, UserFactory
from tests.helpers import book, race

PAGE = reverse("schedule:time_off")


def remove_url(time_off: TimeOff) -> str:
    return reverse("schedule:remove_time_off", args=[time_off.pk])


@pytest.fixture
def physio_client(client, practitioner_user, physio):
    client.force_login(practitioner_user)
    return client


def booked_at(start, *, practitioner, location, service, status="confirmed"):
    """An appointment written directly (the factory), for states the service would refuse now."""
    return AppointmentFactory(
        practitioner=practitioner,
        location=location,
        service=service,
        patient=PatientFactory(),
        start=start,
        end=start + timedelta(minutes=60),
        blocked_until=start + timedelta(minutes=75),
        status=status,
    )


def form_data(start: datetime, end: datetime, zone, **extra) -> dict:
    start, end = start.astimezone(zone), end.astimezone(zone)
    return {
        "start_date": f"{start:%Y-%m-%d}",
        "start_time": f"{start:%H:%M}",
        "end_date": f"{end:%Y-%m-%d}",
        "end_time": f"{end:%H:%M}",
        "reason": "Conference",
        **extra,
    }


# The services -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestAddTimeOff:
    def test_stores_the_period_with_who_added_it(self, physio, practitioner_user, ten_am):
        time_off = add_time_off(
            practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=2), reason=" Course ", by=practitioner_user
        )
        stored = TimeOff.objects.get()
        assert (stored.practitioner, stored.location, stored.start, stored.end) == (
            physio,
            None,
            ten_am,
            ten_am + timedelta(hours=2),
        )
        assert stored.reason == "Course"
        record = time_off.history.get()
        assert record.history_type == "+"
        assert record.history_user == practitioner_user

    def test_refuses_a_period_with_live_appointments_and_lists_them(
        self, physio, practitioner_user, westerville, dry_needling, ten_am
    ):
        first = booked_at(ten_am, practitioner=physio, location=westerville, service=dry_needling)
        second = booked_at(
            ten_am + timedelta(hours=3),
            practitioner=physio,
            location=westerville,
            service=dry_needling,
            status="arrived",
        )
        with pytest.raises(BookingError) as error:
            add_time_off(
                practitioner=physio,
                start=ten_am - timedelta(hours=1),
                end=ten_am + timedelta(hours=5),
                reason="",
                by=None,
            )
        assert error.value.code == "overlaps_appointments"
        assert error.value.appointments == [first, second]
        local_ten = f"{ten_am.astimezone(westerville.zone):%a %d %b %Y} 10:00"
        assert f"{first.reference} {local_ten}" in error.value.message
        assert second.reference in error.value.message and "Westerville" in error.value.message
        assert not TimeOff.objects.exists()

    def test_a_completed_appointment_blocks_too(self, physio, westerville, dry_needling, ten_am):
        booked_at(ten_am, practitioner=physio, location=westerville, service=dry_needling, status="completed")
        with pytest.raises(BookingError, match="overlaps a booked appointment"):
            add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(minutes=15), reason="", by=None)

    def test_cancelled_and_no_show_appointments_do_not_block(self, physio, westerville, dry_needling, ten_am):
        booked_at(ten_am, practitioner=physio, location=westerville, service=dry_needling, status="cancelled")
        booked_at(ten_am, practitioner=physio, location=westerville, service=dry_needling, status="no_show")
        add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
        assert TimeOff.objects.count() == 1

    def test_another_practitioners_appointment_does_not_block(
        self, physio, acupuncturist, westerville, acupuncture, ten_am
    ):
        booked_at(ten_am, practitioner=acupuncturist, location=westerville, service=acupuncture)
        add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
        assert TimeOff.objects.count() == 1

    def test_the_engines_rule_an_appointments_buffer_may_run_into_time_off(
        self, physio, westerville, dry_needling, ten_am
    ):
        booked_at(
            ten_am, practitioner=physio, location=westerville, service=dry_needling
        )  # 10:00-11:00, buffer to 11:15
        add_time_off(
            practitioner=physio, start=ten_am + timedelta(hours=1), end=ten_am + timedelta(hours=3), reason="", by=None
        )
        assert TimeOff.objects.count() == 1

    def test_refuses_an_end_before_the_start(self, physio, ten_am):
        with pytest.raises(BookingError) as error:
            add_time_off(practitioner=physio, start=ten_am, end=ten_am, reason="", by=None)
        assert error.value.code == "invalid_range"
        assert not TimeOff.objects.exists()

    def test_refuses_a_location_the_practitioner_does_not_work_at(self, physio, calgary, ten_am):
        with pytest.raises(BookingError) as error:
            add_time_off(
                practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None, location=calgary
            )
        assert error.value.code == "invalid_location"


@pytest.mark.django_db
class TestRemoveTimeOff:
    def test_removes_own_time_off_with_who_removed_it(self, physio, practitioner_user, ten_am):
        time_off = add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
        remove_time_off(time_off=time_off, practitioner=physio, by=practitioner_user)
        assert not TimeOff.objects.exists()
        removal = TimeOff.history.get(id=time_off.pk, history_type="-")
        assert removal.history_user == practitioner_user

    def test_refuses_another_practitioners_time_off(self, physio, acupuncturist, ten_am):
        theirs = add_time_off(
            practitioner=acupuncturist, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None
        )
        with pytest.raises(BookingError) as error:
            remove_time_off(time_off=theirs, practitioner=physio, by=None)
        assert error.value.code == "not_found"
        assert TimeOff.objects.filter(pk=theirs.pk).exists()


# The page -----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestTimeOffPage:
    def test_lists_upcoming_time_off_in_local_time_with_its_zone(self, physio_client, physio, westerville):
        now = timezone.now()
        day = timezone.localtime(now, westerville.zone).date() + timedelta(days=10)
        coming = add_time_off(
            practitioner=physio,
            start=local_instant(day, time(9), westerville.zone),
            end=local_instant(day, time(13, 30), westerville.zone),
            reason="Dentist",
            by=None,
        )
        add_time_off(
            practitioner=physio, start=now - timedelta(days=3), end=now - timedelta(days=2), reason="Gone by", by=None
        )
        response = physio_client.get(PAGE)
        assert response.status_code == 200
        page = response.content.decode()
        abbreviation = local_instant(day, time(9), westerville.zone).astimezone(westerville.zone).tzname()
        assert f"{day:%a %d %b %Y} 9:00 AM–1:30 PM {abbreviation}" in page
        assert "America/New_York" in page and "Dentist" in page
        assert "Gone by" not in page
        assert remove_url(coming) in page
        assert response["Cache-Control"].startswith("max-age=0")  # never_cache

    def test_lists_only_own_time_off(self, physio_client, acupuncturist, ten_am):
        add_time_off(
            practitioner=acupuncturist, start=ten_am, end=ten_am + timedelta(hours=1), reason="Theirs", by=None
        )
        assert "Theirs" not in physio_client.get(PAGE).content.decode()

    def test_adding_in_local_time_stores_the_instant(
        self, physio_client, physio, practitioner_user, westerville, booking_day
    ):
        start = local_instant(booking_day, time(12), westerville.zone)
        end = local_instant(booking_day + timedelta(days=2), time(9), westerville.zone)
        response = physio_client.post(PAGE, form_data(start, end, westerville.zone))
        assert response.status_code == 302 and response["Location"] == PAGE
        stored = TimeOff.objects.get()
        assert (stored.practitioner, stored.start, stored.end, stored.reason) == (physio, start, end, "Conference")
        assert stored.history.get().history_user == practitioner_user
        assert "Time off added" in physio_client.get(PAGE).content.decode()

    def test_overlap_is_refused_listing_the_appointments_and_keeping_the_typed_data(
        self, physio_client, physio, westerville, dry_needling, ten_am
    ):
        appointment = booked_at(ten_am, practitioner=physio, location=westerville, service=dry_needling)
        data = form_data(
            ten_am - timedelta(hours=1), ten_am + timedelta(hours=4), westerville.zone, reason="Course in Ohio"
        )
        response = physio_client.post(PAGE, data)
        assert response.status_code == 409
        page = response.content.decode()
        assert "Ask reception to move them" in page
        assert f"{appointment.reference}: {appointment.local_start:%a %d %b %Y} 10:00" in page
        assert f'value="{data["start_date"]}"' in page and f'value="{data["start_time"]}"' in page
        assert 'value="Course in Ohio"' in page
        assert not TimeOff.objects.exists()

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"end_date": "2031-07-01", "end_time": "08:00"}, "The end must be after the start."),
            ({"start_date": "0001-01-01"}, "Check the year"),
            ({"end_date": "9999-12-31"}, "Check the year"),
            ({"start_date": "not a date"}, "Enter a valid date."),
            ({"start_time": "25:00"}, "Enter a valid time."),
            # America/New_York springs forward at 02:00 on 8 March 2026 and falls back on 1 November.
            ({"start_date": "2026-03-08", "start_time": "02:30", "end_date": "2026-03-08"}, "does not exist"),
            ({"start_date": "2026-11-01", "start_time": "01:30", "end_date": "2026-11-01"}, "happens twice"),
            ({"start_date": ""}, "This field is required."),
        ],
    )
    def test_bad_input_is_shown_in_the_page_and_kept(self, physio_client, changes, message):
        data = {"start_date": "2031-07-01", "start_time": "09:00", "end_date": "2031-07-01", "end_time": "17:00",
                "reason": "Typed reason", **changes}  # fmt: skip
        response = physio_client.post(PAGE, data)
        assert response.status_code == 200
        page = response.content.decode()
        assert message in page
        assert 'value="Typed reason"' in page
        assert not TimeOff.objects.exists()

    def test_a_nul_character_in_the_reason_is_refused_not_a_500(self, physio_client):
        data = {"start_date": "2031-07-01", "start_time": "09:00", "end_date": "2031-07-01", "end_time": "17:00",
                "reason": "a\x00b"}  # fmt: skip
        assert physio_client.post(PAGE, data).status_code == 200
        assert not TimeOff.objects.exists()

    def test_a_practitioner_in_several_zones_names_the_location(
        self, client, other_practitioner_user, acupuncturist, calgary
    ):
        client.force_login(other_practitioner_user)
        assert "Times are in the local time of" in client.get(PAGE).content.decode()
        data = {"start_date": "2031-07-01", "start_time": "09:00", "end_date": "2031-07-01", "end_time": "17:00"}
        response = client.post(PAGE, data)
        assert response.status_code == 200 and "This field is required." in response.content.decode()
        assert not TimeOff.objects.exists()

        assert client.post(PAGE, {**data, "location": calgary.pk}).status_code == 302
        stored = TimeOff.objects.get()
        assert stored.location == calgary
        # 09:00 in Calgary (MDT, UTC-6) on 1 July 2031.
        assert stored.start == datetime(2031, 7, 1, 15, tzinfo=UTC)
        assert "America/Edmonton" in client.get(PAGE).content.decode()

    def test_a_location_they_do_not_work_at_is_refused(self, client, other_practitioner_user, acupuncturist):
        client.force_login(other_practitioner_user)
        elsewhere = LocationFactory(name="Elsewhere", timezone="Europe/Paris")
        data = {"start_date": "2031-07-01", "start_time": "09:00", "end_date": "2031-07-01", "end_time": "17:00",
                "location": elsewhere.pk}  # fmt: skip
        assert "Select a valid choice" in client.post(PAGE, data).content.decode()
        assert not TimeOff.objects.exists()

    def test_a_practitioner_at_no_location_is_told_to_ask_reception(self, client):
        user = UserFactory(username="newcomer")
        PractitionerFactory(user=user)
        client.force_login(user)
        assert client.get(PAGE).status_code == 200
        data = {"start_date": "2031-07-01", "start_time": "09:00", "end_date": "2031-07-01", "end_time": "17:00"}
        response = client.post(PAGE, data)
        assert response.status_code == 200 and "Please ask reception" in response.content.decode()
        assert not TimeOff.objects.exists()

    def test_query_count_does_not_grow_with_the_list(
        self, physio_client, physio, westerville, django_assert_num_queries
    ):
        now = timezone.now()
        add_time_off(
            practitioner=physio, start=now + timedelta(days=1), end=now + timedelta(days=2), reason="", by=None
        )
        with django_assert_num_queries(QUERIES_FOR_THE_PAGE):
            physio_client.get(PAGE)
        for offset in range(3, 30, 2):
            start = now + timedelta(days=offset)
            add_time_off(practitioner=physio, start=start, end=start + timedelta(days=1), reason="", by=None)
        with django_assert_num_queries(QUERIES_FOR_THE_PAGE):
            response = physio_client.get(PAGE)
        assert len(response.context["rows"]) == 15


# Session, user, practitioner (access check), their locations, the time off list (the staff
# footer lists no locations).
QUERIES_FOR_THE_PAGE = 5


@pytest.mark.django_db
class TestRemovePage:
    def test_removing_own_time_off(self, physio_client, physio, practitioner_user, ten_am):
        time_off = add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
        response = physio_client.post(remove_url(time_off))
        assert response.status_code == 302 and response["Location"] == PAGE
        assert not TimeOff.objects.exists()
        assert TimeOff.history.get(id=time_off.pk, history_type="-").history_user == practitioner_user
        assert "Time off removed" in physio_client.get(PAGE).content.decode()

    def test_another_practitioners_time_off_is_a_404(self, physio_client, acupuncturist, ten_am):
        theirs = add_time_off(
            practitioner=acupuncturist, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None
        )
        assert physio_client.post(remove_url(theirs)).status_code == 404
        assert TimeOff.objects.filter(pk=theirs.pk).exists()

    def test_a_location_closure_is_a_404(self, physio_client, westerville, ten_am):
        closure = TimeOff.objects.create(location=westerville, start=ten_am, end=ten_am + timedelta(hours=1))
        assert physio_client.post(remove_url(closure)).status_code == 404
        assert TimeOff.objects.filter(pk=closure.pk).exists()

    def test_a_get_removes_nothing(self, physio_client, physio, ten_am):
        time_off = add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
        assert physio_client.get(remove_url(time_off)).status_code == 405
        assert TimeOff.objects.exists()

    def test_a_second_click_is_told_it_is_gone(self, physio_client, physio, ten_am):
        time_off = add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
        physio_client.post(remove_url(time_off))
        assert physio_client.post(remove_url(time_off)).status_code == 404


@pytest.mark.django_db
def test_removing_time_off_frees_its_slots(physio_client, physio, westerville, dry_needling, open_all_week, booking_day,
                                           ten_am):  # fmt: skip
    def free_starts():
        slots = available_slots(
            service=dry_needling, location=westerville, practitioner=physio, first_day=booking_day, last_day=booking_day
        )
        return {slot.start for slot in slots}

    assert ten_am in free_starts()
    physio_client.post(PAGE, form_data(ten_am - timedelta(hours=1), ten_am + timedelta(hours=3), westerville.zone))
    assert ten_am not in free_starts()
    assert free_starts() == {start for start in free_starts() if start >= ten_am + timedelta(hours=3)}

    physio_client.post(remove_url(TimeOff.objects.get()))
    assert ten_am in free_starts()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "receptionist", "outsider"])
def test_only_practitioners_reach_the_pages(client, who, receptionist, outsider, physio, ten_am):
    time_off = add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
    if who != "anonymous":
        client.force_login({"receptionist": receptionist, "outsider": outsider}[who])
    page, removal = client.get(PAGE), client.post(remove_url(time_off))
    if who == "anonymous":
        assert page.status_code == removal.status_code == 302
        assert page["Location"].startswith(reverse("schedule:login"))
    elif who == "receptionist":
        assert page.status_code == removal.status_code == 302
        assert page["Location"] == reverse("admin:index")
    else:
        assert page.status_code == removal.status_code == 403
    assert TimeOff.objects.filter(pk=time_off.pk).exists()


# The race -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_booking_and_time_off_racing_for_the_same_slot_never_both_win(dry_needling, westerville, physio,
                                                                        open_all_week, ten_am):  # fmt: skip
    """Real connections, released together, several rounds: whichever takes the practitioner's
    row second sees the other's row, so exactly one of the two is stored each time."""
    for round_number in range(6):
        start = ten_am + timedelta(days=round_number)

        def attempt(index, start=start, round_number=round_number):
            if index == 0:
                return book(dry_needling, westerville, start, practitioner=physio, n=round_number)
            return add_time_off(practitioner=physio, start=start, end=start + timedelta(hours=1), reason="", by=None)

        booking, time_off = race(2, attempt)
        assert isinstance(booking, Appointment | BookingError) and isinstance(time_off, TimeOff | BookingError)
        assert isinstance(booking, Appointment) != isinstance(time_off, TimeOff)
        if isinstance(booking, BookingError):
            assert booking.code == "slot_unavailable"
        else:
            assert time_off.code == "overlaps_appointments" and time_off.appointments == [booking]
        stored_bookings = Appointment.objects.live().filter(practitioner=physio, start=start).count()
        stored_time_off = TimeOff.objects.filter(practitioner=physio, start=start).count()
        assert stored_bookings + stored_time_off == 1


@pytest.mark.django_db
def test_past_time_off_is_the_record_of_an_absence_and_cannot_be_removed(physio):
    last_month = timezone.now() - timedelta(days=30)
    past = TimeOff.objects.create(practitioner=physio, start=last_month, end=last_month + timedelta(hours=8))
    with pytest.raises(BookingError) as error:
        remove_time_off(time_off=past, practitioner=physio, by=None)
    assert error.value.code == "not_found"
    assert TimeOff.objects.filter(pk=past.pk).exists()

"""The booking admin as reception sees it: appointments with front-desk actions, and schedules."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment, TimeOff, WorkingHours
from clinic.models import Practitioner
from patients.models import ConsentText, Patient
from tests.factories import AppointmentFactory, LocationFactory, PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
CHANGELIST = reverse("admin:booking_appointment_changelist")


def appointment_at(start, **fields):
    return AppointmentFactory(start=start, end=start + 45 * timedelta(minutes=1), blocked_until=start + HOUR, **fields)


def run_action(client, action: str, appointments, **extra):
    return client.post(
        CHANGELIST, {"action": action, "index": 0, "_selected_action": [item.pk for item in appointments], **extra}
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def status_of(appointment) -> str:
    return Appointment.objects.get(pk=appointment.pk).status


@pytest.fixture
def staff_practitioner(practitioner_user):
    """A practitioner let into the admin: proves the permissions refuse them, not just the staff flag."""
    practitioner_user.is_staff = True
    practitioner_user.save()
    return practitioner_user


# Lists in bounded queries ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:booking_appointment_changelist",
        "admin:booking_workinghours_changelist",
        "admin:booking_timeoff_changelist",
        "admin:patients_patient_changelist",
    ],
)
def test_reception_lists_stay_in_bounded_queries(
    client, receptionist, physio, westerville, url_name, django_assert_max_num_queries
):
    patients = PatientFactory.create_batch(20)
    first = timezone.now() + timedelta(days=2)
    for index, patient in enumerate(patients * 5):  # 100 appointments, an hour apart
        AppointmentFactory(patient=patient, practitioner=physio, location=westerville, start=first + index * HOUR)
    client.force_login(receptionist)
    # 13: the appointment and time off lists also read the locations, for the date drill-down's zone.
    with django_assert_max_num_queries(13):
        response = client.get(reverse(url_name))
    assert response.status_code == 200


def five_hundred_appointments(location, first_day: date) -> None:
    """Fifty practitioners, each booked ten times over the next days; bulk-written."""
    staff = Practitioner.objects.bulk_create(
        Practitioner(name=f"Practitioner {index:02}", slug=f"bulk-{index}", title="Physiotherapist")
        for index in range(50)
    )
    patients = Patient.objects.bulk_create(
        Patient(
            first_name="Bulk",
            last_name=f"Patient{index}",
            email=f"bulk{index}@example.com",
            phone=f"+1614555{index:04}",
            date_of_birth=date(1980, 1, 1),
        )
        for index in range(50)
    )
    service = physio_service = Practitioner.objects.get(slug="maya-lindqvist").services.first()
    consent, now = ConsentText.objects.latest(), timezone.now()
    rows = []
    for index, practitioner in enumerate(staff):
        for slot in range(10):
            start = local_instant(first_day + timedelta(days=slot % 3), time(8 + slot), location.zone)
            rows.append(
                Appointment(
                    patient=patients[(index + slot) % 50],
                    practitioner=practitioner,
                    location=location,
                    service=service or physio_service,
                    start=start,
                    end=start + timedelta(minutes=45),
                    blocked_until=start + HOUR,
                    consent=consent,
                    consented_at=now,
                )
            )
    Appointment.objects.bulk_create(rows)


@pytest.mark.parametrize(
    "query",
    [{}, {"day": "today"}, {"day": "next_7_days", "status__exact": "confirmed"}, {"q": "614 555 0042"}],
)
def test_the_appointment_list_stays_in_bounded_queries_with_500_appointments(
    client, receptionist, physio, westerville, calgary, query, django_assert_max_num_queries
):
    today = timezone.localtime(timezone.now(), westerville.zone).date()
    five_hundred_appointments(westerville, today)
    assert Appointment.objects.count() == 500
    client.force_login(receptionist)
    with django_assert_max_num_queries(14):
        response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


# The change page is the record -------------------------------------------------------------


def test_an_appointment_shows_local_time_and_history_and_is_never_edited_or_deleted(
    client, receptionist, physio, westerville
):
    appointment = AppointmentFactory(practitioner=physio, location=westerville)
    change_url = reverse("admin:booking_appointment_change", args=[appointment.pk])
    client.force_login(receptionist)

    assert appointment.reference in client.get(CHANGELIST).content.decode()
    assert "America/New_York" in client.get(CHANGELIST).content.decode()
    change_page = client.get(change_url).content.decode()
    assert appointment.manage_token not in change_page
    assert 'name="_save"' not in change_page  # view-only: no Save button
    assert client.post(change_url, {"_save": "Save"}).status_code == 403
    assert client.get(reverse("admin:booking_appointment_history", args=[appointment.pk])).status_code == 200
    assert client.post(reverse("admin:booking_appointment_delete", args=[appointment.pk])).status_code == 403
    assert status_of(appointment) == "confirmed"


def test_the_record_shows_the_locations_local_times_with_the_zone_named(client, receptionist, acupuncturist, calgary):
    # 09:30 in Calgary on 24 November 2026 (MST) is 16:30 UTC.
    start = datetime(2026, 11, 24, 9, 30, tzinfo=calgary.zone)
    appointment = appointment_at(
        start,
        practitioner=acupuncturist,
        location=calgary,
        consented_at=datetime(2026, 11, 20, 18, 5, tzinfo=UTC),
        created_at=datetime(2026, 11, 20, 18, 4, tzinfo=UTC),
    )
    client.force_login(receptionist)

    page = client.get(reverse("admin:booking_appointment_change", args=[appointment.pk])).content.decode()

    title = f"{appointment.reference} Tue 24 Nov 2026 9:30 AM MST, Sofia Marchetti"
    assert str(appointment) == title
    assert f"<title>{title} | View appointment" in page  # the title, heading and breadcrumb
    assert "Tue 24 Nov 2026 9:30 AM MST (America/Edmonton)" in page  # start
    assert "Tue 24 Nov 2026 10:15 AM MST (America/Edmonton)" in page  # end
    assert "Tue 24 Nov 2026 10:30 AM MST (America/Edmonton)" in page  # practitioner busy until
    assert "Fri 20 Nov 2026 11:05 AM MST (America/Edmonton)" in page  # consent given
    assert "16:30" not in page and "4:30 p.m." not in page and " UTC" not in page
    assert '<div class="readonly">None</div>' not in page  # not cancelled: "-", as for any empty value


def test_appointment_titles_cost_no_query_per_row_in_the_admins_lists(
    rf, receptionist, physio, westerville, django_assert_num_queries
):
    for hours in range(3):
        appointment_at(timezone.now() + (hours + 2) * HOUR, practitioner=physio, location=westerville)
    request = rf.get(CHANGELIST)
    request.user = receptionist
    appointments = list(admin.site._registry[Appointment].get_queryset(request))

    with django_assert_num_queries(0):
        titles = [str(appointment) for appointment in appointments]
    assert all(title.endswith(", Maya Lindqvist") for title in titles)


def test_history_can_be_read_but_not_used_to_revert(client, receptionist, physio, westerville):
    appointment = AppointmentFactory(practitioner=physio, location=westerville)
    version = appointment.history.latest()
    appointment.status = Appointment.Status.CANCELLED
    appointment.save()
    url = reverse("admin:booking_appointment_simple_history", args=[appointment.pk, version.history_id])
    client.force_login(receptionist)

    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403
    assert status_of(appointment) == "cancelled"


def test_reception_sees_add_appointment_and_a_user_without_add_permission_gets_403(
    client, receptionist, staff_practitioner
):
    client.force_login(receptionist)
    assert reverse("admin:booking_appointment_add") in client.get(CHANGELIST).content.decode()

    client.force_login(staff_practitioner)
    assert client.get(reverse("admin:booking_appointment_add")).status_code == 403


def test_practitioners_cannot_open_patient_lists(client, practitioner_user):
    client.force_login(practitioner_user)
    response = client.get(reverse("admin:patients_patient_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("url", [CHANGELIST, reverse("admin:booking_timeoff_changelist")])
def test_practitioners_even_as_staff_cannot_open_appointment_or_schedule_lists(client, staff_practitioner, url):
    client.force_login(staff_practitioner)
    assert client.get(url).status_code == 403


# Front-desk actions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "starts_in", "status", "done"),
    [
        ("mark_arrived_action", 20 * timedelta(minutes=1), "arrived", "Marked arrived"),
        ("mark_completed_action", -HOUR, "completed", "Marked completed"),
        ("mark_no_show_action", -30 * timedelta(minutes=1), "no_show", "Marked no-show"),
    ],
)
def test_reception_marks_appointments_through_the_services(
    client, receptionist, physio, westerville, action, starts_in, status, done
):
    appointment = appointment_at(timezone.now() + starts_in, practitioner=physio, location=westerville)
    client.force_login(receptionist)

    response = run_action(client, action, [appointment])

    assert response.status_code == 302
    assert status_of(appointment) == status
    assert messages_of(response) == [f"{done}: {appointment.reference}."]
    assert appointment.history.latest().history_user == receptionist


def test_invalid_transitions_get_a_message_per_row_never_a_500(client, receptionist, physio, westerville):
    now = timezone.now()
    cancelled = appointment_at(now - HOUR, practitioner=physio, location=westerville, status="cancelled")
    tomorrow_week = appointment_at(now + timedelta(days=7), practitioner=physio, location=westerville)
    fine = appointment_at(now - 3 * HOUR, practitioner=physio, location=westerville)
    client.force_login(receptionist)

    arrived = run_action(client, "mark_arrived_action", [cancelled, fine])
    assert arrived.status_code == 302
    assert messages_of(arrived) == [
        f"{cancelled.reference}: cannot mark a cancelled appointment as arrived.",
        f"Marked arrived: {fine.reference}.",
    ]
    client.get(CHANGELIST)  # shows, and so clears, those messages
    no_show = run_action(client, "mark_no_show_action", [tomorrow_week])
    assert no_show.status_code == 302
    [refused] = messages_of(no_show)
    assert refused.startswith(f"{tomorrow_week.reference}: cannot mark as a no-show before the start time")
    assert (status_of(cancelled), status_of(fine), status_of(tomorrow_week)) == ("cancelled", "arrived", "confirmed")


@pytest.mark.parametrize(
    "action", ["mark_arrived_action", "mark_completed_action", "mark_no_show_action", "cancel_with_reason_action"]
)
def test_practitioners_even_as_staff_cannot_run_actions(client, staff_practitioner, physio, westerville, action):
    appointment = appointment_at(timezone.now() - HOUR, practitioner=physio, location=westerville)
    client.force_login(staff_practitioner)
    response = run_action(client, action, [appointment], confirm_cancellation="yes", reason="No")
    assert response.status_code == 403
    assert status_of(appointment) == "confirmed"


@pytest.mark.parametrize(
    "action", ["mark_arrived_action", "mark_completed_action", "mark_no_show_action", "cancel_with_reason_action"]
)
def test_anonymous_visitors_are_sent_to_the_login_and_nothing_changes(client, physio, westerville, action):
    appointment = appointment_at(timezone.now() - HOUR, practitioner=physio, location=westerville)
    response = run_action(client, action, [appointment], confirm_cancellation="yes", reason="No")
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert status_of(appointment) == "confirmed"


def test_cancelling_asks_for_a_reason_first_then_cancels_through_the_service(client, receptionist, physio, westerville):
    now = timezone.now()
    confirmed = appointment_at(now + 3 * HOUR, practitioner=physio, location=westerville)
    arrived = appointment_at(
        now - 10 * timedelta(minutes=1), practitioner=physio, location=westerville, status="arrived"
    )
    client.force_login(receptionist)

    confirmation = run_action(client, "cancel_with_reason_action", [confirmed, arrived])
    page = confirmation.content.decode()
    assert confirmation.status_code == 200
    assert confirmed.reference in page and arrived.reference in page and 'name="reason"' in page
    assert status_of(confirmed) == "confirmed"

    # The confirmation page posts back without "index", as the admin's own delete does.
    form = {"action": "cancel_with_reason_action", "_selected_action": [confirmed.pk, arrived.pk]}
    without_reason = client.post(CHANGELIST, {**form, "confirm_cancellation": "yes", "reason": "  "})
    assert without_reason.status_code == 200 and "This field is required." in without_reason.content.decode()
    assert status_of(confirmed) == "confirmed"

    done = client.post(CHANGELIST, {**form, "confirm_cancellation": "yes", "reason": "Practitioner ill"})

    assert done.status_code == 302
    assert messages_of(done) == [
        f"{arrived.reference}: this appointment is arrived.",
        f"Cancelled: {confirmed.reference}.",
    ]
    cancelled = Appointment.objects.get(pk=confirmed.pk)
    assert (cancelled.status, cancelled.cancellation_reason) == ("cancelled", "Practitioner ill")
    assert cancelled.history.latest().history_change_reason == "cancelled by staff"
    assert cancelled.history.latest().history_user == receptionist
    assert status_of(arrived) == "arrived"


# Finding appointments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["614 555 0142", "(614) 555-0142", "+1 614-555-0142", "614.555.0142", "+16145550142", "5550142"]
)
def test_phone_search_takes_what_a_receptionist_types(client, receptionist, physio, westerville, typed):
    caller = appointment_at(
        timezone.now() + HOUR, practitioner=physio, location=westerville, patient=PatientFactory(phone="+16145550142")
    )
    other = appointment_at(
        timezone.now() + 3 * HOUR,
        practitioner=physio,
        location=westerville,
        patient=PatientFactory(phone="+16145550199"),
    )
    client.force_login(receptionist)
    found = list(client.get(CHANGELIST, {"q": typed}).context["cl"].result_list)
    assert found == [caller]
    assert other not in found


def test_search_by_reference_name_and_email(client, receptionist, physio, westerville):
    appointment = appointment_at(
        timezone.now() + HOUR,
        practitioner=physio,
        location=westerville,
        patient=PatientFactory(first_name="Grace", last_name="Hopper", email="grace@example.com"),
    )
    appointment_at(timezone.now() + 3 * HOUR, practitioner=physio, location=westerville)
    client.force_login(receptionist)
    for typed in (appointment.reference, "grace hopper", "grace@example"):
        assert list(client.get(CHANGELIST, {"q": typed}).context["cl"].result_list) == [appointment]


def test_the_day_filter_uses_each_locations_own_calendar(
    client, receptionist, physio, acupuncturist, westerville, calgary
):
    # 23:30 in Westerville, 21:30 in Calgary: already tomorrow in UTC.
    now = datetime(2026, 6, 11, 3, 30, tzinfo=UTC)
    late_tonight = appointment_at(
        datetime(2026, 6, 10, 23, 45, tzinfo=westerville.zone), practitioner=physio, location=westerville
    )
    tonight_in_calgary = appointment_at(
        datetime(2026, 6, 10, 22, 0, tzinfo=calgary.zone), practitioner=acupuncturist, location=calgary
    )
    tomorrow_morning = appointment_at(
        datetime(2026, 6, 11, 9, 0, tzinfo=westerville.zone), practitioner=physio, location=westerville
    )
    yesterday = appointment_at(
        datetime(2026, 6, 9, 9, 0, tzinfo=westerville.zone), practitioner=physio, location=westerville
    )
    client.force_login(receptionist)

    def listed(day):
        with time_machine.travel(now, tick=False):
            return set(client.get(CHANGELIST, {"day": day}).context["cl"].result_list)

    assert listed("today") == {late_tonight, tonight_in_calgary}
    assert listed("tomorrow") == {tomorrow_morning}
    assert listed("past") == {yesterday}
    assert listed("next_7_days") == {late_tonight, tonight_in_calgary, tomorrow_morning}
    assert len(listed("nonsense")) == 4


# The date drill-down in local days ------------------------------------------------------------


def drill_down(client, url, day: date, **filters) -> set:
    query = {"start__year": day.year, "start__month": day.month, "start__day": day.day, **filters}
    return set(client.get(url, query).context["cl"].result_list)


def test_the_date_drill_down_groups_by_the_locations_local_days(client, receptionist, physio, westerville):
    # 19:30 in New York on 1 December is 00:30 UTC on 2 December.
    evening = appointment_at(
        datetime(2026, 12, 1, 19, 30, tzinfo=westerville.zone), practitioner=physio, location=westerville
    )
    client.force_login(receptionist)

    assert drill_down(client, CHANGELIST, date(2026, 12, 1)) == {evening}
    assert drill_down(client, CHANGELIST, date(2026, 12, 2)) == set()
    month = client.get(CHANGELIST, {"start__year": 2026, "start__month": 12}).content.decode()
    assert "?start__day=1&amp;" in month and "?start__day=2&amp;" not in month  # the day links offered
    assert "The dates above are days in" not in month  # one zone: nothing to explain


def test_with_locations_in_different_zones_the_drill_down_uses_the_filtered_one_or_says_which(
    client, receptionist, physio, acupuncturist, westerville, calgary
):
    # 00:30 on 2 December in New York is still 1 December (22:30) in Calgary.
    after_midnight = appointment_at(
        datetime(2026, 12, 2, 0, 30, tzinfo=westerville.zone), practitioner=physio, location=westerville
    )
    client.force_login(receptionist)

    in_westerville = {"location__id__exact": westerville.pk}
    assert drill_down(client, CHANGELIST, date(2026, 12, 2), **in_westerville) == {after_midnight}
    assert drill_down(client, CHANGELIST, date(2026, 12, 1), **in_westerville) == set()

    # Unfiltered, Calgary (first in the clinic's order) sets the days, and the page says so.
    assert drill_down(client, CHANGELIST, date(2026, 12, 1)) == {after_midnight}
    page = client.get(CHANGELIST).content.decode()
    assert "The dates above are days in America/Edmonton, the time zone of Calgary." in page
    assert "filter by location for another location&#x27;s days" in page


def test_the_time_off_drill_down_groups_by_local_days(client, receptionist, physio, westerville):
    evening = TimeOff.objects.create(
        location=westerville,
        start=datetime(2026, 12, 1, 19, 30, tzinfo=westerville.zone),
        end=datetime(2026, 12, 1, 21, 0, tzinfo=westerville.zone),
    )
    client.force_login(receptionist)
    url = reverse("admin:booking_timeoff_changelist")
    assert drill_down(client, url, date(2026, 12, 1)) == {evening}
    assert drill_down(client, url, date(2026, 12, 2)) == set()


def test_the_list_shows_the_new_patient_badge(client, receptionist, physio, westerville, dry_needling):
    patient = PatientFactory()
    first = appointment_at(
        timezone.now() + HOUR, patient=patient, practitioner=physio, location=westerville, service=dry_needling
    )
    appointment_at(timezone.now() + 49 * HOUR, patient=patient, practitioner=physio, location=westerville)
    client.force_login(receptionist)
    results = {item.pk: item.is_new_patient for item in client.get(CHANGELIST).context["cl"].result_list}
    assert results == {first.pk: True, first.pk + 1: False}
    assert client.get(CHANGELIST).content.decode().count('<strong class="new-patient">New patient</strong>') == 1


# Schedules: history, and time off in local time --------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


def time_off_form(**fields):
    data = {"practitioner": "", "location": "", "reason": ""}
    for name in ("start", "end"):
        value = fields.pop(name)
        data[f"{name}_0"], data[f"{name}_1"] = value.split(" ")
    return {**data, **fields}


def test_time_off_is_typed_in_the_locations_local_time_across_a_clock_change(client, receptionist, westerville):
    client.force_login(receptionist)
    # 01:00 EST to 05:00 EDT on the night the clocks go forward: three real hours.
    response = client.post(
        reverse("admin:booking_timeoff_add"),
        time_off_form(location=westerville.pk, start="2026-03-08 01:00", end="2026-03-08 05:00", reason="Boiler"),
    )

    assert response.status_code == 302
    time_off = TimeOff.objects.get()
    assert (time_off.start, time_off.end) == (
        datetime(2026, 3, 8, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 9, 0, tzinfo=UTC),
    )
    change_page = client.get(reverse("admin:booking_timeoff_change", args=[time_off.pk])).content.decode()
    assert 'value="2026-03-08"' in change_page and 'value="01:00"' in change_page and 'value="05:00"' in change_page
    assert "America/New_York" in change_page
    listing = client.get(reverse("admin:booking_timeoff_changelist")).content.decode()
    assert "Sun 08 Mar 2026 1:00 AM – Sun 08 Mar 2026 5:00 AM America/New_York" in listing


def test_editing_time_off_keeps_local_times_and_records_history(client, receptionist, physio, westerville):
    time_off = TimeOff.objects.create(
        practitioner=physio,
        start=datetime(2026, 7, 1, 9, tzinfo=NEW_YORK),
        end=datetime(2026, 7, 1, 12, tzinfo=NEW_YORK),
    )
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_timeoff_change", args=[time_off.pk]),
        time_off_form(practitioner=physio.pk, start="2026-07-01 09:00", end="2026-07-01 13:00", reason="Dentist"),
    )
    assert response.status_code == 302
    time_off.refresh_from_db()
    assert time_off.end == datetime(2026, 7, 1, 17, tzinfo=UTC)  # 13:00 EDT, the practitioner's only zone
    assert time_off.history.latest().history_user == receptionist
    assert client.get(reverse("admin:booking_timeoff_history", args=[time_off.pk])).status_code == 200


def test_a_practitioner_in_two_zones_needs_the_location_named(client, receptionist, acupuncturist, calgary):
    client.force_login(receptionist)
    url = reverse("admin:booking_timeoff_add")
    ambiguous = client.post(
        url, time_off_form(practitioner=acupuncturist.pk, start="2026-07-01 09:00", end="2026-07-01 17:00")
    )
    assert ambiguous.status_code == 200
    assert "works in more than one time zone" in ambiguous.content.decode()
    assert not TimeOff.objects.exists()

    named = client.post(
        url,
        time_off_form(
            practitioner=acupuncturist.pk, location=calgary.pk, start="2026-07-01 09:00", end="2026-07-01 17:00"
        ),
    )
    assert named.status_code == 302
    assert TimeOff.objects.get().start == datetime(2026, 7, 1, 15, tzinfo=UTC)  # 09:00 MDT


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        ("2026-03-08 02:30", "2026-03-08 04:00", "does not exist: the clocks go forward"),
        ("2026-11-01 01:30", "2026-11-01 04:00", "happens twice: the clocks go back"),
        ("2026-07-01 12:00", "2026-07-01 09:00", "The end must be after the start."),
    ],
)
def test_impossible_local_times_are_form_errors(client, receptionist, westerville, start, end, error):
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_timeoff_add"), time_off_form(location=westerville.pk, start=start, end=end)
    )
    assert response.status_code == 200 and error in response.content.decode()
    assert not TimeOff.objects.exists()


def test_time_off_needs_someone_or_somewhere(client, receptionist):
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_timeoff_add"), time_off_form(start="2026-07-01 09:00", end="2026-07-01 17:00")
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Choose a practitioner who is away" in page
    assert "This field cannot be null." not in page  # the times were typed; only the zone is missing
    assert 'value="09:00"' in page and 'value="17:00"' in page


def test_a_time_off_that_cannot_be_placed_in_a_zone_yet_says_only_that(client, receptionist, acupuncturist):
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_timeoff_add"),
        time_off_form(practitioner=acupuncturist.pk, start="2026-11-25 12:00", end="2026-11-25 14:00"),
    )
    page = response.content.decode()
    assert response.status_code == 200 and "works in more than one time zone" in page
    assert "This field cannot be null." not in page
    assert response.context["adminform"].form.errors.keys() == {"location"}


@pytest.mark.parametrize(
    ("zone", "start", "end", "wrong"),
    [
        ("America/New_York", "9999-12-31 22:00", "9999-12-31 23:59", "end"),  # past year 9999 in UTC
        ("Asia/Tokyo", "0001-01-01 00:00", "2026-07-01 09:00", "start"),  # before year 1 in UTC
        ("America/New_York", "1026-07-01 09:00", "2026-07-01 17:00", "start"),  # a slip of the finger
    ],
)
def test_a_year_out_of_range_is_a_form_error_not_a_500(client, receptionist, zone, start, end, wrong):
    location = LocationFactory(timezone=zone)
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_timeoff_add"), time_off_form(location=location.pk, start=start, end=end)
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors[wrong] == ["Check the year: enter a date from 2000 to 2200."]
    assert not TimeOff.objects.exists()


def test_each_of_the_time_off_date_and_time_inputs_has_a_name_of_its_own(client, receptionist):
    # One <label> for two inputs names neither: each input carries its own name.
    client.force_login(receptionist)
    page = client.get(reverse("admin:booking_timeoff_add")).content.decode()
    inputs = {match[1]: match[0] for match in re.finditer(r'<input [^>]*id="(\w+)"[^>]*>', page)}
    assert 'aria-label="Start date"' in inputs["id_start_0"] and 'aria-label="Start time"' in inputs["id_start_1"]
    assert 'aria-label="End date"' in inputs["id_end_0"] and 'aria-label="End time"' in inputs["id_end_1"]


def test_the_time_off_message_and_title_are_in_the_local_time_typed(client, receptionist, acupuncturist, calgary):
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_timeoff_add"),
        time_off_form(
            practitioner=acupuncturist.pk, location=calgary.pk, start="2026-11-25 12:00", end="2026-11-25 14:00"
        ),
    )
    time_off = TimeOff.objects.get()
    assert (time_off.start, time_off.end) == (
        datetime(2026, 11, 25, 19, tzinfo=UTC),
        datetime(2026, 11, 25, 21, tzinfo=UTC),
    )
    [added] = messages_of(response)
    assert ">Sofia Marchetti off Wed 25 Nov 2026 12:00 PM–2:00 PM MST</a>” was added" in added
    change_page = client.get(reverse("admin:booking_timeoff_change", args=[time_off.pk])).content.decode()
    assert "<title>Sofia Marchetti off Wed 25 Nov 2026 12:00 PM–2:00 PM MST | Change time off" in change_page


def test_time_off_titles_name_their_zone(physio, acupuncturist, westerville):
    over_days = TimeOff(
        location=westerville,
        start=datetime(2026, 3, 7, 18, tzinfo=NEW_YORK),
        end=datetime(2026, 3, 9, 8, tzinfo=NEW_YORK),
    )
    assert str(over_days) == "Westerville off Sat 07 Mar 2026 6:00 PM EST – Mon 09 Mar 2026 8:00 AM EDT"
    only_zone = TimeOff(
        practitioner=physio,
        start=datetime(2026, 7, 1, 9, tzinfo=NEW_YORK),
        end=datetime(2026, 7, 1, 12, tzinfo=NEW_YORK),
    )
    assert str(only_zone) == "Maya Lindqvist off Wed 01 Jul 2026 9:00 AM–12:00 PM EDT"
    two_zones = TimeOff(
        practitioner=acupuncturist,
        start=datetime(2026, 7, 1, 15, tzinfo=UTC),
        end=datetime(2026, 7, 1, 16, tzinfo=UTC),
    )
    assert str(two_zones) == "Sofia Marchetti off Wed 01 Jul 2026 3:00 PM–4:00 PM UTC"


def test_working_hours_changes_are_kept_with_their_author(client, receptionist, physio, westerville):
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_workinghours_add"),
        {
            "practitioner": physio.pk,
            "location": westerville.pk,
            "weekday": 0,
            "start_time": "09:00",
            "end_time": "17:00",
            "effective_from": "",
            "effective_to": "",
        },
    )
    assert response.status_code == 302
    hours = WorkingHours.objects.get()
    assert hours.history.latest().history_user == receptionist
    assert client.get(reverse("admin:booking_workinghours_history", args=[hours.pk])).status_code == 200


def test_schedules_list_practitioners_in_two_zones_in_utc_when_no_location_is_named(
    client, receptionist, acupuncturist
):
    TimeOff.objects.create(
        practitioner=acupuncturist, start=datetime(2026, 7, 1, 15, tzinfo=UTC), end=datetime(2026, 7, 1, 16, tzinfo=UTC)
    )
    PractitionerFactory()  # an unrelated practitioner does not change anything
    client.force_login(receptionist)
    listing = client.get(reverse("admin:booking_timeoff_changelist")).content.decode()
    assert "Wed 01 Jul 2026 3:00 PM – Wed 01 Jul 2026 4:00 PM UTC" in listing


def test_time_off_over_booked_patients_is_saved_and_reception_is_told_whom_to_move(
    client, receptionist, physio, westerville
):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    booked = AppointmentFactory(practitioner=physio, location=westerville, start=start)
    local = timezone.localtime(start, westerville.zone)
    client.force_login(receptionist)
    response = client.post(
        reverse("admin:booking_timeoff_add"),
        {
            "practitioner": physio.pk,
            "location": westerville.pk,
            "start_0": (local - timedelta(hours=1)).date().isoformat(),
            "start_1": (local - timedelta(hours=1)).strftime("%H:%M"),
            "end_0": (local + timedelta(hours=3)).date().isoformat(),
            "end_1": (local + timedelta(hours=3)).strftime("%H:%M"),
            "reason": "ill",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert TimeOff.objects.filter(practitioner=physio).count() == 1
    assert booked.reference in response.content.decode()

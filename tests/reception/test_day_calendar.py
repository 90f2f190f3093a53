"""The front desk's day calendar: one location's local day, a column per practitioner, the slot
grid in local time, every appointment a block sized to its length."""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment, TimeOff, WorkingHours
from clinic.models import Location, Practitioner
from patients.models import ConsentText, Patient, Screening
from reception.selectors import calendar_version, day_calendar
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("reception:calendar")
SPRING_FORWARD = date(2026, 3, 8)  # US clocks go from 02:00 to 03:00: a 23-hour day
FALL_BACK = date(2026, 11, 1)  # US clocks go from 02:00 back to 01:00: a 25-hour day
A_WEDNESDAY = date(2026, 6, 10)


def at(location, day, hour, minute=0, *, fold=0):
    if fold:
        # The second 01:30 of a fall-back night.
        return local_instant(day, time(hour, minute), location.zone) + timedelta(hours=1)
    return local_instant(day, time(hour, minute), location.zone)


def appointment_at(start, **fields):
    return AppointmentFactory(
        start=start, end=start + timedelta(minutes=45), blocked_until=start + timedelta(hours=1), **fields
    )


def calendar_page(client, location, day, **params) -> str:
    response = client.get(URL, {"location": location.slug, "date": day.isoformat(), **params})
    assert response.status_code == 200
    return response.content.decode()


def flag_badges(page: str) -> list[str]:
    """The visible words of the screening flags' badges on the blocks, in page order."""
    return [badge.split(">", 1)[1].split("</span>", 1)[0] for badge in page.split('class="cal-badge cal-flag"')[1:]]


def block_of(calendar, appointment):
    return next(block for column in calendar.columns for block in column.blocks if block.appointment == appointment)


@pytest.fixture
def works_wednesdays(physio, westerville):
    return WorkingHours.objects.create(
        practitioner=physio, location=westerville, weekday=A_WEDNESDAY.weekday(), start_time=time(9), end_time=time(17)
    )


# Who may see it ----------------------------------------------------------------------------


def test_reception_sees_the_day_with_everything_a_front_desk_needs(
    client, receptionist, physio, westerville, dry_needling, works_wednesdays
):
    flagged = appointment_at(
        at(westerville, A_WEDNESDAY, 9),
        practitioner=physio,
        location=westerville,
        service=dry_needling,
        patient=PatientFactory(first_name="Grace", last_name="Hopper"),
    )
    Screening.objects.create(appointment=flagged, pregnant=True, needle_fear=True)
    client.force_login(receptionist)

    page = calendar_page(client, westerville, A_WEDNESDAY)

    assert "Maya Lindqvist" in page and "9:00 AM–5:00 PM" in page
    assert "Grace Hopper" in page and "Initial assessment + dry needling" in page
    assert "9:00 AM–9:45 AM" in page and "New patient" in page
    # Flags are words anyone sees, with the whole answer as a tooltip, never colour alone.
    grid = page.split('id="calendar-grid"')[1]
    assert flag_badges(grid) == ["Pregnant", "Needle fear"]
    assert 'title="Strong fear of needles"' in grid
    assert "Blood thinners" not in grid
    assert reverse("reception:panel", args=[flagged.pk]) in page
    assert "?location=westerville&amp;date=2026-06-09" in page and "?location=westerville&amp;date=2026-06-11" in page
    assert reverse("admin:booking_appointment_add") in page and "Book for a caller" in page
    assert '<option value="westerville" selected>' in page
    assert "Times are Westerville local time (America/New_York)" in page


def test_the_calendar_is_one_click_from_the_admin_index_and_the_appointment_list(client, receptionist):
    client.force_login(receptionist)
    for page in (reverse("admin:index"), reverse("admin:booking_appointment_changelist")):
        assert f'href="{URL}"' in client.get(page).content.decode()


def test_the_day_sheets_old_address_leads_to_the_calendar(client, receptionist):
    client.force_login(receptionist)
    response = client.get(
        reverse("admin:booking_appointment_day_sheet"), {"location": "westerville", "date": "2026-06-10"}
    )
    assert response.status_code == 302 and response["Location"] == f"{URL}?location=westerville&date=2026-06-10"


def test_practitioners_are_refused_even_as_staff(client, practitioner_user, westerville):
    practitioner_user.is_staff = True
    practitioner_user.save()
    client.force_login(practitioner_user)
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_the_admin_login(client, westerville):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_screening_flags_need_the_permission_to_see_screening(client, physio, westerville, dry_needling):
    appointment = appointment_at(
        at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville, service=dry_needling
    )
    Screening.objects.create(appointment=appointment, blood_thinners=True)
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_login(viewer)

    page = calendar_page(client, westerville, A_WEDNESDAY)

    assert appointment.patient.last_name in page
    assert "Takes blood thinners" not in page and "Blood thinners" not in page and not flag_badges(page)
    assert "Book for a caller" not in page  # no add permission
    assert 'class="cal-cell free' not in page  # nothing to book from either
    assert 'draggable="true"' not in page  # nor to move


# What it shows -----------------------------------------------------------------------------


def test_screening_flags_are_visible_words_not_emoji_alone(
    client, receptionist, physio, westerville, dry_needling, works_wednesdays
):
    # Emoji draw as empty boxes on a computer without an emoji font: the words must be on the page.
    appointment = appointment_at(
        at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville, service=dry_needling
    )
    Screening.objects.create(
        appointment=appointment, pregnant=True, blood_thinners=True, bleeding_disorder=True, needle_fear=True
    )
    client.force_login(receptionist)

    page = calendar_page(client, westerville, A_WEDNESDAY)

    grid = page.split('id="calendar-grid"')[1]
    assert flag_badges(grid) == ["Pregnant", "Blood thinners", "Bleeding disorder", "Needle fear"]
    for emoji in ("🤰", "💊", "🩸", "😰"):
        assert emoji not in page
    legend = page.split('class="cal-legend"')[1].split("</p>", 1)[0]
    assert "<strong>Pregnant</strong>: pregnant or possibly pregnant" in legend
    assert "<strong>Needle fear</strong>: strong fear of needles" in legend


def test_blocks_are_sized_to_the_appointment_with_its_buffer_on_the_grid(
    physio, westerville, dry_needling, works_wednesdays
):
    # 10:00-10:45 and 15 minutes' buffer, on a grid that starts at 9:00 (the working hours).
    appointment = appointment_at(at(westerville, A_WEDNESDAY, 10), practitioner=physio, location=westerville)

    calendar = day_calendar(location=westerville, day=A_WEDNESDAY)
    block = block_of(calendar, appointment)

    assert calendar.grid.start == at(westerville, A_WEDNESDAY, 9) and calendar.grid.rows == 8 * 12
    assert (block.place.row, block.place.span) == (13, 9)  # the 13th 5-minute row, 45 minutes
    assert (block.buffer.row, block.buffer.span) == (22, 3)
    assert block.times == "10:00 AM–10:45 AM"
    assert [mark.label for mark in calendar.hour_marks][:2] == ["9 AM", "10 AM"]


def test_cells_are_the_slot_grid_inside_working_hours_and_free_where_nothing_is(
    physio, westerville, dry_needling, works_wednesdays
):
    TimeOff.objects.create(
        practitioner=physio, start=at(westerville, A_WEDNESDAY, 12), end=at(westerville, A_WEDNESDAY, 13)
    )
    appointment_at(at(westerville, A_WEDNESDAY, 10), practitioner=physio, location=westerville)

    with time_machine.travel(at(westerville, A_WEDNESDAY, 9, 20), tick=False):
        [column] = day_calendar(location=westerville, day=A_WEDNESDAY).columns

    local = {timezone.localtime(cell.start, westerville.zone).strftime("%H:%M"): cell for cell in column.cells}
    assert len(local) == 32 and min(local) == "09:00" and max(local) == "16:45"  # every quarter hour, 9 to 5
    assert not local["09:00"].free  # past (the grid time now falls in is 9:15)
    assert local["09:15"].free and local["09:45"].free  # a walk-in now; 9:45 ends as 10:00 begins
    assert not local["10:00"].free and not local["10:45"].free  # the appointment, then its buffer
    assert local["11:00"].free
    assert not local["12:00"].free and not local["12:45"].free and local["13:00"].free  # time off
    assert column.away[0].times == "12:00 PM–1:00 PM"


def test_a_free_cell_links_to_book_for_a_caller_with_everything_filled_in(
    client, receptionist, physio, westerville, dry_needling, works_wednesdays
):
    client.force_login(receptionist)
    with time_machine.travel(at(westerville, A_WEDNESDAY, 8), tick=False):
        page = calendar_page(client, westerville, A_WEDNESDAY)
    expected = (
        f"{reverse('admin:booking_appointment_add')}?location=westerville&amp;practitioner=maya-lindqvist"
        "&amp;day=2026-06-10&amp;at=2026-06-10T14%3A15Z"
    )
    assert f'href="{expected}"' in page  # 10:15 EDT
    assert 'aria-label="Book 10:15 AM with Maya Lindqvist"' in page


def test_the_now_line_is_drawn_on_today_only(physio, westerville, works_wednesdays):
    with time_machine.travel(at(westerville, A_WEDNESDAY, 11, 7), tick=False):
        today = day_calendar(location=westerville, day=A_WEDNESDAY)
        tomorrow = day_calendar(location=westerville, day=A_WEDNESDAY + timedelta(days=1))
    assert today.now.row == 2 * 12 + 2  # 11:05-11:10 is the 26th row from 9:00
    assert tomorrow.now is None


@override_settings(CLOCK_FORMAT="24")
def test_the_clock_format_setting_is_used_for_every_time_shown(
    client, receptionist, physio, westerville, dry_needling, works_wednesdays
):
    appointment_at(at(westerville, A_WEDNESDAY, 14), practitioner=physio, location=westerville)
    client.force_login(receptionist)
    page = calendar_page(client, westerville, A_WEDNESDAY)
    assert "09:00–17:00" in page and "14:00–14:45" in page and ">14:00<" in page
    assert " PM" not in page.split('id="calendar-grid"')[1]


def test_columns_are_the_practitioners_working_there_or_booked_there_that_day(
    physio, acupuncturist, westerville, calgary, dry_needling, works_wednesdays
):
    idle_here = PractitionerFactory(name="Idle Here", locations=[westerville])
    works_elsewhere = PractitionerFactory(name="Works In Calgary", locations=[calgary])
    WorkingHours.objects.create(
        practitioner=works_elsewhere,
        location=calgary,
        weekday=A_WEDNESDAY.weekday(),
        start_time=time(9),
        end_time=time(12),
    )
    WorkingHours.objects.create(  # another weekday
        practitioner=idle_here,
        location=westerville,
        weekday=(A_WEDNESDAY.weekday() + 1) % 7,
        start_time=time(9),
        end_time=time(12),
    )
    # Booked here without working hours that day (e.g. hours changed after booking).
    appointment_at(at(westerville, A_WEDNESDAY, 11), practitioner=acupuncturist, location=westerville)

    calendar = day_calendar(location=westerville, day=A_WEDNESDAY)

    assert [column.practitioner for column in calendar.columns] == [physio, acupuncturist]  # the clinic's order
    assert [hours.times for hours in calendar.columns[0].hours] == ["9:00 AM–5:00 PM"]
    assert calendar.columns[1].hours == [] and len(calendar.columns[1].blocks) == 1
    assert calendar.columns[1].cells == []  # no hours, nothing to book


def test_time_taken_elsewhere_is_busy_in_the_column(
    client, receptionist, acupuncturist, westerville, calgary, acupuncture, discovery_call
):
    # Sofia works in Westerville in the morning and has a Calgary patient at 2 PM Westerville time.
    WorkingHours.objects.create(
        practitioner=acupuncturist, location=westerville, weekday=A_WEDNESDAY.weekday(), start_time=time(9),
        end_time=time(17),
    )  # fmt: skip
    in_calgary = appointment_at(at(westerville, A_WEDNESDAY, 14), practitioner=acupuncturist, location=calgary)

    calendar = day_calendar(location=westerville, day=A_WEDNESDAY)
    block = block_of(calendar, in_calgary)
    cells = {timezone.localtime(cell.start, westerville.zone).hour: cell for cell in calendar.columns[0].cells}

    assert block.elsewhere == calgary and not block.movable
    assert not cells[14].free
    client.force_login(receptionist)
    page = calendar_page(client, westerville, A_WEDNESDAY)
    assert "Busy at Calgary" in page


def test_discovery_calls_are_in_their_practitioners_column_and_the_toggle_hides_their_details(
    client, receptionist, physio, westerville, discovery_call, works_wednesdays
):
    by_phone = Location.objects.create(
        name="By phone",
        slug="by-phone",
        address="",
        phone="+16145550142",
        timezone="America/New_York",
        is_by_phone=True,
    )
    call = appointment_at(
        at(westerville, A_WEDNESDAY, 8, 30),
        practitioner=physio,
        location=by_phone,
        service=discovery_call,
        patient=PatientFactory(first_name="Caller", last_name="Person"),
    )
    client.force_login(receptionist)

    shown = calendar_page(client, westerville, A_WEDNESDAY)
    hidden = calendar_page(client, westerville, A_WEDNESDAY, calls="hide")

    assert "Phone call: Caller Person" in shown
    assert "Busy: phone call" in hidden and "Caller Person" not in hidden.split('id="calendar-grid"')[1]
    assert block_of(day_calendar(location=westerville, day=A_WEDNESDAY), call).is_call
    # The calendar starts at the call's hour, before the working hours.
    assert day_calendar(location=westerville, day=A_WEDNESDAY).grid.start == at(westerville, A_WEDNESDAY, 8)


def test_cancelled_appointments_are_listed_apart_and_a_no_show_shares_its_time(
    client, receptionist, physio, westerville, works_wednesdays
):
    no_show = appointment_at(
        at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville, status="no_show"
    )
    cancelled = appointment_at(
        at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville, status="cancelled"
    )
    rebooked = appointment_at(at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville)
    client.force_login(receptionist)

    page = calendar_page(client, westerville, A_WEDNESDAY)
    calendar = day_calendar(location=westerville, day=A_WEDNESDAY)
    [column] = calendar.columns

    assert [block.appointment for block in column.blocks] == [no_show, rebooked]
    assert [(block.lane, block.lanes) for block in column.blocks] == [(0, 2), (1, 2)]  # side by side
    assert [block.appointment for block in column.cancelled] == [cancelled]
    assert '<span class="cal-state">No-show</span>' in page
    cancelled_part = page.split('id="cal-cancelled-heading"')[1]
    assert "<del>" in cancelled_part and cancelled.reference in cancelled_part


def test_blocks_that_overlap_through_one_another_share_the_width(physio, westerville, works_wednesdays):
    # A no-show 10:00-11:00, and its time booked again as two half hours: three lanes are not
    # needed, two are, and none of them may be drawn over another.
    no_show = appointment_at(at(westerville, A_WEDNESDAY, 10), practitioner=physio, location=westerville,
                             status="no_show")  # fmt: skip
    no_show.end = no_show.blocked_until = at(westerville, A_WEDNESDAY, 11)
    no_show.save()
    for minute in (0, 30):
        start = at(westerville, A_WEDNESDAY, 10, minute)
        AppointmentFactory(practitioner=physio, location=westerville, start=start, end=start + timedelta(minutes=30),
                           blocked_until=start + timedelta(minutes=30))  # fmt: skip

    [column] = day_calendar(location=westerville, day=A_WEDNESDAY).columns

    assert [(block.lane, block.lanes) for block in column.blocks] == [(0, 2), (1, 2), (1, 2)]


def test_the_record_links_to_the_appointments_own_local_day(client, receptionist, physio, westerville):
    # 20:30 in New York is 00:30 the next day in UTC.
    late = appointment_at(at(westerville, A_WEDNESDAY, 20, 30), practitioner=physio, location=westerville)
    client.force_login(receptionist)
    page = client.get(reverse("admin:booking_appointment_change", args=[late.pk])).content.decode()
    assert f'href="{URL}?location=westerville&amp;date=2026-06-10"' in page


def test_new_patient_means_no_earlier_live_treatment(physio, westerville, dry_needling, discovery_call):
    patient = PatientFactory()
    call = appointment_at(
        at(westerville, A_WEDNESDAY, 8), patient=patient, service=discovery_call, location=westerville
    )
    appointment_at(
        at(westerville, A_WEDNESDAY - timedelta(days=7), 9), patient=patient, service=dry_needling, status="cancelled"
    )
    first = appointment_at(
        at(westerville, A_WEDNESDAY, 9),
        patient=patient,
        practitioner=physio,
        service=dry_needling,
        location=westerville,
    )
    second = appointment_at(
        at(westerville, A_WEDNESDAY, 11),
        patient=patient,
        practitioner=physio,
        service=dry_needling,
        location=westerville,
    )

    calendar = day_calendar(location=westerville, day=A_WEDNESDAY)

    assert block_of(calendar, first).is_new_patient  # the discovery call and the cancelled visit do not count
    assert not block_of(calendar, second).is_new_patient
    assert not block_of(calendar, call).is_new_patient  # a phone call is no visit


def test_time_off_and_closures_show_in_local_time(client, receptionist, physio, westerville, works_wednesdays):
    TimeOff.objects.create(
        practitioner=physio,
        start=at(westerville, A_WEDNESDAY, 12),
        end=at(westerville, A_WEDNESDAY, 13),
        reason="Lunch",
    )
    TimeOff.objects.create(
        location=westerville,
        start=at(westerville, A_WEDNESDAY, 16),
        end=at(westerville, A_WEDNESDAY + timedelta(days=2), 0),
        reason="Staff training",
    )
    client.force_login(receptionist)

    page = calendar_page(client, westerville, A_WEDNESDAY)

    assert "Away 12:00 PM–1:00 PM: Lunch" in page
    assert "Westerville is closed from 4:00 PM: Staff training." in page
    assert "Closed from 4:00 PM: Staff training" in page  # drawn across the columns too
    next_day = calendar_page(client, westerville, A_WEDNESDAY + timedelta(days=1))
    assert "Westerville is closed all day: Staff training." in next_day


# Local days across clock changes -----------------------------------------------------------


def test_a_spring_forward_day_has_23_hours_from_local_midnight_to_local_midnight(physio, westerville):
    day = SPRING_FORWARD
    outside = [
        appointment_at(at(westerville, day - timedelta(days=1), 23), practitioner=physio, location=westerville),
        appointment_at(at(westerville, day + timedelta(days=1), 0, 15), practitioner=physio, location=westerville),
    ]
    inside = [
        appointment_at(at(westerville, day, 0, 15), practitioner=physio, location=westerville),  # 05:15Z
        appointment_at(at(westerville, day, 22, 30), practitioner=physio, location=westerville),  # 02:30Z the next day
    ]

    calendar = day_calendar(location=westerville, day=day)
    [column] = calendar.columns

    assert calendar.hours_in_day == 23 and calendar.clocks_change
    assert [block.appointment for block in column.blocks] == inside
    assert not {block.appointment.pk for block in column.blocks} & {item.pk for item in outside}
    assert [block.times for block in column.blocks] == ["12:15 AM EST–1:00 AM EST", "10:30 PM EDT–11:15 PM EDT"]
    # From midnight to midnight: 23 hours of rows, the hour from 2 to 3 AM missing.
    assert calendar.grid.rows == 23 * 12
    labels = [mark.label for mark in calendar.hour_marks]
    assert labels[1:4] == ["1 AM EST", "3 AM EDT", "4 AM EDT"]


def test_a_fall_back_day_has_25_hours_and_both_half_past_ones(client, receptionist, physio, westerville):
    day = FALL_BACK
    first_one_thirty = appointment_at(at(westerville, day, 1, 30), practitioner=physio, location=westerville)
    second_one_thirty = appointment_at(at(westerville, day, 1, 30, fold=1), practitioner=physio, location=westerville)
    late = appointment_at(at(westerville, day, 23, 0), practitioner=physio, location=westerville)
    appointment_at(at(westerville, day + timedelta(days=1), 0, 0), practitioner=physio, location=westerville)
    client.force_login(receptionist)

    calendar = day_calendar(location=westerville, day=day)
    page = calendar_page(client, westerville, day)

    assert calendar.hours_in_day == 25
    blocks = calendar.columns[0].blocks
    assert [block.appointment for block in blocks] == [first_one_thirty, second_one_thirty, late]
    # One hour of real time apart on the grid, though both read 1:30.
    assert blocks[1].place.row - blocks[0].place.row == 12
    assert "this day has 25 hours" in page
    # 45 minutes from the first 01:30 ends at the second 01:15: the zone says which is which.
    assert "1:30 AM EDT–1:15 AM EST" in page and "1:30 AM EST–2:15 AM EST" in page


def test_the_default_day_is_today_in_the_locations_zone_at_the_first_location(
    client, receptionist, calgary, westerville
):
    client.force_login(receptionist)
    response = client.get(URL)
    today_in_calgary = timezone.localtime(timezone.now(), calgary.zone).date()
    assert response.context["calendar"].location == calgary  # "Calgary" before "Westerville"
    assert response.context["calendar"].day == today_in_calgary


@pytest.mark.parametrize(
    "query",
    [
        {"date": "2026-02-30"},
        {"date": "0001-01-01"},
        {"date": "9999-12-31"},
        {"date": "yesterday"},
        {"location": "atlantis"},
        {"location": "99999"},
        {"date": "\x00"},
    ],
)
def test_nonsense_in_the_address_falls_back_with_a_message_not_a_500(client, receptionist, westerville, query):
    client.force_login(receptionist)
    response = client.get(URL, query)
    assert response.status_code == 200
    assert response.context["calendar"].location == westerville
    assert [message.level_tag for message in response.context["messages"]] == ["warning"]


def test_a_location_may_be_chosen_by_its_id(client, receptionist, westerville, calgary):
    client.force_login(receptionist)
    response = client.get(URL, {"location": str(westerville.pk), "date": "2026-06-10"})
    assert response.context["calendar"].location == westerville


def test_without_locations_the_page_says_so(client, receptionist):
    client.force_login(receptionist)
    response = client.get(URL)
    assert response.status_code == 200 and "There is no active location yet." in response.content.decode()


def test_the_grid_stylesheet_is_what_its_generator_writes():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "scripts/calendar_grid_css.py", "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# A constant number of queries --------------------------------------------------------------


def fill_the_day(location, day, *, practitioners: int, per_practitioner: int) -> int:
    """Many practitioners each booked back to back, with screening answers and mixed statuses,
    written in bulk; each hour's patients are all different (a patient is in one place at a time)."""
    service = ServiceFactory(duration_minutes=45)
    staff = Practitioner.objects.bulk_create(
        Practitioner(name=f"Practitioner {index:03}", slug=f"{location.slug}-{index}", title="Physiotherapist")
        for index in range(practitioners)
    )
    Practitioner.locations.through.objects.bulk_create(
        Practitioner.locations.through(practitioner=practitioner, location=location) for practitioner in staff
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practitioner=practitioner, location=location, weekday=day.weekday(), start_time=time(7), end_time=time(19)
        )
        for practitioner in staff
    )
    patients = Patient.objects.bulk_create(
        Patient(
            first_name="Bulk",
            last_name=f"Patient{index}",
            email=f"{location.slug}{index}@example.com",
            phone="+16145550100",
            date_of_birth=date(1980, 1, 1),
        )
        for index in range(practitioners)
    )
    consent, now = ConsentText.objects.latest(), timezone.now()
    statuses = ["confirmed", "arrived", "completed", "no_show", "cancelled"]
    appointments = []
    for index, practitioner in enumerate(staff):
        for hour in range(per_practitioner):
            start = local_instant(day, time(7 + hour), location.zone)
            appointments.append(
                Appointment(
                    patient=patients[(index + hour) % practitioners],
                    practitioner=practitioner,
                    location=location,
                    service=service,
                    start=start,
                    end=start + timedelta(minutes=45),
                    blocked_until=start + timedelta(minutes=60),
                    status=statuses[(index + hour) % len(statuses)],
                    consent=consent,
                    consented_at=now,
                )
            )
    Appointment.objects.bulk_create(appointments)
    Screening.objects.bulk_create(
        Screening(appointment=appointment, pregnant=index % 3 == 0, needle_fear=index % 2 == 0)
        for index, appointment in enumerate(appointments)
        if index % 2 == 0
    )
    return len(appointments)


def test_the_calendar_costs_the_same_queries_for_one_or_200_appointments(
    client, receptionist, westerville, calgary, django_assert_max_num_queries
):
    client.force_login(receptionist)
    fill_the_day(calgary, A_WEDNESDAY, practitioners=1, per_practitioner=1)
    with CaptureQueriesContext(connection) as one_appointment:
        calendar_page(client, calgary, A_WEDNESDAY)

    assert fill_the_day(westerville, A_WEDNESDAY, practitioners=20, per_practitioner=10) == 200
    with django_assert_max_num_queries(9) as two_hundred:
        page = calendar_page(client, westerville, A_WEDNESDAY)

    assert len(two_hundred) == len(one_appointment)
    assert page.count('class="cal-col"') == 20
    # Every appointment but the cancelled ones is a block; the cancelled are listed apart.
    assert page.count('class="cal-block status-') == 160
    assert page.count("<del>") == 40


def test_the_live_version_is_one_query_for_200_appointments(westerville, django_assert_num_queries):
    fill_the_day(westerville, A_WEDNESDAY, practitioners=20, per_practitioner=10)
    with django_assert_num_queries(1):
        calendar_version(location=westerville, day=A_WEDNESDAY, show_calls=True)

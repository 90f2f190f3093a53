"""The reception's day sheet: one location's local day, a column per practitioner."""

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment, TimeOff, WorkingHours
from booking.selectors import day_sheet
from clinic.models import Practitioner
from patients.models import ConsentText, Patient, Screening
from tests.factories import AppointmentFactory, PatientFactory, PractitionerFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("admin:booking_appointment_day_sheet")
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


def sheet_page(client, location, day) -> str:
    response = client.get(URL, {"location": location.slug, "date": day.isoformat()})
    assert response.status_code == 200
    return response.content.decode()


def flag_badges(page: str) -> list[str]:
    """The visible words of the screening flags' badges, in page order (the symbol is aria-hidden)."""
    badges = page.split('class="day-sheet-badge day-sheet-flag"')[1:]
    return [badge.split("</span>", 1)[1].split("</span>", 1)[0] for badge in badges]


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

    page = sheet_page(client, westerville, A_WEDNESDAY)

    assert "Maya Lindqvist" in page and "Works 09:00–17:00" in page
    assert "Grace Hopper" in page and "Initial assessment + dry needling" in page and "Confirmed" in page
    assert "New patient" in page
    # Flags are words anyone sees, with the whole answer as a tooltip, never colour alone.
    columns = page.split('class="day-sheet-columns"')[1]
    assert flag_badges(columns) == ["Pregnant", "Needle fear"]
    assert 'title="Strong fear of needles"' in columns
    assert "Blood thinners" not in columns
    assert reverse("admin:booking_appointment_change", args=[flagged.pk]) in page
    assert "?location=westerville&amp;date=2026-06-09" in page and "?location=westerville&amp;date=2026-06-11" in page
    assert reverse("admin:booking_appointment_add") in page and "Book for a caller" in page
    assert '<option value="westerville" selected>' in page
    assert "Times are local to Westerville (America/New_York)" in page


def test_the_day_sheet_is_reachable_from_the_appointment_list(client, receptionist):
    client.force_login(receptionist)
    page = client.get(reverse("admin:booking_appointment_changelist")).content.decode()
    assert f'href="{URL}"' in page


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

    page = sheet_page(client, westerville, A_WEDNESDAY)

    assert appointment.patient.last_name in page
    assert "Takes blood thinners" not in page and "Blood thinners" not in page and not flag_badges(page)
    assert "Book for a caller" not in page  # no add permission


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

    page = sheet_page(client, westerville, A_WEDNESDAY)

    columns = page.split('class="day-sheet-columns"')[1]
    assert flag_badges(columns) == ["Pregnant", "Blood thinners", "Bleeding disorder", "Needle fear"]
    assert columns.count('<span aria-hidden="true">⚠ </span>') == 4  # the symbol is decoration only
    for emoji in ("🤰", "💊", "🩸", "😰"):
        assert emoji not in page
    legend = page.split('class="day-sheet-legend"')[1].split("</p>", 1)[0]
    assert "<strong>Pregnant</strong>: pregnant or possibly pregnant" in legend
    assert "<strong>Needle fear</strong>: strong fear of needles" in legend


def test_the_day_links_are_a_list_without_bullets(client, receptionist, westerville):
    # Django's admin styles every "ul li" with square bullets: the items themselves need the rule.
    client.force_login(receptionist)
    page = sheet_page(client, westerville, A_WEDNESDAY)
    assert '<link rel="stylesheet" href="/static/clinic/admin.css">' in page
    stylesheet = finders.find("clinic/admin.css")
    assert ".day-sheet-nav li { list-style: none;" in Path(stylesheet).read_text()


def test_columns_are_the_practitioners_working_there_or_booked_there_that_day(
    client, receptionist, physio, acupuncturist, westerville, calgary, dry_needling, works_wednesdays
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

    sheet = day_sheet(location=westerville, day=A_WEDNESDAY)

    assert [column.practitioner for column in sheet.columns] == [physio, acupuncturist]  # the clinic's order
    assert [hours.times for hours in sheet.columns[0].working_hours] == ["09:00–17:00"]
    assert sheet.columns[1].working_hours == [] and len(sheet.columns[1].entries) == 1


def test_cancelled_appointments_are_listed_apart_and_struck_through_and_no_shows_marked(
    client, receptionist, physio, westerville, works_wednesdays
):
    appointment_at(at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville, status="no_show")
    cancelled = appointment_at(
        at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville, status="cancelled"
    )
    appointment_at(at(westerville, A_WEDNESDAY, 9), practitioner=physio, location=westerville)  # rebooked time
    client.force_login(receptionist)

    page = sheet_page(client, westerville, A_WEDNESDAY)
    sheet = day_sheet(location=westerville, day=A_WEDNESDAY)

    assert [entry.appointment.status for entry in sheet.columns[0].entries] == ["no_show", "confirmed"]
    assert [entry.appointment for entry in sheet.columns[0].cancelled] == [cancelled]
    assert '<strong class="day-sheet-badge no-show">No-show</strong>' in page
    cancelled_part = page.split("<h3>Cancelled</h3>")[1]
    assert "<del>" in cancelled_part and cancelled.reference in cancelled_part and "Cancelled" in cancelled_part


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

    entries = {
        entry.appointment.pk: entry
        for column in day_sheet(location=westerville, day=A_WEDNESDAY).columns
        for entry in column.entries
    }

    assert entries[first.pk].is_new_patient  # the discovery call and the cancelled visit do not count
    assert not entries[second.pk].is_new_patient
    assert not entries[call.pk].is_new_patient  # a phone call is no visit


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

    page = sheet_page(client, westerville, A_WEDNESDAY)

    assert "Away 12:00–13:00: Lunch" in page
    assert "Westerville is closed\n      from 16:00: Staff training." in page
    next_day = sheet_page(client, westerville, A_WEDNESDAY + timedelta(days=1))
    assert "Westerville is closed\n      all day: Staff training." in next_day


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

    sheet = day_sheet(location=westerville, day=day)

    assert sheet.hours_in_day == 23 and sheet.clocks_change
    assert [entry.appointment for entry in sheet.columns[0].entries] == inside
    assert not {entry.appointment.pk for entry in sheet.columns[0].entries} & {item.pk for item in outside}
    assert [entry.local_start.strftime("%H:%M %Z") for entry in sheet.columns[0].entries] == ["00:15 EST", "22:30 EDT"]


def test_a_fall_back_day_has_25_hours_and_both_half_past_ones(client, receptionist, physio, westerville):
    day = FALL_BACK
    first_one_thirty = appointment_at(at(westerville, day, 1, 30), practitioner=physio, location=westerville)
    second_one_thirty = appointment_at(at(westerville, day, 1, 30, fold=1), practitioner=physio, location=westerville)
    late = appointment_at(at(westerville, day, 23, 0), practitioner=physio, location=westerville)
    appointment_at(at(westerville, day + timedelta(days=1), 0, 0), practitioner=physio, location=westerville)
    client.force_login(receptionist)

    sheet = day_sheet(location=westerville, day=day)
    page = sheet_page(client, westerville, day)

    assert sheet.hours_in_day == 25
    assert [entry.appointment for entry in sheet.columns[0].entries] == [first_one_thirty, second_one_thirty, late]
    assert "this day has 25 hours" in page
    # 45 minutes from the first 01:30 ends at the second 01:15: the zone says which is which.
    assert "01:30 EDT–01:15 EST" in page and "01:30 EST–02:15 EST" in page


def test_the_default_day_is_today_in_the_locations_zone_at_the_first_location(
    client, receptionist, calgary, westerville
):
    client.force_login(receptionist)
    response = client.get(URL)
    today_in_calgary = timezone.localtime(timezone.now(), calgary.zone).date()
    assert response.context["sheet"].location == calgary  # "Calgary" before "Westerville"
    assert response.context["sheet"].day == today_in_calgary


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
    assert response.context["sheet"].location == westerville
    assert [message.level_tag for message in response.context["messages"]] == ["warning"]


def test_a_location_may_be_chosen_by_its_id(client, receptionist, westerville, calgary):
    client.force_login(receptionist)
    response = client.get(URL, {"location": str(westerville.pk), "date": "2026-06-10"})
    assert response.context["sheet"].location == westerville


def test_without_locations_the_page_says_so(client, receptionist):
    client.force_login(receptionist)
    response = client.get(URL)
    assert response.status_code == 200 and "There is no active location yet." in response.content.decode()


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


def test_the_day_sheet_costs_the_same_queries_for_one_or_500_appointments(
    client, receptionist, westerville, calgary, django_assert_max_num_queries
):
    client.force_login(receptionist)
    fill_the_day(calgary, A_WEDNESDAY, practitioners=1, per_practitioner=1)
    with CaptureQueriesContext(connection) as one_appointment:
        sheet_page(client, calgary, A_WEDNESDAY)

    assert fill_the_day(westerville, A_WEDNESDAY, practitioners=50, per_practitioner=10) == 500
    with django_assert_max_num_queries(10) as five_hundred:
        page = sheet_page(client, westerville, A_WEDNESDAY)

    assert len(five_hundred) == len(one_appointment)
    assert page.count('class="day-sheet-column"') == 50
    assert page.count("/change/") == 500

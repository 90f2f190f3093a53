"""A practitioner's week on the front desk's grid: for reception (any practitioner) and for the
practitioner themselves (their own only), Monday to Sunday on the same rows of local time."""

from datetime import date, time, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.availability import local_instant
from booking.models import TimeOff, WorkingHours
from reception.selectors import practitioner_week
from tests.factories import AppointmentFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
WEEK = reverse("reception:week")
A_WEDNESDAY = date(2027, 6, 9)  # ahead: its free times can be booked
MONDAY = A_WEDNESDAY - timedelta(days=2)


def appointment_on(day, hour, *, location, minute=0, minutes=45, **fields):
    start = local_instant(day, time(hour, minute), location.zone)
    return AppointmentFactory(
        start=start, end=start + timedelta(minutes=minutes), blocked_until=start + timedelta(minutes=minutes),
        location=location, **fields,
    )  # fmt: skip


@pytest.fixture
def desk(client, receptionist):
    client.force_login(receptionist)
    return client


@pytest.fixture
def sofias_week(acupuncturist, westerville, calgary, acupuncture):
    """Sofia works mornings in Westerville (Mon, Wed) and afternoons in Calgary (Tue, Thu)."""
    for weekday in (0, 2):
        WorkingHours.objects.create(
            practitioner=acupuncturist, location=westerville, weekday=weekday, start_time=time(9), end_time=time(12)
        )
    for weekday in (1, 3):
        WorkingHours.objects.create(
            practitioner=acupuncturist, location=calgary, weekday=weekday, start_time=time(13), end_time=time(17)
        )
    return {
        "westerville": appointment_on(
            A_WEDNESDAY, 10, location=westerville, practitioner=acupuncturist, service=acupuncture,
            patient=PatientFactory(first_name="Wes", last_name="Terville"),
        ),
        "calgary": appointment_on(
            A_WEDNESDAY + timedelta(days=1), 14, location=calgary, practitioner=acupuncturist, service=acupuncture,
            patient=PatientFactory(first_name="Cal", last_name="Gary"),
        ),
    }  # fmt: skip


def test_reception_sees_a_practitioners_week_across_their_locations(desk, acupuncturist, westerville, sofias_week):
    page = desk.get(WEEK, {"practitioner": acupuncturist.slug, "date": A_WEDNESDAY.isoformat()}).content.decode()

    assert "Sofia Marchetti: week of Mon 7 Jun – Sun 13 Jun 2027" in page
    assert "Wes Terville" in page and "Cal Gary" in page
    assert "Acupuncture follow-up · Westerville" in page and "Acupuncture follow-up · Calgary" in page
    # Each day's heading opens that day's calendar where they work that day.
    assert f'href="{reverse("reception:calendar")}?location=westerville&amp;date=2027-06-09"' in page
    assert f'href="{reverse("reception:calendar")}?location=calgary&amp;date=2027-06-10"' in page
    assert "?practitioner=sofia-marchetti&amp;date=2027-05-31" in page and "date=2027-06-14" in page
    # A free time books at the location of that working range.
    assert "?location=calgary&amp;practitioner=sofia-marchetti&amp;day=2027-06-08&amp;at=" in page
    assert "?location=westerville&amp;practitioner=sofia-marchetti&amp;day=2027-06-07&amp;at=" in page


def test_the_week_is_drawn_in_the_first_locations_zone(acupuncturist, calgary, sofias_week):
    week = practitioner_week(practitioner=acupuncturist, day=A_WEDNESDAY)

    # Calgary comes first in the clinic's order: the rows are Calgary's clock.
    assert week.zone == calgary.zone and week.columns[0].day == MONDAY
    wednesday = week.columns[2]
    [block] = wednesday.blocks
    # Westerville's 9:00 opening is 7:00 in Calgary, the week's first hour; its 10:00 patient is
    # at 8:00 on the rows, and says its own local time.
    assert block.appointment == sofias_week["westerville"] and block.location_named
    assert block.place.row == 13 and block.times == "10:00 AM EDT–10:45 AM EDT"
    assert [column.hours_text for column in week.columns[:4]] == [
        "7:00 AM–10:00 AM",
        "1:00 PM–5:00 PM",
        "7:00 AM–10:00 AM",
        "1:00 PM–5:00 PM",
    ]


def test_time_off_and_closures_show_on_their_days(acupuncturist, westerville, calgary, sofias_week):
    TimeOff.objects.create(
        practitioner=acupuncturist,
        start=local_instant(MONDAY, time(10), westerville.zone),
        end=local_instant(MONDAY, time(11), westerville.zone),
        reason="Dentist",
    )
    TimeOff.objects.create(
        location=calgary,
        start=local_instant(A_WEDNESDAY + timedelta(days=1), time(0), calgary.zone),
        end=local_instant(A_WEDNESDAY + timedelta(days=2), time(0), calgary.zone),
        reason="Flood",
    )
    week = practitioner_week(practitioner=acupuncturist, day=A_WEDNESDAY)

    assert [(away.label, away.times, away.reason) for away in week.columns[0].away] == [
        ("Away", "8:00 AM–9:00 AM", "Dentist")  # Calgary's clock
    ]
    assert [(away.label, away.reason) for away in week.columns[3].away] == [("Closed", "Calgary, Flood")]
    assert not any(cell.free for cell in week.columns[3].cells)  # Calgary is closed all Thursday


def test_the_week_costs_the_same_queries_for_one_or_200_appointments(desk, physio, westerville, open_all_week):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert desk.get(WEEK, {"practitioner": physio.slug, "date": A_WEDNESDAY.isoformat()}).status_code == 200
        return len(captured)

    appointment_on(MONDAY, 8, location=westerville, practitioner=physio)
    with_one = queries()
    for number in range(1, 200):
        day, slot = MONDAY + timedelta(days=number % 7), number // 7
        appointment_on(
            day, 9 + slot // 4, minute=15 * (slot % 4), minutes=15, location=westerville, practitioner=physio,
            patient=PatientFactory(), status="cancelled" if number % 5 == 0 else "confirmed",
        )  # fmt: skip
    assert queries() == with_one


def test_only_staff_with_the_permission_see_it(client, practitioner_user, physio, westerville):
    assert client.get(WEEK)["Location"].startswith(reverse("admin:login"))
    practitioner_user.is_staff = True
    practitioner_user.save()
    client.force_login(practitioner_user)
    assert client.get(WEEK).status_code == 403


def test_without_the_add_permission_nothing_books(client, physio, westerville, open_all_week):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_login(viewer)
    page = client.get(WEEK, {"practitioner": physio.slug}).content.decode()
    assert "Maya Lindqvist: week of" in page and 'class="cal-cell free' not in page


@pytest.mark.parametrize("query", [{"practitioner": "nobody"}, {"date": "soon"}, {"date": "\x00"}])
def test_nonsense_in_the_address_falls_back_not_500(desk, physio, westerville, query):
    response = desk.get(WEEK, query)
    assert response.status_code == 200 and response.context["calendar"].practitioner == physio


def test_the_day_calendar_links_each_practitioner_to_their_week(desk, physio, westerville, open_all_week):
    page = desk.get(reverse("reception:calendar"), {"location": "westerville", "date": "2026-06-10"}).content.decode()
    assert f'href="{WEEK}?practitioner=maya-lindqvist&amp;date=2026-06-10"' in page


# The practitioner's own week (/schedule/week/) --------------------------------------------------


def test_a_practitioner_sees_only_their_own_week_under_the_staff_header(
    client, practitioner_user, physio, acupuncturist, westerville, sofias_week, open_all_week
):
    mine = appointment_on(A_WEDNESDAY, 15, location=westerville, practitioner=physio,
                          patient=PatientFactory(first_name="Mine", last_name="Only"))  # fmt: skip
    client.force_login(practitioner_user)

    page = client.get(reverse("schedule:week"), {"date": A_WEDNESDAY.isoformat()}).content.decode()

    assert "Mine Only" in page and "Wes Terville" not in page and "Cal Gary" not in page
    assert f'href="{reverse("schedule:appointment", args=[mine.pk])}"' in page
    assert reverse("reception:panel", args=[mine.pk]) not in page  # the front desk's pages are not theirs
    assert 'class="cal-cell free' not in page and 'draggable="true"' not in page
    assert "Book now" not in page and "emergency department" not in page

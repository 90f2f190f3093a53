"""The practitioner's own pages: login and logout, day and week, one appointment and its status.

Now is 10:30 on A_WEDNESDAY in Westerville (tests/schedule/conftest.py). Maya works in
Westerville only (one zone); Sofia in Westerville and Calgary (two zones).
"""

import logging
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Appointment, TimeOff
from patients.models import Screening
from tests.factories import PatientFactory
from tests.schedule.conftest import A_WEDNESDAY, NEW_YORK, appointment_at, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wednesday_morning")]

DAY = reverse("schedule:day")
WEEK = reverse("schedule:week")
LOGIN = reverse("schedule:login")


def detail_url(appointment) -> str:
    return reverse("schedule:appointment", args=[appointment.pk])


def status_url(appointment) -> str:
    return reverse("schedule:change_status", args=[appointment.pk])


def page_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def entries(page: str) -> list[str]:
    """Each appointment on a day or week page, as its visible text with the spaces squeezed."""
    items = page.split('<li class="list-group-item schedule-entry">')[1:]
    return [" ".join(re.sub(r"<[^>]+>", " ", item.split("</li>", 1)[0]).split()) for item in items]


def text_of(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def maya_at(westerville, dry_needling, physio, hour, minute=0, *, day=A_WEDNESDAY, **fields):
    return appointment_at(
        at(westerville, day, hour, minute), practitioner=physio, location=westerville, service=dry_needling, **fields
    )


# Login and logout -------------------------------------------------------------------------


def test_the_login_page_is_ours_in_the_sites_look(client):
    page = page_of(client.get(LOGIN))
    assert "<h1" in page and "Your schedule" in page
    assert 'href="/static/vendor/bootstrap/bootstrap.min.css"' in page
    assert 'name="username"' in page and 'autocomplete="current-password"' in page


def test_a_practitioner_logs_in_to_their_day(client, physio):
    response = client.post(LOGIN, {"username": "maya", "password": "demo-password"})

    assert response.status_code == 302
    assert response["Location"] == DAY
    assert "Maya Lindqvist" in page_of(client.get(DAY))


def test_a_login_sent_from_a_page_returns_to_it(client, physio):
    response = client.post(LOGIN, {"username": "maya", "password": "demo-password", "next": WEEK})
    assert response["Location"] == WEEK


def test_the_login_page_stays_available_when_logged_in_so_another_account_can_log_in(maya_client):
    # A shared tablet: the next practitioner logs in over the previous one's session.
    response = maya_client.get(LOGIN)
    assert response.status_code == 200
    assert 'name="password"' in page_of(response)


def test_a_failed_login_says_so_plainly(client, physio):
    page = page_of(client.post(LOGIN, {"username": "maya", "password": "wrong"}))

    assert 'role="alert"' in page
    assert "Please enter a correct username and password" in page
    assert "_auth_user_id" not in client.session


def test_a_username_longer_than_any_account_is_refused_by_the_form_not_a_500(client, physio):
    # It used to be checked and then logged as a failed login, overflowing the log's column.
    client.raise_request_exception = False
    response = client.post(LOGIN, {"username": "m" * 300, "password": "demo-password"})

    assert response.status_code == 200
    assert "at most 150 characters (it has 300)" in page_of(response)
    assert f'value="{"m" * 300}"' in page_of(response)


def test_logout_is_a_post_and_ends_at_the_login(maya_client):
    assert maya_client.get(reverse("schedule:logout")).status_code == 405

    response = maya_client.post(reverse("schedule:logout"))

    assert response["Location"] == LOGIN
    assert "You are logged out." in page_of(maya_client.get(LOGIN))
    assert maya_client.get(DAY)["Location"].startswith(LOGIN)


def test_schedule_pages_are_not_cached(maya_client):
    assert "no-store" in maya_client.get(DAY)["Cache-Control"]


# The day -----------------------------------------------------------------------------------


def test_the_day_shows_each_appointment_with_what_to_prepare_for(
    maya_client, physio, acupuncturist, westerville, dry_needling, acupuncture
):
    grace = PatientFactory(first_name="Grace", last_name="Hopper")
    appointment_at(
        at(westerville, A_WEDNESDAY - timedelta(days=14), 9),
        practitioner=acupuncturist,
        location=westerville,
        service=acupuncture,
        patient=grace,
        status="completed",
    )
    returning = maya_at(westerville, dry_needling, physio, 9, patient=grace)
    Screening.objects.create(appointment=returning, blood_thinners=True, needle_fear=True)
    first_timer = maya_at(westerville, dry_needling, physio, 11, patient=PatientFactory(first_name="Alan"))
    Screening.objects.create(appointment=first_timer, pregnant=True, bleeding_disorder=True)

    page = page_of(maya_client.get(DAY))

    assert "Wednesday 12 June 2030" in page
    assert entries(page) == [
        # Grace's first visit was with Sofia: visits count with the clinic, not with Maya.
        "9:00 AM–9:45 AM Grace Hopper Blood thinners Needle fear "
        "Initial assessment + dry needling · Westerville · Confirmed · visit 2",
        f"11:00 AM–11:45 AM Alan {first_timer.patient.last_name} New patient Pregnant Bleeding disorder "
        "Initial assessment + dry needling · Westerville · Confirmed · visit 1",
    ]
    # Flags are words with the whole answer as a tooltip, never a colour or a symbol alone.
    assert 'title="Takes blood thinners">Blood thinners</span>' in page
    assert f'href="{detail_url(returning)}"' in page


def test_cancelled_appointments_are_listed_apart_and_no_shows_marked(maya_client, physio, westerville, dry_needling):
    maya_at(westerville, dry_needling, physio, 8, status="no_show", patient=PatientFactory(first_name="Nora"))
    maya_at(westerville, dry_needling, physio, 9, status="cancelled", patient=PatientFactory(first_name="Carl"))
    maya_at(westerville, dry_needling, physio, 9, 30, patient=PatientFactory(first_name="Rosa"))

    page = page_of(maya_client.get(DAY))

    live, cancelled = page.split("schedule-cancelled")
    assert "Nora" in live and 'text-bg-danger">No-show</span>' in live
    assert "Rosa" in live and "Carl" not in live
    assert "Cancelled</h2>" in live and "Carl" in cancelled
    # No visit is counted for a no-show, nor a new-patient badge shown for a cancelled booking.
    [nora, rosa] = entries(live)
    assert "visit" not in nora
    assert "New patient" not in entries(cancelled)[0]
    assert rosa.endswith("Confirmed · visit 1")


def test_the_day_shows_only_the_practitioners_own_appointments(
    maya_client, physio, acupuncturist, westerville, dry_needling, acupuncture
):
    maya_at(westerville, dry_needling, physio, 9, patient=PatientFactory(first_name="Mine"))
    appointment_at(
        at(westerville, A_WEDNESDAY, 9),
        practitioner=acupuncturist,
        location=westerville,
        service=acupuncture,
        patient=PatientFactory(first_name="Theirs"),
    )

    page = page_of(maya_client.get(DAY))

    assert "Mine" in page and "Theirs" not in page


def test_an_appointment_belongs_to_its_locations_local_day(maya_client, physio, westerville, dry_needling):
    # 23:30 in Westerville is already Thursday in UTC.
    late = maya_at(westerville, dry_needling, physio, 23, 0, patient=PatientFactory(first_name="Late"))
    assert late.start.date() == A_WEDNESDAY + timedelta(days=1)

    assert "Late" in page_of(maya_client.get(DAY, {"date": "2030-06-12"}))
    assert "Late" not in page_of(maya_client.get(DAY, {"date": "2030-06-13"}))


def test_today_is_the_practitioners_main_zones_today(maya_client, physio, westerville):
    # 22:30 on Wednesday in Westerville is Thursday 02:30 in UTC.
    with time_machine.travel(datetime(2030, 6, 12, 22, 30, tzinfo=NEW_YORK), tick=False):
        maya_client.force_login(physio.user)  # a login from years before has ended (STAFF_SESSION_MAX_HOURS)
        page = page_of(maya_client.get(DAY))
    assert "Wednesday 12 June 2030" in page and ">Today</span>" in page


def test_someone_working_in_two_zones_sees_each_time_with_its_zone(
    sofia_client, acupuncturist, westerville, calgary, acupuncture
):
    for location, hour in ((westerville, 9), (calgary, 14)):
        appointment_at(
            at(location, A_WEDNESDAY, hour), practitioner=acupuncturist, location=location, service=acupuncture
        )

    page = page_of(sofia_client.get(DAY))

    times = [" ".join(entry.split(" ")[:5]) for entry in entries(page)]
    assert times == ["9:00 AM EDT–9:45 AM EDT", "2:00 PM MDT–2:45 PM MDT"]
    assert "with its time zone" in page


def test_someone_working_in_one_zone_sees_bare_times(maya_client, physio, westerville, dry_needling):
    maya_at(westerville, dry_needling, physio, 9)
    assert entries(page_of(maya_client.get(DAY)))[0].startswith("9:00 AM–9:45 AM Ada")


def test_time_off_and_closures_of_the_day_are_shown(maya_client, physio, acupuncturist, westerville, calgary):
    TimeOff.objects.create(
        practitioner=physio,
        start=at(westerville, A_WEDNESDAY, 12),
        end=at(westerville, A_WEDNESDAY, 13, 30),
        reason="Dentist",
    )
    TimeOff.objects.create(
        location=westerville,
        start=at(westerville, A_WEDNESDAY, 16),
        end=at(westerville, A_WEDNESDAY + timedelta(days=1), 9),
    )
    TimeOff.objects.create(
        practitioner=acupuncturist,
        start=at(westerville, A_WEDNESDAY, 9),
        end=at(westerville, A_WEDNESDAY, 10),
        reason="Not Maya's",
    )
    TimeOff.objects.create(
        location=calgary, start=at(calgary, A_WEDNESDAY, 9), end=at(calgary, A_WEDNESDAY, 10), reason="Not her clinic"
    )

    page = page_of(maya_client.get(DAY))

    assert "Time off 12:00 PM–1:30 PM · Dentist" in text_of(page)
    assert "Westerville closed from 4:00 PM" in text_of(page)
    assert "Not Maya's" not in page and "Not her clinic" not in page


def test_the_day_navigates_by_date_without_javascript(maya_client, physio):
    page = page_of(maya_client.get(DAY, {"date": "2030-06-20"}))

    assert "Thursday 20 June 2030" in page and ">Today</span>" not in page
    assert f'href="{DAY}?date=2030-06-19"' in page and f'href="{DAY}?date=2030-06-21"' in page
    assert f'<a class="page-link" href="{DAY}">Today</a>' in page
    assert f'<form method="get" action="{DAY}"' in page and 'type="date"' in page and 'value="2030-06-20"' in page
    for link in ("schedule:week", "schedule:time_off", "schedule:feed_settings"):
        assert f'href="{reverse(link)}"' in page


@pytest.mark.parametrize("unreadable", ["yesterday", "2030-13-01", "0001-01-01", "9999-12-31", ""])
def test_an_unreadable_date_shows_today(maya_client, physio, unreadable):
    assert "Wednesday 12 June 2030" in page_of(maya_client.get(DAY, {"date": unreadable}))
    assert "Week of Mon 10 Jun" in page_of(maya_client.get(WEEK, {"date": unreadable}))


# The week ----------------------------------------------------------------------------------


def test_the_week_runs_monday_to_sunday_of_the_chosen_date(
    maya_client, physio, westerville, dry_needling, open_all_week
):
    sunday, next_monday = A_WEDNESDAY + timedelta(days=4), A_WEDNESDAY + timedelta(days=5)
    maya_at(westerville, dry_needling, physio, 9, day=sunday, patient=PatientFactory(first_name="Sunday"))
    maya_at(westerville, dry_needling, physio, 9, day=next_monday, patient=PatientFactory(first_name="NextWeek"))
    TimeOff.objects.create(
        practitioner=physio,
        start=at(westerville, A_WEDNESDAY, 13),
        end=at(westerville, A_WEDNESDAY + timedelta(days=2), 12),
        reason="Course",
    )

    page = page_of(maya_client.get(WEEK, {"date": "2030-06-14"}))

    # The front desk's grid: a column a day, each heading linking to that day.
    headings = re.findall(rf'<a href="{DAY}\?date=([\d-]+)">', page)
    assert headings == [f"2030-06-{day}" for day in range(10, 17)]
    assert "Sunday" in page and "NextWeek" not in page
    # Time off over three days: from its start, all day, until its end, drawn in each day's column.
    assert re.findall(r'<div class="cal-away [^"]*"><span>(.*?)</span>', page) == [
        "Away from 1:00 PM: Course",
        "Away all day: Course",
        "Away until 12:00 PM: Course",
    ]
    # Under the staff header: not the public site's menu, "Book now" and emergency footer.
    assert "Book now" not in page and "emergency department" not in page
    assert f'href="{WEEK}?date=2030-06-03"' in page and f'href="{WEEK}?date=2030-06-17"' in page
    assert f'<a class="page-link" href="{WEEK}" aria-current="page">This week</a>' in page


def week_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        page_of(client.get(WEEK))
    return len(queries)


def test_the_week_reads_in_a_constant_number_of_queries(
    maya_client, physio, westerville, dry_needling, django_assert_max_num_queries
):
    monday = at(westerville, A_WEDNESDAY - timedelta(days=2), 0)
    maya_at(westerville, dry_needling, physio, 0, day=A_WEDNESDAY - timedelta(days=2))
    with_one = week_queries(maya_client)

    patients = [PatientFactory() for _ in range(20)]
    for number in range(2, 201):  # every half hour after the first, which is blocked for an hour
        start = monday + timedelta(minutes=30 * number)
        flagged = appointment_at(
            start,
            minutes=15,
            practitioner=physio,
            location=westerville,
            service=dry_needling,
            patient=patients[number % 20],
            status=["confirmed", "completed", "no_show", "cancelled"][number % 4],
        )
        if number % 3 == 0:
            Screening.objects.create(appointment=flagged, needle_fear=True)
    TimeOff.objects.create(practitioner=physio, start=monday + timedelta(days=5), end=monday + timedelta(days=6))
    assert Appointment.objects.filter(practitioner=physio).count() == 200

    with django_assert_max_num_queries(with_one):
        page = page_of(maya_client.get(WEEK))
    # 150 blocks (no-shows too), the 50 cancelled listed apart; each opens the appointment.
    assert page.count('class="cal-block status-') == 150 and page.count("<del>") == 50
    assert page.count('href="/schedule/appointments/') == 200
    assert with_one <= 7  # session, user, practitioner, locations, appointments, time off, footer


def test_the_day_reads_in_a_constant_number_of_queries(
    maya_client, physio, westerville, dry_needling, django_assert_max_num_queries
):
    for hour in range(6, 20):
        maya_at(westerville, dry_needling, physio, hour)
    with django_assert_max_num_queries(7):
        assert len(entries(page_of(maya_client.get(DAY)))) == 14


# One appointment --------------------------------------------------------------------------


@pytest.fixture
def graces_visit(physio, acupuncturist, westerville, calgary, dry_needling, acupuncture):
    """Grace's appointment with Maya this morning, after two earlier ones (one with Sofia in Calgary)."""
    grace = PatientFactory(first_name="Grace", last_name="Hopper", phone="+16145550142")
    appointment_at(
        at(calgary, A_WEDNESDAY - timedelta(days=30), 15),
        practitioner=acupuncturist,
        location=calgary,
        service=acupuncture,
        patient=grace,
        status="completed",
    )
    appointment_at(
        at(westerville, A_WEDNESDAY - timedelta(days=7), 9),
        practitioner=physio,
        location=westerville,
        service=dry_needling,
        patient=grace,
        status="no_show",
    )
    visit = appointment_at(
        at(westerville, A_WEDNESDAY, 10),
        practitioner=physio,
        location=westerville,
        service=dry_needling,
        patient=grace,
        consented_at=at(westerville, A_WEDNESDAY - timedelta(days=3), 20, 15),
    )
    appointment_at(
        at(westerville, A_WEDNESDAY + timedelta(days=7), 9),
        practitioner=physio,
        location=westerville,
        service=dry_needling,
        patient=grace,
    )
    Screening.objects.create(
        appointment=visit,
        blood_thinners=True,
        needled_before=True,
        previous_needling_notes="Sore for two days, then much better",
        other_conditions="Type 1 diabetes\nAsthma",
    )
    return visit


def test_the_appointment_shows_the_patient_screening_consent_and_history(maya_client, graces_visit):
    page = page_of(maya_client.get(detail_url(graces_visit)))

    text = text_of(page)
    assert "Grace Hopper" in text
    assert "Wednesday 12 June 2030, 10:00 AM–10:45 AM EDT" in text
    assert "Initial assessment + dry needling" in text and "Westerville" in text and "Confirmed" in text
    assert "17 May 1980 (age 50)" in text
    assert '<a href="tel:+16145550142">(614) 555-0142</a>' in page
    # Every screening answer, flags as badges too.
    assert 'title="Takes blood thinners">Blood thinners</span>' in page
    for question, answer in [
        ("Pregnant or possibly pregnant", "No"),
        ("Takes blood thinners / anticoagulants", "Yes"),
        ("Bleeding disorder", "No"),
        ("Strong fear of needles", "No"),
        ("Had needling before", "Yes"),
        ("How previous needling went", "Sore for two days, then much better"),
        ("Other medical conditions", "Type 1 diabetes Asthma"),
    ]:
        assert f"{question} {answer}" in text
    assert "Version 1, given Sunday 9 June 2030, 8:15 PM EDT" in text
    # Earlier appointments with the clinic, newest first, each in its own location's time; not later ones.
    history = text_of(page.split('id="visits-heading">', 1)[1].split("</section>", 1)[0])
    assert history == (
        "Previous visits with the clinic "
        "Wed 5 Jun 2030, 9:00 AM EDT Initial assessment + dry needling · Maya Lindqvist · No-show "
        "Mon 13 May 2030, 3:00 PM MDT Acupuncture follow-up · Sofia Marchetti · Completed"
    )


def test_a_first_appointment_without_screening_says_so(maya_client, physio, westerville, dry_needling):
    visit = maya_at(westerville, dry_needling, physio, 9)
    page = page_of(maya_client.get(detail_url(visit)))
    assert "No screening answers were recorded with this booking." in page
    assert "this is the patient's first appointment with the clinic" in page


def test_a_call_booked_online_shows_the_callers_words_and_clock_and_asks_no_more(
    maya_client, physio, westerville, discovery_call
):
    call = maya_at(
        westerville,
        discovery_call,
        physio,
        11,
        minutes=15,
        consent=None,
        concern="Sciatica since March",
        caller_timezone="America/Vancouver",
        patient=PatientFactory(date_of_birth=None),
    )
    text = text_of(page_of(maya_client.get(detail_url(call))))
    assert "Sciatica since March" in text and "Not asked for a discovery call" in text
    assert "8:00 AM for the caller (Vancouver time)" in text
    assert "A discovery call asks no health questions" in text and "Agreed to be contacted" in text


def test_the_appointment_reads_in_a_constant_number_of_queries(
    maya_client, graces_visit, django_assert_max_num_queries
):
    for weeks in range(2, 12):
        appointment_at(
            graces_visit.start - timedelta(weeks=weeks),
            practitioner=graces_visit.practitioner,
            location=graces_visit.location,
            service=graces_visit.service,
            patient=graces_visit.patient,
            status="completed",
        )
    with django_assert_max_num_queries(6):  # session, user, practitioner, appointment, earlier visits, footer
        page_of(maya_client.get(detail_url(graces_visit)))


def buttons(page: str) -> list[str]:
    return re.findall(r'<button type="submit" class="btn [^"]+">(Mark [^<]+)</button>', page)


@pytest.mark.parametrize(
    ("hour", "status", "offered"),
    [
        (10, "confirmed", ["Mark arrived", "Mark completed", "Mark no-show"]),  # started at 10:00
        (11, "confirmed", ["Mark arrived"]),  # later today: arrived only
        (10, "arrived", ["Mark completed"]),
        (10, "no_show", ["Mark arrived", "Mark completed"]),  # correcting a mistaken no-show
        (10, "completed", []),
        (10, "cancelled", []),
    ],
)
def test_only_the_status_changes_valid_now_are_offered(
    maya_client, physio, westerville, dry_needling, hour, status, offered
):
    visit = maya_at(westerville, dry_needling, physio, hour, status=status)
    assert buttons(page_of(maya_client.get(detail_url(visit)))) == offered


def test_a_tomorrows_appointment_offers_no_status_change(maya_client, physio, westerville, dry_needling):
    visit = maya_at(westerville, dry_needling, physio, 9, day=A_WEDNESDAY + timedelta(days=1))
    assert buttons(page_of(maya_client.get(detail_url(visit)))) == []


# Status changes -----------------------------------------------------------------------------


def test_marking_completed_goes_through_the_service_as_the_practitioner(
    maya_client, practitioner_user, physio, westerville, dry_needling
):
    visit = maya_at(westerville, dry_needling, physio, 10)

    response = maya_client.post(status_url(visit), {"status": "completed"})

    assert response.status_code == 302 and response["Location"] == detail_url(visit)
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.COMPLETED
    record = visit.history.latest()
    assert record.history_user == practitioner_user and record.history_change_reason == "marked completed"
    page = page_of(maya_client.get(detail_url(visit)))
    assert "Marked completed." in page and buttons(page) == []


def test_a_refused_change_shows_the_services_reason(maya_client, physio, westerville, dry_needling):
    later = maya_at(westerville, dry_needling, physio, 15)

    response = maya_client.post(status_url(later), {"status": "completed"}, follow=True)

    assert response.status_code == 200
    assert "Cannot mark as completed before the start time (Wed 12 Jun 3:00 PM)." in response.content.decode()
    later.refresh_from_db()
    assert later.status == Appointment.Status.CONFIRMED


def test_correcting_a_no_show_whose_time_was_rebooked_is_refused_with_the_reason(
    maya_client, physio, westerville, dry_needling
):
    no_show = maya_at(westerville, dry_needling, physio, 9, status="no_show")
    maya_at(westerville, dry_needling, physio, 9, 15)

    response = maya_client.post(status_url(no_show), {"status": "arrived"}, follow=True)

    assert "the practitioner&#x27;s time has been booked for someone else since" in response.content.decode()
    no_show.refresh_from_db()
    assert no_show.status == Appointment.Status.NO_SHOW


@pytest.mark.parametrize("posted", [{"status": "cancelled"}, {"status": "confirmed"}, {}])
def test_an_unknown_status_changes_nothing(maya_client, physio, westerville, dry_needling, posted):
    visit = maya_at(westerville, dry_needling, physio, 10)

    response = maya_client.post(status_url(visit), posted, follow=True)

    assert "Choose arrived, completed or no-show." in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CONFIRMED


def test_opening_the_status_address_leads_to_the_appointment(maya_client, physio, westerville, dry_needling):
    visit = maya_at(westerville, dry_needling, physio, 10)
    assert maya_client.get(status_url(visit))["Location"] == detail_url(visit)


def test_status_changes_need_the_csrf_token(practitioner_user, physio, westerville, dry_needling):
    visit = maya_at(westerville, dry_needling, physio, 10)
    client = Client(enforce_csrf_checks=True)
    client.force_login(practitioner_user)

    assert client.post(status_url(visit), {"status": "completed"}).status_code == 403
    visit.refresh_from_db()
    assert visit.status == Appointment.Status.CONFIRMED


# Privacy -------------------------------------------------------------------------------------


def test_screening_answers_stay_out_of_urls_and_logs(maya_client, graces_visit, caplog):
    secrets = ["diabetes", "asthma", "sore", "thinner", "pregnan", "bleeding", "fear"]
    later = maya_at(graces_visit.location, graces_visit.service, graces_visit.practitioner, 15)
    with caplog.at_level(logging.DEBUG):
        pages = [
            page_of(maya_client.get(DAY)),
            page_of(maya_client.get(WEEK)),
            page_of(maya_client.get(detail_url(graces_visit))),
            page_of(maya_client.post(status_url(later), {"status": "completed"}, follow=True)),
            maya_client.get(detail_url(graces_visit) + "999/").content.decode(),
        ]
    addresses = [address for page in pages for address in re.findall(r'(?:href|action)="([^"]*)"', page)]
    assert addresses
    for address in addresses:
        assert not any(secret in address.lower() for secret in secrets), address
    logged = " ".join(record.getMessage() for record in caplog.records).lower()
    assert not any(secret in logged for secret in secrets)

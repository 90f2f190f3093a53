"""Who may open which schedule page: the whole matrix, one row per (page, visitor).

Anonymous visitors (patients have no accounts) are sent to the schedule's login; the own
practitioner gets the page; another practitioner gets a 404 for this appointment (not a 403:
its existence is not confirmed) and their own day and week; reception and admins without a
practitioner record are sent to the admin; any other account gets a 403.
"""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment
from tests.factories import UserFactory
from tests.schedule.conftest import appointment_at

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"
LOGIN = "/schedule/login/"

# page name → (HTTP method, form data). Each is requested for Maya's appointment where it names one.
PAGES = {
    "day": ("get", None),
    "week": ("get", None),
    "appointment": ("get", None),
    "change_status": ("post", {"status": "completed"}),
    # Built in schedule/time_off.py and schedule/feed.py; here for who may open them.
    "time_off": ("get", None),
    "feed_settings": ("get", None),
}

# visitor → page → (status code, redirect target; None: no redirect, "login": the login with ?next=)
EXPECTED = {
    "anonymous": dict.fromkeys(PAGES, (302, "login")),
    "own practitioner": {
        "day": (200, None),
        "week": (200, None),
        "appointment": (200, None),
        "change_status": (302, "appointment"),
        "time_off": (200, None),
        "feed_settings": (200, None),
    },
    "other practitioner": {
        "day": (200, None),
        "week": (200, None),
        "appointment": (404, None),
        "change_status": (404, None),
        "time_off": (200, None),  # their own
        "feed_settings": (200, None),
    },
    "reception": dict.fromkeys(PAGES, (302, ADMIN)),
    "superuser without practitioner": dict.fromkeys(PAGES, (302, ADMIN)),
    "account without practitioner or staff": dict.fromkeys(PAGES, (403, None)),
}

VISITOR_FIXTURES = {
    "anonymous": None,
    "own practitioner": "practitioner_user",
    "other practitioner": "other_practitioner_user",
    "reception": "receptionist",
    "superuser without practitioner": "superuser",
    "account without practitioner or staff": "outsider",
}

MATRIX = [(visitor, page, *EXPECTED[visitor][page]) for visitor in EXPECTED for page in PAGES]


@pytest.fixture
def mayas_appointment(physio, acupuncturist, westerville, dry_needling):
    """Started an hour ago, so marking it completed is allowed for Maya."""
    return appointment_at(
        timezone.now() - timedelta(hours=1), practitioner=physio, location=westerville, service=dry_needling
    )


def url_of(page: str, appointment: Appointment) -> str:
    if page in {"appointment", "change_status"}:
        return reverse(f"schedule:{page}", args=[appointment.pk])
    return reverse(f"schedule:{page}")


@pytest.mark.parametrize(("visitor", "page", "status_code", "target"), MATRIX, ids=[f"{v}-{p}" for v, p, *_ in MATRIX])
def test_access(client, request, mayas_appointment, visitor, page, status_code, target):
    if VISITOR_FIXTURES[visitor]:
        client.force_login(request.getfixturevalue(VISITOR_FIXTURES[visitor]))
    method, data = PAGES[page]
    url = url_of(page, mayas_appointment)

    response = getattr(client, method)(url, data)

    assert response.status_code == status_code
    if target == "login":
        assert response["Location"] == f"{LOGIN}?next={quote(url)}"
    elif target == "appointment":
        assert response["Location"] == reverse("schedule:appointment", args=[mayas_appointment.pk])
    elif target is not None:
        assert response["Location"] == target
    mayas_appointment.refresh_from_db()
    changed = visitor == "own practitioner" and page == "change_status"
    assert mayas_appointment.status == ("completed" if changed else "confirmed")


def test_another_practitioners_404_looks_like_a_missing_appointment(client, other_practitioner_user, mayas_appointment):
    client.force_login(other_practitioner_user)
    missing = reverse("schedule:appointment", args=[mayas_appointment.pk + 1000])
    theirs = reverse("schedule:appointment", args=[mayas_appointment.pk])

    assert client.get(theirs).content == client.get(missing).content


def test_another_practitioners_appointment_is_not_on_their_day_or_week(
    client, other_practitioner_user, mayas_appointment
):
    client.force_login(other_practitioner_user)
    day = mayas_appointment.local_start.date().isoformat()
    for page in ("day", "week"):
        content = client.get(reverse(f"schedule:{page}"), {"date": day}).content.decode()
        assert str(mayas_appointment.patient) not in content
        assert reverse("schedule:appointment", args=[mayas_appointment.pk]) not in content


def test_a_refusal_is_a_page_in_the_site_look_not_a_bare_403(client):
    client.force_login(UserFactory(username="someone"))
    response = client.get(reverse("schedule:day"))
    assert response.status_code == 403
    assert "This page is not available to you" in response.content.decode()


def test_a_practitioner_marked_inactive_keeps_no_access(client, physio, practitioner_user):
    physio.is_active = False
    physio.save()
    client.force_login(practitioner_user)
    assert client.get(reverse("schedule:day")).status_code == 403


def test_someone_logged_in_as_another_account_can_still_reach_the_schedule_login(client, receptionist):
    client.force_login(receptionist)
    response = client.get(reverse("schedule:login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content

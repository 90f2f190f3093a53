"""The per-client limit on patients' own bookings and changes (booking/throttling.py).

Every public POST that books, cancels, moves or leaves counts in one group, from the pages
and the JSON API alike. Past the limit the answer is 429 with the clinic's number, nothing
changes, and what the patient typed or chose is still in the page; another address is not
affected. test_every_public_post_is_limited finds the URLs that take an anonymous POST, so a
new one without a limit fails here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from booking import throttling
from booking.models import Appointment, TreatmentSeries
from clinic.throttling import REFUSED
from tests.api.test_booking import API, booking_payload, local_iso, post_json
from tests.booking.test_series import book_weekly, week
from tests.booking.test_wizard import DETAILS, choice
from tests.factories import AppointmentFactory
from tests.test_access_matrix import ROWS, _url, data  # noqa: F401 (data is the matrix's fixture)
from tests.waitlist.helpers import join
from tests.waitlist.test_pages import _booking_answers, offer  # noqa: F401 (offer is the pages' fixture)
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.50"
ELSEWHERE = "198.51.100.60"
LIMIT = 2


@pytest.fixture(autouse=True)
def small_limit(monkeypatch):
    monkeypatch.setattr(throttling, "RATE", f"{LIMIT}/h")


def use_up_the_limit(address: str = ADDRESS) -> None:
    """What LIMIT earlier bookings or changes from this address did to the count."""
    request = RequestFactory().post("/", REMOTE_ADDR=address)
    for _ in range(LIMIT):
        assert not throttling.over_the_limit(request)


@dataclass
class Change:
    """One public POST: `send(address)` makes it; `done()` says whether it took effect;
    `kept` is text the refused page must still show (what was typed or chosen)."""

    send: Callable[[str], object]
    done: Callable[[], bool]
    kept: str = ""


def wizard_booking(client, request) -> Change:
    dry_needling, westerville, ten_am = (request.getfixturevalue(n) for n in ("dry_needling", "westerville", "ten_am"))
    request.getfixturevalue("open_all_week")
    form = choice(dry_needling, westerville)
    data_ = {**form, "start": ten_am.isoformat(), **DETAILS, "last_name": "Typed-Surname"}
    return Change(
        send=lambda address: client.post(reverse("booking:details"), data_, REMOTE_ADDR=address),
        done=Appointment.objects.filter(patient__last_name="Typed-Surname").exists,
        kept='value="Typed-Surname"',
    )


def api_booking(client, request) -> Change:
    dry_needling, westerville, ten_am = (request.getfixturevalue(n) for n in ("dry_needling", "westerville", "ten_am"))
    request.getfixturevalue("open_all_week")
    payload = booking_payload(dry_needling, westerville, ten_am)
    return Change(
        send=lambda address: post_json(client, f"{API}/appointments", payload, REMOTE_ADDR=address),
        done=Appointment.objects.exists,
    )


def api_cancel(client, request) -> Change:
    visit = request.getfixturevalue("first_visit")
    url = f"{API}/appointments/{visit.manage_token}/cancel"
    return Change(
        send=lambda address: post_json(client, url, {"reason": "Better"}, REMOTE_ADDR=address),
        done=lambda: Appointment.objects.get(pk=visit.pk).status == Appointment.Status.CANCELLED,
    )


def api_reschedule(client, request) -> Change:
    visit = request.getfixturevalue("first_visit")
    new_start = visit.start + timedelta(hours=2)
    moved = {"start": local_iso(new_start, visit.location)}
    url = f"{API}/appointments/{visit.manage_token}/reschedule"
    return Change(
        send=lambda address: post_json(client, url, moved, REMOTE_ADDR=address),
        done=lambda: Appointment.objects.get(pk=visit.pk).start == new_start,
    )


def page_cancel(client, request) -> Change:
    visit = request.getfixturevalue("first_visit")
    url = reverse("booking:cancel", args=[visit.manage_token])
    return Change(
        send=lambda address: client.post(url, {"reason": "Feeling much better"}, REMOTE_ADDR=address),
        done=lambda: Appointment.objects.get(pk=visit.pk).status == Appointment.Status.CANCELLED,
        kept='value="Feeling much better"',
    )


def page_reschedule(client, request) -> Change:
    visit = request.getfixturevalue("first_visit")
    new_start = visit.start + timedelta(hours=2)
    url = reverse("booking:reschedule", args=[visit.manage_token]) + f"?from={request.getfixturevalue('booking_day')}"
    return Change(
        send=lambda address: client.post(url, {"start": new_start.isoformat()}, REMOTE_ADDR=address),
        done=lambda: Appointment.objects.get(pk=visit.pk).start == new_start,
        kept=f'<input type="hidden" name="start" value="{new_start.isoformat()}">',
    )


def follow_ups(client, request) -> Change:
    visit = request.getfixturevalue("first_visit")
    url = reverse("booking:follow_ups", args=[visit.manage_token])
    answers = {"sessions": "4", "interval_weeks": "1", "answers_still_apply": "on", "consent_version": "1"}
    return Change(
        send=lambda address: client.post(url, answers, REMOTE_ADDR=address),
        done=TreatmentSeries.objects.exists,
        kept='<option value="4" selected>',
    )


def follow_up_session(client, request) -> Change:
    visit, westerville, physio, booking_day = (
        request.getfixturevalue(n) for n in ("first_visit", "westerville", "physio", "booking_day")
    )
    AppointmentFactory(practitioner=physio, location=westerville, start=week(booking_day, westerville, 2))
    book_weekly(visit)
    day_after = week(booking_day, westerville, 2) + timedelta(days=1)
    url = reverse("booking:book_follow_up_session", args=[visit.manage_token])
    return Change(
        send=lambda address: client.post(url, {"session": "2", "start": day_after.isoformat()}, REMOTE_ADDR=address),
        done=Appointment.objects.filter(series_session=2, start=day_after).exists,
    )


def offered_time(client, request) -> Change:
    offered = request.getfixturevalue("offer")
    answers = _booking_answers(email="wanda.typed@example.com")
    url = reverse("waitlist:offer", args=[offered.token])
    return Change(
        send=lambda address: client.post(url, answers, REMOTE_ADDR=address),
        done=lambda: Appointment.objects.filter(status="confirmed").exists(),
        kept='value="wanda.typed@example.com"',
    )


def leave_waitlist(client, request) -> Change:
    catalogue, booking_day = request.getfixturevalue("catalogue"), request.getfixturevalue("booking_day")
    entry = join(catalogue["services"][0], catalogue["locations"][0], booking_day)
    url = reverse("waitlist:leave", args=[entry.token])
    return Change(
        send=lambda address: client.post(url, REMOTE_ADDR=address),
        done=lambda: WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.LEFT,
    )


def change_waitlist_days(client, request) -> Change:
    catalogue, booking_day = request.getfixturevalue("catalogue"), request.getfixturevalue("booking_day")
    entry = join(catalogue["services"][0], catalogue["locations"][0], booking_day)
    form = {"practitioner": "any", "first_day": booking_day.isoformat(), "last_day": booking_day.isoformat(),
            "times_of_day": ["evenings"]}  # fmt: skip
    url = reverse("waitlist:entry", args=[entry.token])
    return Change(
        send=lambda address: client.post(url, form, REMOTE_ADDR=address),
        done=lambda: not WaitlistEntry.objects.get(pk=entry.pk).mornings,
    )


LIMITED = {
    "booking:details": wizard_booking,
    "api:appointments": api_booking,
    "api:appointment_cancel": api_cancel,
    "api:appointment_reschedule": api_reschedule,
    "booking:cancel": page_cancel,
    "booking:reschedule": page_reschedule,
    "booking:follow_ups": follow_ups,
    "booking:book_follow_up_session": follow_up_session,
    "waitlist:offer": offered_time,
    "waitlist:leave": leave_waitlist,
    "waitlist:entry": change_waitlist_days,
}

# Public POSTs with a limit of their own (tested where the feature is).
OWN_LIMIT = {
    "discovery:request": "5 call-back requests an hour (tests/discovery)",
    "api:discovery_calls": "the same limit as the page (tests/discovery)",
    "waitlist:join": "10 joins an hour (tests/waitlist/test_pages.py)",
    "schedule:login": "django-axes lockout (tests/clinic/test_login_protection.py)",
    "admin:login": "django-axes lockout (tests/clinic/test_login_protection.py)",
    # None: a mail provider's few servers post it for all their users and do not retry a
    # refusal (waitlist/views.py one_click_leave; the token is the key).
    "waitlist:one_click_leave": "no limit, on purpose (tests/waitlist/test_notifications.py)",
}
# POSTs that reach nothing but a login page or a 404 for an anonymous client.
STAFF_NAMESPACES = ("admin:", "reception:", "schedule:", "staff_otp:")


@pytest.mark.parametrize("name", LIMITED)
def test_past_the_limit_nothing_changes_and_the_answer_is_429(name, client, request):
    change = LIMITED[name](client, request)
    use_up_the_limit()

    refused = change.send(ADDRESS)

    assert refused.status_code == 429, refused
    assert not change.done()
    text = refused.content.decode()
    if name.startswith("api:"):
        answer = refused.json()
        assert answer["code"] == "rate_limited"
        assert answer["message"] == f"{REFUSED} Please call Westerville on (614) 555-0142, or try again later."
    else:
        assert REFUSED in text and 'id="rate-limited"' in text
        assert 'Please call Westerville:\n  <a class="alert-link" href="tel:+16145550142">(614) 555-0142</a>' in text
    assert change.kept in text
    # Another connection is not affected.
    accepted = change.send(ELSEWHERE)
    assert accepted.status_code in {200, 201, 302}, accepted
    assert change.done()


def test_the_pages_and_the_api_count_together(client, first_visit, dry_needling, westerville, ten_am):
    moved = first_visit.start + timedelta(hours=2)
    cancel_url = reverse("booking:cancel", args=[first_visit.manage_token])
    reschedule = {"start": local_iso(moved, westerville)}

    assert (
        post_json(
            client, f"{API}/appointments/{first_visit.manage_token}/reschedule", reschedule, REMOTE_ADDR=ADDRESS
        ).status_code
        == 200
    )
    assert client.post(cancel_url, {"reason": ""}, REMOTE_ADDR=ADDRESS).status_code == 302
    another = booking_payload(dry_needling, westerville, ten_am, n=5)
    assert post_json(client, f"{API}/appointments", another, REMOTE_ADDR=ADDRESS).status_code == 429


def test_answers_refused_for_their_fields_are_not_counted(client, dry_needling, westerville, ten_am, open_all_week):
    form = {**choice(dry_needling, westerville), "start": ten_am.isoformat()}
    for _ in range(LIMIT + 3):
        mistyped = client.post(reverse("booking:details"), {**form, **DETAILS, "email": "ada@"}, REMOTE_ADDR=ADDRESS)
        assert mistyped.status_code == 200 and "Enter a valid email address." in mistyped.text
    api_payload = booking_payload(dry_needling, westerville, ten_am)
    api_payload["patient"]["email"] = "nope"
    for _ in range(LIMIT + 3):
        assert post_json(client, f"{API}/appointments", api_payload, REMOTE_ADDR=ADDRESS).status_code == 400

    assert client.post(reverse("booking:details"), {**form, **DETAILS}, REMOTE_ADDR=ADDRESS).status_code == 302


def test_every_public_post_is_limited(request):
    """An anonymous POST (with the holder's link where the URL takes one) to every URL outside
    the staff's: each that does not answer 405 must be in LIMITED or OWN_LIMIT."""
    world = request.getfixturevalue("data")
    client = Client()
    taking_posts = set()
    for name, arguments, _expected in ROWS:
        if name.startswith(STAFF_NAMESPACES) or name in OWN_LIMIT:
            continue
        response = client.post(_url(name, arguments, world, "patient"), REMOTE_ADDR=ELSEWHERE)
        if response.status_code != 405:
            taking_posts.add(name)
    assert taking_posts - {"api:not_found"} == set(LIMITED)

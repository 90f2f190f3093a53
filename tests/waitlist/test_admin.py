"""Reception's view of the waiting list: who waits for what, what they were offered, and taking
someone off the list when they ask; nothing added or deleted by hand, every change in the history."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.services import cancel_appointment
from tests.helpers import book
from tests.waitlist.helpers import join, make_offers
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:waitlist_waitlistentry_changelist")


def change_url(entry) -> str:
    return reverse("admin:waitlist_waitlistentry_change", args=[entry.pk])


@pytest.fixture
def offered_entry(dry_needling, westerville, physio, open_all_week, booking_day, ten_am):
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    entry = join(dry_needling, westerville, booking_day, n=1)
    cancel_appointment(appointment=appointment, actor=None)
    make_offers()
    return entry


def test_reception_sees_who_is_waiting_and_what_they_were_offered(client, receptionist, offered_entry):
    client.force_login(receptionist)

    listing = client.get(CHANGELIST)
    record = client.get(change_url(offered_entry))

    assert listing.status_code == 200
    assert "Wanda Waiting1" in listing.text
    assert "Waiting" in listing.text
    assert record.status_code == 200
    assert "times offered" in record.text.lower()
    assert "10:00 AM EST" in record.text  # the location's clock
    assert "Open" in record.text


def test_the_front_desk_links_the_waiting_list(client, receptionist):
    client.force_login(receptionist)

    assert f'href="{CHANGELIST}?state=waiting"' in client.get(reverse("admin:index")).text


def test_reception_finds_a_waiting_patient_by_the_number_as_heard(client, receptionist, offered_entry):
    client.force_login(receptionist)

    assert "Wanda Waiting1" in client.get(CHANGELIST, {"q": "(614) 555-0177"}).text


def test_ended_places_are_shown_as_ended(client, receptionist, offered_entry):
    WaitlistEntry.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(receptionist)

    response = client.get(CHANGELIST, {"state": "ended"})

    assert "Range ended" in response.text
    assert "Wanda Waiting1" in response.text
    assert "Wanda Waiting1" not in client.get(CHANGELIST, {"state": "waiting"}).text


def test_reception_takes_a_caller_off_the_list_and_the_history_says_so(client, receptionist, offered_entry):
    client.force_login(receptionist)

    response = client.post(
        CHANGELIST, {"action": "take_off_the_list", "_selected_action": [offered_entry.pk]}, follow=True
    )

    offered_entry.refresh_from_db()
    assert offered_entry.status == WaitlistEntry.Status.LEFT
    assert "Took 1 off the waiting list" in response.text
    assert offered_entry.history.first().history_change_reason == "left the list"


def test_no_one_adds_or_deletes_entries_by_hand(client, superuser, offered_entry):
    client.force_login(superuser)

    assert client.get(reverse("admin:waitlist_waitlistentry_add")).status_code == 403
    assert client.get(reverse("admin:waitlist_waitlistentry_delete", args=[offered_entry.pk])).status_code == 403


def test_practitioners_and_outsiders_see_nothing(client, practitioner_user, offered_entry):
    practitioner_user.is_staff = True
    practitioner_user.save()
    client.force_login(practitioner_user)

    assert client.get(CHANGELIST).status_code == 403
    assert client.get(change_url(offered_entry)).status_code == 403


def test_the_list_reads_a_constant_few_rows(
    client, receptionist, dry_needling, westerville, physio, booking_day, django_assert_max_num_queries
):
    for n in range(60):
        join(dry_needling, westerville, booking_day, n=n)
    client.force_login(receptionist)

    with django_assert_max_num_queries(9):
        response = client.get(CHANGELIST)

    assert response.text.count("Wanda Waiting") == 60

"""Joining the waiting list with an email that is already waiting reveals and changes nothing:
the answer is the same as for a new join, the place's link goes to the address on file, and its
days and times change only through that link."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.helpers import worker_round
from tests.waitlist.test_pages import _join_data, _join_url
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.com"


@pytest.fixture
def victims_place(client, catalogue, booking_day):
    client.post(_join_url(), _join_data(booking_day, email=VICTIM, times_of_day=["mornings"]))
    worker_round()
    mail.outbox.clear()
    return WaitlistEntry.objects.get(email=VICTIM)


def test_a_repeat_join_with_someone_elses_email_answers_as_a_new_join_and_changes_nothing(
    client, catalogue, booking_day, victims_place
):
    attacker = {"email": VICTIM, "first_name": "Mallory", "last_name": "X", "phone": "(614) 555-0199",
                "times_of_day": ["evenings"], "last_day": (booking_day + timedelta(days=20)).isoformat()}  # fmt: skip
    repeat = client.post(_join_url(), _join_data(booking_day, **attacker))
    new = client.post(_join_url(), _join_data(booking_day, email="someone.new@example.com"))

    assert (repeat.status_code, repeat["Location"]) == (new.status_code, new["Location"])
    assert victims_place.token not in repeat["Location"]
    followed = client.get(repeat["Location"])
    assert victims_place.token not in followed.text and "Check your email" in followed.text
    unchanged = WaitlistEntry.objects.get(pk=victims_place.pk)
    assert (unchanged.first_name, str(unchanged.phone), unchanged.mornings, unchanged.evenings, unchanged.last_day) == (
        victims_place.first_name, str(victims_place.phone), True, False, victims_place.last_day,
    )  # fmt: skip
    assert WaitlistEntry.objects.filter(email=VICTIM).count() == 1


def test_the_link_is_emailed_again_to_the_address_on_file_at_most_every_quarter_hour(
    client, catalogue, booking_day, victims_place
):
    client.post(_join_url(), _join_data(booking_day, email=VICTIM.upper()))
    worker_round()
    assert mail.outbox == []  # just sent when they joined: not again so soon
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=True):
        client.post(_join_url(), _join_data(booking_day, email=VICTIM.upper()))
        worker_round()
        client.post(_join_url(), _join_data(booking_day, email=VICTIM))
        worker_round()
    (message,) = mail.outbox
    assert message.to == [victims_place.email]
    assert reverse("waitlist:entry", args=[victims_place.token]) in message.body


def test_the_emailed_link_changes_the_days_and_times(client, catalogue, booking_day, victims_place):
    url = reverse("waitlist:entry", args=[victims_place.token])
    last_day = (booking_day + timedelta(days=6)).isoformat()
    form = {"practitioner": "any", "first_day": booking_day.isoformat(), "last_day": last_day,
            "times_of_day": ["afternoons", "evenings"]}  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 302 and response["Location"] == url
    changed = WaitlistEntry.objects.get(pk=victims_place.pk)
    assert (changed.mornings, changed.afternoons, changed.evenings) == (False, True, True)
    assert changed.last_day == booking_day + timedelta(days=6)
    assert changed.history.first().history_change_reason == "days and times changed"


def test_a_bad_change_is_explained_and_nothing_changes(client, catalogue, booking_day, victims_place):
    url = reverse("waitlist:entry", args=[victims_place.token])
    response = client.post(url, {"practitioner": "any", "first_day": booking_day.isoformat(),
                                 "last_day": booking_day.isoformat(), "times_of_day": []})  # fmt: skip
    assert response.status_code == 400
    assert "Choose at least one time of day." in response.content.decode()
    assert WaitlistEntry.objects.get(pk=victims_place.pk).mornings is True

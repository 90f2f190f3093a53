"""Reception's own ways of changing an appointment (the calendar's drop, its Move page, its
panel's Cancel, the admin's cancel action) each end in exactly one notice to the patient, which
says the clinic made the change; a waiting-list offer booked is confirmed like any booking."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from tests.helpers import book, worker_round
from tests.reception.test_move import colleague, drop  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

SETTLED = timedelta(seconds=settings.CHANGE_NOTICE_SETTLE_SECONDS + 1)


def only_notice():
    (message,) = mail.outbox
    calendar = Calendar.from_ical(message.attachments[0][1])
    (event,) = calendar.walk("VEVENT")
    return message, str(calendar["method"]), event


@pytest.fixture
def told(dry_needling, westerville, physio, open_all_week, ten_am):
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    worker_round()
    mail.outbox.clear()
    return appointment


@pytest.fixture
def desk(client, receptionist):
    client.force_login(receptionist)
    return client


def test_a_dropped_block_sends_one_notice_from_the_clinic(desk, told, colleague, ten_am):  # noqa: F811
    assert drop(desk, told, ten_am + timedelta(hours=5), colleague).status_code == 200
    with time_machine.travel(timezone.now() + SETTLED, tick=True):
        worker_round()
        worker_round()
    message, method, event = only_notice()
    assert "The clinic has moved your appointment" in message.body and colleague.name in message.body
    assert (method, int(event["sequence"])) == ("REQUEST", 1)


def test_the_move_page_sends_one_notice(desk, told, physio, ten_am):
    response = desk.post(
        reverse("reception:move", args=[told.pk]),
        {"start": (ten_am + timedelta(hours=2)).isoformat(), "practitioner": physio.pk},
    )
    assert response.status_code == 302
    with time_machine.travel(timezone.now() + SETTLED, tick=True):
        worker_round()
    message, method, _ = only_notice()
    assert "has moved to" in message.subject and method == "REQUEST"


@pytest.mark.parametrize("share", [True, False])
def test_the_panels_cancel_sends_one_notice_with_the_reason_if_ticked(desk, told, share):
    form = {"reason": "The practitioner is ill", **({"share_reason": "1"} if share else {})}
    assert desk.post(reverse("reception:cancel", args=[told.pk]), form).status_code == 302
    worker_round()
    worker_round()
    message, method, event = only_notice()
    assert "The clinic has cancelled your appointment" in message.body
    assert ("The practitioner is ill" in message.body) is share
    assert (method, str(event["status"])) == ("CANCEL", "CANCELLED")


def test_the_admins_cancel_action_sends_one_notice_per_appointment(desk, told, dry_needling, westerville, physio,
                                                                    ten_am):  # fmt: skip
    other = book(dry_needling, westerville, ten_am + timedelta(hours=3), practitioner=physio, n=2)
    worker_round()
    mail.outbox.clear()
    form = {"action": "cancel_with_reason_action", "_selected_action": [told.pk, other.pk]}
    desk.post(reverse("admin:booking_appointment_changelist"),
              {**form, "confirm_cancellation": "yes", "reason": "Flooded", "share_reason": "on"})  # fmt: skip
    worker_round()
    assert sorted(message.to[0] for message in mail.outbox) == sorted([told.patient.email, other.patient.email])
    assert all("Flooded" in message.body and "is cancelled" in message.subject for message in mail.outbox)


def test_a_waiting_list_offer_booked_is_confirmed_with_an_invitation(
    client, dry_needling, westerville, physio, open_all_week, booking_day, ten_am
):
    from booking.services import cancel_appointment
    from tests.waitlist.helpers import join, make_offers

    taken = book(dry_needling, westerville, ten_am, practitioner=physio, n=3)
    join(dry_needling, westerville, booking_day, n=1)
    cancel_appointment(appointment=taken, actor=None)
    (offer,) = make_offers()
    from tests.waitlist.test_pages import _booking_answers

    response = client.post(reverse("waitlist:offer", args=[offer.token]), _booking_answers())
    assert response.status_code == 302
    mail.outbox.clear()
    worker_round()
    confirmations = [message for message in mail.outbox if "You're booked" in message.body]
    assert len(confirmations) == 1
    assert str(Calendar.from_ical(confirmations[0].attachments[0][1])["method"]) == "REQUEST"

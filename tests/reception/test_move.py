"""Moving an appointment from the front desk: by the service, by the Move page (no JavaScript)
and by dropping its block on the calendar; one service under the same locks, so a move never
double-books, and a move racing a booking for the same gap on real connections has one winner."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from booking.models import Appointment
from booking.services import BookingError, reschedule_appointment
from tests.factories import PractitionerFactory, UserFactory
from tests.helpers import book, race

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(dry_needling, westerville, physio, open_all_week, ten_am):
    return book(dry_needling, westerville, ten_am, practitioner=physio)


@pytest.fixture
def colleague(dry_needling, westerville, open_all_week):
    """A second physiotherapist at Westerville who also gives dry needling, working 9-17 every day."""
    from datetime import time

    from booking.models import WorkingHours

    practitioner = PractitionerFactory(
        name="Dr. Daniel Okafor", slug="daniel-okafor", services=[dry_needling], locations=[westerville]
    )
    for weekday in range(7):
        WorkingHours.objects.create(
            practitioner=practitioner, location=westerville, weekday=weekday, start_time=time(9), end_time=time(17)
        )
    return practitioner


@pytest.fixture
def desk(client, receptionist):
    client.force_login(receptionist)
    return client


def reloaded(appointment) -> Appointment:
    return Appointment.objects.select_related("practitioner").get(pk=appointment.pk)


# The service ---------------------------------------------------------------------------------


def test_reception_moves_to_another_time_and_practitioner_and_the_history_says_who(
    appointment, receptionist, colleague, ten_am
):
    appointment.reminder_sent_at = appointment.start - timedelta(days=1)
    appointment.save()

    moved = reschedule_appointment(
        appointment=appointment, new_start=ten_am + timedelta(hours=3), new_practitioner=colleague, actor=receptionist
    )

    stored = reloaded(appointment)
    assert (stored.start, stored.practitioner) == (ten_am + timedelta(hours=3), colleague)
    assert moved.practitioner == colleague and stored.reminder_sent_at is None  # a new reminder for the new time
    assert stored.blocked_until == stored.end + timedelta(minutes=appointment.service.buffer_after_minutes)
    last = stored.history.latest()
    assert last.history_user == receptionist and last.history_change_reason == "rescheduled by staff"


def test_a_practitioner_who_does_not_give_the_service_is_refused(appointment, receptionist, acupuncturist, ten_am):
    with pytest.raises(BookingError) as refused:
        reschedule_appointment(
            appointment=appointment, new_start=ten_am, new_practitioner=acupuncturist, actor=receptionist
        )
    assert refused.value.code == "not_qualified"
    assert reloaded(appointment).practitioner_id == appointment.practitioner_id


def test_a_taken_time_is_refused_and_nothing_moves(
    appointment, receptionist, colleague, dry_needling, westerville, ten_am
):
    book(dry_needling, westerville, ten_am + timedelta(hours=2), practitioner=colleague, n=2)
    with pytest.raises(BookingError) as refused:
        reschedule_appointment(
            appointment=appointment,
            new_start=ten_am + timedelta(hours=2, minutes=30),
            new_practitioner=colleague,
            actor=receptionist,
        )
    assert refused.value.code == "slot_unavailable"
    assert reloaded(appointment).start == ten_am


def test_a_patient_cannot_be_moved_onto_their_own_other_appointment(
    appointment, receptionist, colleague, acupuncture, acupuncturist, westerville, ten_am
):
    # The same patient (n=0) with Sofia at 13:00: moving the 10:00 to 13:00 with Daniel would
    # put them in two rooms at once.
    book(acupuncture, westerville, ten_am + timedelta(hours=3), practitioner=acupuncturist)
    with pytest.raises(BookingError) as refused:
        reschedule_appointment(
            appointment=appointment,
            new_start=ten_am + timedelta(hours=3),
            new_practitioner=colleague,
            actor=receptionist,
        )
    assert refused.value.code == "already_booked"


def test_patients_cannot_change_practitioner(appointment, colleague, ten_am):
    with pytest.raises(ValueError, match="same practitioner"):
        reschedule_appointment(appointment=appointment, new_start=ten_am, new_practitioner=colleague, actor=None)


@pytest.mark.django_db(transaction=True)
def test_a_move_racing_a_booking_for_the_same_gap_has_exactly_one_winner(
    receptionist, dry_needling, westerville, physio, colleague, ten_am
):
    """Real connections, released together: reception drops Maya's 10:00 patient on Daniel's
    14:00 while a patient books Daniel's 14:00 online. Exactly one of them gets it."""
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    gap = ten_am + timedelta(hours=4)
    for _round in range(3):

        def attempt(index, moving=appointment):
            if index == 0:
                return reschedule_appointment(
                    appointment=moving, new_start=gap, new_practitioner=colleague, actor=receptionist
                )
            return book(dry_needling, westerville, gap, practitioner=colleague, n=10 + index)

        results = race(2, attempt)

        winners = [result for result in results if isinstance(result, Appointment)]
        losers = [result for result in results if isinstance(result, BookingError)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].code == "slot_unavailable"
        live_at_gap = Appointment.objects.live().filter(practitioner=colleague, start=gap)
        assert live_at_gap.count() == 1
        # Put the gap back for the next round: whoever won gives it up.
        winner = winners[0]
        if winner.pk == appointment.pk:
            appointment = reschedule_appointment(
                appointment=winner, new_start=ten_am, new_practitioner=physio, actor=receptionist
            )
        else:
            Appointment.objects.filter(pk=winner.pk).update(status="cancelled")
            appointment = reloaded(appointment)


# The Move page (no JavaScript) ----------------------------------------------------------------------


def test_the_move_page_lists_the_engines_free_times_and_moves(desk, appointment, colleague, ten_am):
    url = reverse("reception:move", args=[appointment.pk])
    day = ten_am.astimezone(appointment.location.zone).date()

    page = desk.get(url, {"date": day.isoformat(), "practitioner": colleague.pk}).content.decode()

    assert "Free times on" in page and "with Dr. Daniel Okafor" in page
    assert f'value="{ten_am.isoformat()}"' in page  # Daniel is free at 10:00
    response = desk.post(url, {"start": (ten_am + timedelta(hours=1)).isoformat(), "practitioner": colleague.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reception:calendar"))
    [message] = [str(each) for each in get_messages(response.wsgi_request)]
    assert message.startswith(f"Moved {appointment.reference}") and "with Dr. Daniel Okafor" in message
    assert reloaded(appointment).practitioner == colleague


def test_the_move_page_does_not_offer_the_appointments_own_time_as_taken(desk, appointment, ten_am):
    page = desk.get(reverse("reception:move", args=[appointment.pk])).content.decode()
    # Its own 10:00 does not block itself: 10:15 (overlapping it) is offered.
    assert f'value="{(ten_am + timedelta(minutes=15)).isoformat()}"' in page


def test_a_time_taken_meanwhile_is_a_clear_message_and_the_appointment_stays(
    desk, appointment, colleague, dry_needling, westerville, ten_am
):
    taken = ten_am + timedelta(hours=2)
    book(dry_needling, westerville, taken, practitioner=colleague, n=3)
    response = desk.post(
        reverse("reception:move", args=[appointment.pk]), {"start": taken.isoformat(), "practitioner": colleague.pk}
    )
    assert response.status_code == 409
    assert "That time is not free for this appointment any more" in response.content.decode()
    assert reloaded(appointment).start == ten_am


@pytest.mark.parametrize("start", ["", "not a time", "2026-13-45T10:00:00+00:00", "\x00"])
def test_nonsense_on_the_move_page_is_a_message_not_a_500(desk, appointment, physio, start):
    response = desk.post(reverse("reception:move", args=[appointment.pk]), {"start": start, "practitioner": physio.pk})
    assert response.status_code == 400 and "Choose one of the free times." in response.content.decode()


def test_only_a_confirmed_appointment_moves(desk, appointment):
    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")
    page = desk.get(reverse("reception:move", args=[appointment.pk])).content.decode()
    assert "only a confirmed appointment can move" in page


# Dropping a block on the calendar ----------------------------------------------------------------


def drop(client, appointment, start, practitioner):
    return client.post(
        reverse("reception:drop", args=[appointment.pk]),
        {"start": start.isoformat(), "practitioner": practitioner.pk},
        HTTP_ACCEPT="application/json",
    )


def test_a_dropped_block_moves_through_the_same_service(desk, appointment, colleague, ten_am):
    response = drop(desk, appointment, ten_am + timedelta(hours=5), colleague)
    assert response.status_code == 200
    assert json.loads(response.content)["message"].startswith(f"Moved {appointment.reference}")
    stored = reloaded(appointment)
    assert (stored.start, stored.practitioner) == (ten_am + timedelta(hours=5), colleague)


def test_a_block_dropped_on_a_taken_time_stays_and_says_why(
    desk, appointment, colleague, dry_needling, westerville, ten_am
):
    book(dry_needling, westerville, ten_am + timedelta(hours=1), practitioner=colleague, n=4)
    response = drop(desk, appointment, ten_am + timedelta(hours=1), colleague)
    assert response.status_code == 409
    assert "has not moved" in json.loads(response.content)["message"]
    assert reloaded(appointment).start == ten_am


def test_a_drop_of_nonsense_is_a_400(desk, appointment):
    response = desk.post(reverse("reception:drop", args=[appointment.pk]), {"start": "soon", "practitioner": "x"})
    assert response.status_code == 400 and "message" in json.loads(response.content)


# Who may move ----------------------------------------------------------------------------------------


def test_staff_without_the_change_permission_cannot_move(client, appointment, colleague, ten_am):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_login(viewer)
    assert client.get(reverse("reception:move", args=[appointment.pk])).status_code == 403
    assert drop(client, appointment, ten_am + timedelta(hours=5), colleague).status_code == 403
    assert reloaded(appointment).start == ten_am


def test_practitioners_and_anonymous_visitors_cannot_move(client, appointment, practitioner_user, colleague, ten_am):
    move_url = reverse("reception:move", args=[appointment.pk])
    assert client.get(move_url)["Location"].startswith(reverse("admin:login"))
    assert drop(client, appointment, ten_am + timedelta(hours=5), colleague)["Location"].startswith(
        reverse("admin:login")
    )
    client.force_login(practitioner_user)  # a practitioner is no staff member
    assert client.get(move_url)["Location"].startswith(reverse("admin:login"))
    practitioner_user.is_staff = True
    practitioner_user.save()
    assert client.get(move_url).status_code == 403
    assert drop(client, appointment, ten_am + timedelta(hours=5), colleague).status_code == 403
    assert reloaded(appointment).start == ten_am


def test_an_unknown_appointment_is_a_404(desk, physio, ten_am):
    assert desk.get(reverse("reception:move", args=[999999])).status_code == 404
    response = desk.post(
        reverse("reception:drop", args=[999999]), {"start": ten_am.isoformat(), "practitioner": physio.pk}
    )
    assert response.status_code == 404


# Moves decided on an older picture ----------------------------------------------------------------


def test_a_move_decided_on_an_older_picture_is_refused(appointment, receptionist, colleague, ten_am):
    seen = appointment.updated_at
    reschedule_appointment(appointment=appointment, new_start=ten_am + timedelta(hours=1), actor=receptionist)

    with pytest.raises(BookingError) as refused:
        reschedule_appointment(
            appointment=appointment,
            new_start=ten_am + timedelta(hours=4),
            new_practitioner=colleague,
            actor=receptionist,
            if_unchanged_since=seen,
        )
    assert refused.value.code == "changed_meanwhile"
    assert reloaded(appointment).start == ten_am + timedelta(hours=1)


def test_a_block_dropped_from_a_stale_calendar_does_not_undo_the_other_desks_move(
    desk, appointment, receptionist, colleague, ten_am
):
    seen = appointment.updated_at.isoformat()
    reschedule_appointment(appointment=appointment, new_start=ten_am + timedelta(hours=1), actor=receptionist)

    response = desk.post(
        reverse("reception:drop", args=[appointment.pk]),
        {"start": (ten_am + timedelta(hours=5)).isoformat(), "practitioner": colleague.pk, "version": seen},
    )

    assert (
        response.status_code == 409 and "changed this appointment meanwhile" in json.loads(response.content)["message"]
    )
    assert reloaded(appointment).start == ten_am + timedelta(hours=1)


def test_a_patients_move_from_an_old_copy_keeps_the_practitioner_reception_chose(
    appointment, receptionist, colleague, ten_am
):
    stale = Appointment.objects.get(pk=appointment.pk)  # read while it was still Maya's
    reschedule_appointment(appointment=appointment, new_start=ten_am, new_practitioner=colleague, actor=receptionist)

    moved = reschedule_appointment(appointment=stale, new_start=ten_am + timedelta(hours=2), actor=None)

    assert moved.practitioner_id == colleague.pk == reloaded(appointment).practitioner_id


def test_the_move_pages_times_name_their_zone_the_night_the_clocks_go_back(
    desk, receptionist, dry_needling, westerville, physio
):
    from datetime import UTC, datetime, time

    import time_machine

    from booking.availability import local_instant
    from booking.models import WorkingHours

    fall_back = datetime(2026, 11, 1).date()
    WorkingHours.objects.create(
        practitioner=physio, location=westerville, weekday=fall_back.weekday(), start_time=time(0), end_time=time(4)
    )
    with time_machine.travel(datetime(2026, 10, 20, 12, tzinfo=UTC), tick=False):
        desk.force_login(receptionist)
        start = local_instant(fall_back, time(3), westerville.zone)
        appointment = book(dry_needling, westerville, start, practitioner=physio)
        page = desk.get(reverse("reception:move", args=[appointment.pk]), {"date": "2026-11-01"}).content.decode()
    assert "1:00 AM EDT" in page and "1:00 AM EST" in page

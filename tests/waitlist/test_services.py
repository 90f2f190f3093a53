"""Joining and leaving the waiting list, the database noting freed time, and offers made from it."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from booking.availability import local_instant
from booking.models import TimeOff
from booking.services import BookingError, add_time_off, cancel_appointment, remove_time_off, reschedule_appointment
from tests.factories import patient_details
from tests.helpers import NO_FLAGS, book
from tests.waitlist.helpers import contact, join, make_offers
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer
from waitlist.services import (
    OFFERS_PER_SLOT,
    WaitlistError,
    Wish,
    book_offered_time,
    join_waitlist,
    leave_waitlist,
)

pytestmark = pytest.mark.django_db


# Joining -----------------------------------------------------------------------------------


def test_joining_ends_the_place_at_local_midnight_after_the_last_day(dry_needling, westerville, physio, booking_day):
    entry = join(dry_needling, westerville, booking_day, booking_day + timedelta(days=2))

    assert entry.status == WaitlistEntry.Status.WAITING
    assert entry.expires_at == local_instant(booking_day + timedelta(days=3), time(0), westerville.zone)
    assert len(entry.token) >= 43


def test_a_place_ending_on_the_night_the_clocks_go_back_ends_at_local_midnight(dry_needling, westerville, physio):
    # Westerville's last day 31 Oct 2026: midnight after it is still daylight time (UTC-4).
    now = datetime(2026, 10, 20, 12, tzinfo=UTC)
    entry = join_waitlist(
        wish=Wish(
            service=dry_needling,
            location=westerville,
            practitioner=None,
            first_day=datetime(2026, 10, 25).date(),
            last_day=datetime(2026, 10, 31).date(),
        ),
        contact=contact(),
        now=now,
    )

    assert entry.expires_at == datetime(2026, 11, 1, 4, tzinfo=UTC)


def test_joining_again_with_the_same_email_changes_nothing_of_the_one_place(
    dry_needling, westerville, physio, booking_day
):
    first = join(dry_needling, westerville, booking_day)
    again = join_waitlist(
        wish=Wish(
            service=dry_needling,
            location=westerville,
            practitioner=physio,
            first_day=booking_day,
            last_day=booking_day + timedelta(days=5),
            evenings=False,
        ),
        contact=contact(0, email="WANDA0@Example.com", first_name="Someone", phone="+16145550999"),
    )

    assert again.pk == first.pk
    again.refresh_from_db()
    # Knowing an email lets a stranger change neither what that person waits for nor how the
    # clinic reaches them: the days and times change only through the emailed link.
    assert (again.last_day, again.practitioner, again.evenings) == (first.last_day, None, True)
    assert (again.first_name, str(again.phone)) == ("Wanda", "+16145550177")
    assert WaitlistEntry.objects.count() == 1


def test_joining_for_another_service_is_another_place(
    dry_needling, acupuncture, westerville, physio, acupuncturist, booking_day
):
    join(dry_needling, westerville, booking_day)
    join(acupuncture, westerville, booking_day)

    assert WaitlistEntry.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"first_day": -1}, "first_day"),
        ({"last_day": -8}, "last_day"),
        ({"last_day": 61}, "last_day"),
        ({"mornings": False, "afternoons": False, "evenings": False}, "times_of_day"),
    ],
)
def test_wishes_no_time_could_match_are_refused(dry_needling, westerville, physio, change, field):
    today = timezone.localtime(timezone.now(), westerville.zone).date()
    wish = {"first_day": today, "last_day": today + timedelta(days=3)}
    wish.update({key: today + timedelta(days=value) for key, value in change.items() if key.endswith("_day")})
    times = {key: value for key, value in change.items() if not key.endswith("_day")}

    with pytest.raises(WaitlistError) as refused:
        join_waitlist(
            wish=Wish(service=dry_needling, location=westerville, practitioner=None, **wish, **times), contact=contact()
        )

    assert refused.value.field == field
    assert not WaitlistEntry.objects.exists()


def test_a_practitioner_who_does_not_offer_the_service_is_refused(
    dry_needling, westerville, physio, acupuncturist, booking_day
):
    with pytest.raises(WaitlistError) as refused:
        join_waitlist(
            wish=Wish(
                service=dry_needling,
                location=westerville,
                practitioner=acupuncturist,
                first_day=booking_day,
                last_day=booking_day,
            ),
            contact=contact(),
        )

    assert refused.value.field == "practitioner"


def test_leaving_is_a_state_and_can_be_clicked_twice(dry_needling, westerville, physio, booking_day):
    entry = join(dry_needling, westerville, booking_day)

    leave_waitlist(entry=entry)
    left = leave_waitlist(entry=entry)

    assert left.status == WaitlistEntry.Status.LEFT
    assert left.left_at is not None
    assert WaitlistEntry.objects.filter(pk=entry.pk).exists()
    assert [record.history_change_reason for record in left.history.all()] == ["left the list", "joined"]


# Freed time, noted by the database -----------------------------------------------------------


def _freed():
    return list(FreedTime.objects.order_by("pk").values_list("practitioner_id", "location_id", "start", "end"))


def test_booking_and_status_changes_that_keep_the_time_free_nothing(
    dry_needling, westerville, physio, open_all_week, ten_am
):
    appointment = book(dry_needling, westerville, ten_am)

    assert _freed() == []
    appointment.cancellation_reason = "typo fixed"
    appointment.save()
    assert _freed() == []


def test_a_cancellation_frees_the_appointments_time_with_its_buffer(
    dry_needling, westerville, physio, open_all_week, ten_am
):
    appointment = book(dry_needling, westerville, ten_am)

    cancel_appointment(appointment=appointment, actor=None)

    assert _freed() == [(physio.pk, westerville.pk, appointment.start, appointment.blocked_until)]


def test_a_move_frees_the_old_time(dry_needling, westerville, physio, open_all_week, ten_am):
    appointment = book(dry_needling, westerville, ten_am)
    old_start, old_blocked_until = appointment.start, appointment.blocked_until

    reschedule_appointment(appointment=appointment, new_start=ten_am + timedelta(hours=3), actor=None)

    assert _freed() == [(physio.pk, westerville.pk, old_start, old_blocked_until)]


def test_removing_or_shortening_time_off_frees_its_old_stretch(physio, westerville, open_all_week, ten_am):
    time_off = add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=4), reason="", by=None)
    time_off.end = ten_am + timedelta(hours=5)
    time_off.save()  # longer: nothing freed
    assert _freed() == []

    time_off.end = ten_am + timedelta(hours=2)
    time_off.save()
    remove_time_off(time_off=time_off, practitioner=physio, by=None)

    assert _freed() == [
        (physio.pk, None, ten_am, ten_am + timedelta(hours=5)),
        (physio.pk, None, ten_am, ten_am + timedelta(hours=2)),
    ]


def test_a_location_closure_deleted_in_the_admin_frees_its_time(westerville, ten_am):
    closure = TimeOff.objects.create(location=westerville, start=ten_am, end=ten_am + timedelta(hours=8))

    closure.delete()

    assert _freed() == [(None, westerville.pk, ten_am, ten_am + timedelta(hours=8))]


def test_time_already_past_is_not_noted(dry_needling, westerville, physio):
    past = TimeOff.objects.create(
        practitioner=physio, start=timezone.now() - timedelta(days=2), end=timezone.now() - timedelta(days=1)
    )

    past.delete()

    assert _freed() == []


# Offers ------------------------------------------------------------------------------------


def test_a_cancelled_time_is_offered_to_the_patients_waiting_for_it(
    dry_needling, westerville, physio, open_all_week, booking_day, ten_am
):
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    waiting = join(dry_needling, westerville, booking_day, n=1)
    afternoons_only = join(dry_needling, westerville, booking_day, n=2, mornings=False, evenings=False)
    another_day = join(dry_needling, westerville, booking_day + timedelta(days=1), n=3)
    left = join(dry_needling, westerville, booking_day, n=4)
    leave_waitlist(entry=left)

    cancel_appointment(appointment=appointment, actor=None)
    offers = make_offers()

    assert [(offer.entry_id, offer.practitioner_id, offer.start) for offer in offers] == [
        (waiting.pk, physio.pk, ten_am)
    ]
    assert afternoons_only.pk and another_day.pk  # waiting, but not for this time
    assert FreedTime.objects.get().processed_at is not None
    assert make_offers() == []  # each stretch is offered once


def test_an_entry_for_a_practitioner_is_not_offered_anothers_time(
    dry_needling, acupuncture, westerville, physio, acupuncturist, open_all_week, booking_day, ten_am
):
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    join(acupuncture, westerville, booking_day, n=1, practitioner=acupuncturist)

    cancel_appointment(appointment=appointment, actor=None)

    assert make_offers() == []


def test_an_ended_place_gets_no_offer(dry_needling, westerville, physio, open_all_week, booking_day, ten_am):
    appointment = book(dry_needling, westerville, ten_am)
    entry = join(dry_needling, westerville, booking_day, n=1)
    WaitlistEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    cancel_appointment(appointment=appointment, actor=None)

    assert make_offers() == []


def test_one_time_goes_to_at_most_a_few_and_the_next_in_line_gets_a_time_that_does_not_clash(
    dry_needling, westerville, physio, open_all_week, booking_day, ten_am
):
    entries = [join(dry_needling, westerville, booking_day, n=10 + i) for i in range(OFFERS_PER_SLOT + 2)]
    # 2 1/2 hours free up at once (two cancellations, say): 10:00-12:30, and nothing else that day.
    # The service takes 60 minutes and 15 of buffer: 10:00 keeps her busy until 11:15.
    assert (dry_needling.duration_minutes, dry_needling.buffer_after_minutes) == (60, 15)
    stretch_end = ten_am + timedelta(hours=2, minutes=30)
    add_time_off(practitioner=physio, start=ten_am - timedelta(hours=1), end=ten_am, reason="", by=None)
    add_time_off(practitioner=physio, start=stretch_end, end=ten_am + timedelta(hours=7), reason="", by=None)
    FreedTime.objects.create(practitioner=physio, location=westerville, start=ten_am, end=stretch_end)

    offers = make_offers()

    by_time = {}
    for offer in offers:
        by_time.setdefault(offer.start, []).append(offer.entry_id)
    assert by_time == {
        ten_am: [entry.pk for entry in entries[:OFFERS_PER_SLOT]],
        ten_am + timedelta(hours=1, minutes=15): [entry.pk for entry in entries[OFFERS_PER_SLOT:]],
    }


def test_no_second_time_is_offered_where_the_first_ones_buffer_reaches(
    dry_needling, westerville, physio, open_all_week, booking_day, ten_am
):
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    add_time_off(practitioner=physio, start=ten_am - timedelta(hours=1), end=ten_am, reason="", by=None)
    add_time_off(
        practitioner=physio, start=ten_am + timedelta(minutes=75), end=ten_am + timedelta(hours=7), reason="", by=None
    )
    entries = [join(dry_needling, westerville, booking_day, n=10 + i) for i in range(OFFERS_PER_SLOT + 1)]

    cancel_appointment(appointment=appointment, actor=None)  # frees 10:00-11:15
    offers = make_offers()

    assert [(offer.entry_id, offer.start) for offer in offers] == [(entry.pk, ten_am) for entry in entries[:-1]]


def test_time_off_removed_is_offered(dry_needling, westerville, physio, open_all_week, booking_day, ten_am):
    time_off = add_time_off(practitioner=physio, start=ten_am, end=ten_am + timedelta(hours=1), reason="", by=None)
    entry = join(dry_needling, westerville, booking_day, n=1)

    remove_time_off(time_off=time_off, practitioner=physio, by=None)

    assert [(offer.entry_id, offer.start) for offer in make_offers()] == [(entry.pk, ten_am)]


# Booking an offered time -------------------------------------------------------------------


@pytest.fixture
def offered(dry_needling, westerville, physio, open_all_week, booking_day, ten_am):
    """Two waiting patients offered the 10:00 someone cancelled."""
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    join(dry_needling, westerville, booking_day, n=1)
    join(dry_needling, westerville, booking_day, n=2)
    cancel_appointment(appointment=appointment, actor=None)
    return make_offers()


def _book_offer(offer, n):
    return book_offered_time(
        offer=offer, patient_details=patient_details(n), screening=NO_FLAGS, consent_given=True, consent_version=None
    )


def test_booking_an_offered_time_books_through_the_normal_path_and_ends_the_place(offered, ten_am, physio):
    appointment = _book_offer(offered[0], 1)

    assert (appointment.start, appointment.practitioner_id) == (ten_am, physio.pk)
    offer = WaitlistOffer.objects.get(pk=offered[0].pk)
    assert offer.booked_appointment == appointment
    assert offer.entry.status == WaitlistEntry.Status.BOOKED
    assert appointment.screening is not None


def test_the_second_to_confirm_is_told_it_went(offered):
    _book_offer(offered[0], 1)

    with pytest.raises(BookingError) as refused:
        _book_offer(offered[1], 2)

    assert refused.value.code == "slot_unavailable"
    assert WaitlistOffer.objects.get(pk=offered[1].pk).entry.status == WaitlistEntry.Status.WAITING


def test_an_offer_books_once(offered):
    _book_offer(offered[0], 1)

    with pytest.raises(BookingError) as refused:
        _book_offer(offered[0], 1)

    assert refused.value.code == "offer_used"


def test_an_offer_to_someone_who_left_is_closed(offered):
    leave_waitlist(entry=offered[0].entry)

    with pytest.raises(BookingError) as refused:
        _book_offer(offered[0], 1)

    assert refused.value.code == "offer_closed"


def test_red_flags_on_an_offer_book_nothing(offered):
    from patients.services import ScreeningAnswers

    with pytest.raises(BookingError) as refused:
        book_offered_time(
            offer=offered[0],
            patient_details=patient_details(1),
            screening=ScreeningAnswers(red_flags=frozenset({"both_legs"})),
            consent_given=True,
            consent_version=None,
        )

    assert refused.value.code == "urgent_care"
    assert WaitlistOffer.objects.get(pk=offered[0].pk).booked_appointment is None

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from booking.models import Appointment
from booking.services import BookingError
from patients.models import Patient, Screening
from patients.services import ScreeningAnswers
from tests.factories import AppointmentFactory
from tests.helpers import book, race


@pytest.mark.django_db
class TestBookAppointment:
    def test_books_the_slot_with_screening_and_consent(self, dry_needling, westerville, physio, open_all_week, ten_am):
        screening = ScreeningAnswers(blood_thinners=True, needle_fear=True, other_conditions="Asthma")
        appointment = book(dry_needling, westerville, ten_am, practitioner=physio, screening=screening)
        assert appointment.status == "confirmed"
        assert appointment.source == "online"
        assert (appointment.start, appointment.end) == (ten_am, ten_am + timedelta(minutes=60))
        assert appointment.blocked_until == appointment.end + timedelta(minutes=15)
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{4}", appointment.reference)
        assert len(appointment.manage_token) >= 43  # 256 bits, URL-safe base64
        assert appointment.consent.version == "1"
        assert appointment.screening.flags == ["Blood thinners", "Needle fear"]
        assert appointment.screening.other_conditions == "Asthma"

    def test_the_same_slot_twice_is_refused_kindly(self, dry_needling, westerville, physio, open_all_week, ten_am):
        book(dry_needling, westerville, ten_am, practitioner=physio)
        with pytest.raises(BookingError) as error:
            book(dry_needling, westerville, ten_am + timedelta(minutes=30), practitioner=physio, n=1)
        assert error.value.code == "slot_unavailable"
        assert "just taken" in error.value.message

    def test_any_practitioner_assigns_a_qualified_one(self, dry_needling, acupuncture, westerville, physio,
                                                      acupuncturist, open_all_week, ten_am):  # fmt: skip
        assert book(dry_needling, westerville, ten_am).practitioner == physio
        assert book(acupuncture, westerville, ten_am, n=1).practitioner == acupuncturist
        with pytest.raises(BookingError, match="just taken"):
            book(dry_needling, westerville, ten_am, n=2)

    def test_an_unqualified_practitioner_cannot_be_booked(
        self, acupuncture, westerville, physio, open_all_week, ten_am
    ):
        with pytest.raises(BookingError) as error:
            book(acupuncture, westerville, ten_am, practitioner=physio)
        assert error.value.code == "slot_unavailable"

    def test_a_red_flag_books_nothing_and_keeps_no_health_detail(self, dry_needling, westerville, open_all_week,
                                                                 ten_am):  # fmt: skip
        flagged = ScreeningAnswers(red_flags=frozenset({"bladder_bowel"}), pregnant=True)
        with pytest.raises(BookingError) as error:
            book(dry_needling, westerville, ten_am, screening=flagged)
        assert error.value.code == "urgent_care"
        assert (Appointment.objects.count(), Screening.objects.count(), Patient.objects.count()) == (0, 0, 0)

    def test_without_consent_nothing_is_booked(self, dry_needling, westerville, open_all_week, ten_am):
        with pytest.raises(BookingError) as error:
            book(dry_needling, westerville, ten_am, consent=False)
        assert error.value.code == "consent_required"
        assert Appointment.objects.count() == 0

    def test_follow_ups_are_for_returning_patients(self, dry_needling, acupuncture, westerville, open_all_week,
                                                   ten_am):  # fmt: skip
        acupuncture.who_can_book = "returning"
        acupuncture.save()
        with pytest.raises(BookingError) as error:
            book(acupuncture, westerville, ten_am + timedelta(days=7))
        assert error.value.code == "initial_assessment_required"
        assert "initial assessment first" in error.value.message
        book(dry_needling, westerville, ten_am)  # the first visit, a week earlier
        follow_up = book(acupuncture, westerville, ten_am + timedelta(days=7))
        assert follow_up.patient == Appointment.objects.earliest("start").patient

    def test_a_returning_patient_is_recognised_by_email_and_birthday(self, dry_needling, westerville, open_all_week,
                                                                     ten_am):  # fmt: skip
        first = book(dry_needling, westerville, ten_am, email="Ada@Example.com")
        again = book(dry_needling, westerville, ten_am + timedelta(days=1), email="ada@example.com", first_name="Eve")
        assert again.patient == first.patient
        assert again.patient.first_name == "Ada"  # a public form cannot rename an existing patient


@pytest.mark.django_db
class TestNoOverlapConstraint:
    """The database refuses double bookings written behind the service's back."""

    def test_overlapping_live_appointments_of_one_practitioner_are_rejected(self, physio, westerville, dry_needling):
        first = AppointmentFactory(practitioner=physio, location=westerville, service=dry_needling)
        with pytest.raises(IntegrityError, match="appointment_no_overlap_per_practitioner"), transaction.atomic():
            AppointmentFactory(practitioner=physio, start=first.start + timedelta(minutes=50))  # inside the buffer

    def test_back_to_back_after_the_buffer_is_fine(self, physio):
        first = AppointmentFactory(practitioner=physio)
        AppointmentFactory(practitioner=physio, start=first.blocked_until)

    def test_cancelled_and_no_show_appointments_free_the_time(self, physio):
        cancelled = AppointmentFactory(practitioner=physio, status="cancelled")
        no_show = AppointmentFactory(practitioner=physio, status="no_show", start=cancelled.start)
        AppointmentFactory(practitioner=physio, start=no_show.start)
        with pytest.raises(IntegrityError), transaction.atomic():
            Appointment.objects.filter(pk=cancelled.pk).update(status="confirmed")

    def test_other_practitioners_may_overlap(self, physio, acupuncturist):
        first = AppointmentFactory(practitioner=physio)
        AppointmentFactory(practitioner=acupuncturist, start=first.start)

    def test_start_must_be_before_end(self, physio):
        appointment = AppointmentFactory(practitioner=physio)
        with pytest.raises(IntegrityError, match="appointment_start_before_end"), transaction.atomic():
            Appointment.objects.filter(pk=appointment.pk).update(end=appointment.start)


@pytest.mark.django_db(transaction=True)
def test_twenty_patients_race_for_one_slot_and_exactly_one_wins(dry_needling, westerville, physio, open_all_week,
                                                                 ten_am):  # fmt: skip
    results = race(20, lambda i: book(dry_needling, westerville, ten_am, practitioner=physio, n=i))
    winners = [result for result in results if isinstance(result, Appointment)]
    losers = [result for result in results if isinstance(result, BookingError)]
    assert len(winners) == 1
    assert len(losers) == 19 and {error.code for error in losers} == {"slot_unavailable"}
    assert Appointment.objects.live().filter(practitioner=physio).count() == 1


@pytest.mark.django_db(transaction=True)
def test_any_practitioner_race_never_over_assigns(acupuncture, westerville, physio, acupuncturist, open_all_week,
                                                  ten_am):  # fmt: skip
    physio.qualifications.create(service=acupuncture)  # now two practitioners can take the slot
    results = race(20, lambda i: book(acupuncture, westerville, ten_am, n=i))
    winners = [result for result in results if isinstance(result, Appointment)]
    assert len(winners) == 2
    assert {winner.practitioner_id for winner in winners} == {physio.pk, acupuncturist.pk}
    assert Appointment.objects.live().count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_commits_while_a_booking_holds_the_practitioner(
    dry_needling, westerville, physio, open_all_week, ten_am, monkeypatch
):
    """make cluster found it: a cancellation (its trigger writes the freed time, whose foreign
    key to the practitioner is checked at COMMIT) waited for a booking holding the
    practitioner's lock, while the booking waited for the cancellation's schedule stamp: a
    deadlock. The practitioner is locked FOR NO KEY UPDATE, which a key check does not wait for."""
    import threading

    from django.db import connection

    import booking.services
    from booking.services import cancel_appointment

    earlier = book(dry_needling, westerville, ten_am + timedelta(hours=3), practitioner=physio, n=1)
    real_slot_at = booking.services.slot_at
    locked, release = threading.Event(), threading.Event()

    def slot_at_then_wait(*args, **kwargs):
        chosen = real_slot_at(*args, **kwargs)
        locked.set()  # the practitioner's row is locked, the appointment not yet written
        release.wait(timeout=20)
        return chosen

    monkeypatch.setattr(booking.services, "slot_at", slot_at_then_wait)
    outcome: dict = {}

    def booking_thread():
        try:
            outcome["booked"] = book(dry_needling, westerville, ten_am, practitioner=physio, n=2)
        except Exception as error:
            outcome["booked"] = error
        finally:
            connection.close()

    def cancelling_thread():
        try:
            outcome["cancelled"] = cancel_appointment(appointment=earlier, reason="", actor=None)
        except Exception as error:
            outcome["cancelled"] = error
        finally:
            connection.close()

    booker = threading.Thread(target=booking_thread)
    booker.start()
    assert locked.wait(timeout=20)
    canceller = threading.Thread(target=cancelling_thread)
    canceller.start()
    canceller.join(timeout=5)
    committed_meanwhile = not canceller.is_alive()
    release.set()
    booker.join(timeout=30)
    canceller.join(timeout=30)
    assert committed_meanwhile, "the cancellation waited for the booking's lock"
    assert isinstance(outcome["cancelled"], Appointment), outcome["cancelled"]
    assert isinstance(outcome["booked"], Appointment), outcome["booked"]
    assert Appointment.objects.get(pk=earlier.pk).status == Appointment.Status.CANCELLED

"""Shared test helpers: booking through the real service, and racing real connections."""

import itertools
import os
import threading
from datetime import date, time, timedelta

from django.core.management import call_command
from django.db import connection

from booking.availability import local_instant
from booking.services import BookingError, book_appointment
from patients.services import ScreeningAnswers
from tests.factories import patient_details

NO_FLAGS = ScreeningAnswers()


def book(service, location, start, *, practitioner=None, n=0, screening=NO_FLAGS, consent=True, **details):
    """book_appointment for patient number n (patient_details(n, **details))."""
    return book_appointment(
        service=service,
        location=location,
        practitioner=practitioner,
        start=start,
        patient_details=patient_details(n, **details),
        screening=screening,
        consent_given=consent,
    )


class Bookings:
    """Bookings on demand for tests that run many examples in one transaction (the fuzz tests).

    Start times run from `first_day`, four a day two hours apart (room for a visit of up to 90
    minutes and its buffer inside 9-17 working hours), for `days` days; then they come round
    again, so later requests for a time meet taken ones. A booking that cannot be made then hands
    out an earlier one again, whatever has happened to it since (cancelled, moved)."""

    def __init__(self, *, service, location, practitioner, first_day: date, days: int = 50):
        self.service, self.location, self.practitioner = service, location, practitioner
        self.first_day, self.days = first_day, days
        self._slots = itertools.count()
        self._reused = itertools.count()
        self.made: list = []

    def next_start(self):
        slot = next(self._slots)
        day = self.first_day + timedelta(days=slot // 4 % self.days)
        return local_instant(day, time(9 + 2 * (slot % 4)), self.location.zone)

    def fresh(self):
        try:
            appointment = book(
                self.service, self.location, self.next_start(), practitioner=self.practitioner, n=len(self.made)
            )
        except BookingError:
            return self.made[next(self._reused) % len(self.made)]
        self.made.append(appointment)
        return appointment


def race(attempts: int, attempt) -> list:
    """Run attempt(i) on `attempts` threads, each with its own database connection, released
    together. A BookingError is returned in place of a result."""
    barrier = threading.Barrier(attempts)
    results: list = [None] * attempts

    def worker(index):
        try:
            barrier.wait(timeout=30)
            results[index] = attempt(index)
        except BookingError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def worker_round() -> None:
    """One round of the email worker (send_due_notifications without --loop), quietly."""
    with open(os.devnull, "w") as quiet:
        call_command("send_due_notifications", stdout=quiet)

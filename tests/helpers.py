"""Shared test helpers: booking through the real service, and racing real connections."""

import threading

from django.db import connection

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

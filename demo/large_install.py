"""A large install for measuring (issue 18): by default 100 practitioners across 20 locations in
6 time zones, 40,000 patients, 12 months of history and 2 months ahead, about 150,000
appointments. On top of the demo clinic's catalogue (its services and consent text), as bulk
rows with a fixed random seed, so two runs build the same install.

Every practitioner works Monday to Friday, 09:00-17:00 at their own location; about two in
three of the hourly starts are booked (services of at most an hour with their buffer, so the
bookings never overlap, which the exclusion constraints would refuse anyway); a patient is
never in two places at once. Past visits are mostly completed, some no-shows and
cancellations; coming ones confirmed, some cancelled.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from booking.availability import local_instant
from booking.models import Appointment, WorkingHours, new_reference
from clinic.models import Location, Practitioner, PractitionerService, Service
from patients.models import ConsentText, Patient

SEED = 18
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Edmonton",
]
HOURLY_STARTS = [time(9), time(10), time(11), time(13), time(14), time(15), time(16)]
SLUG_PREFIX = "large-"


@dataclass(frozen=True)
class LargeInstall:
    practitioners: int = 100
    locations: int = 20
    patients: int = 40_000
    days_back: int = 365
    days_ahead: int = 61


def seed_large_install(size: LargeInstall, *, today: date | None = None) -> dict[str, int]:
    """Create the large install; refuses to run twice on one database (its slugs exist)."""
    rng = random.Random(SEED)
    if Location.objects.filter(slug__startswith=SLUG_PREFIX).exists():
        raise ValueError("This database already holds the large install.")
    consent = ConsentText.objects.latest()
    # At most an hour with the buffer: hourly starts never overlap.
    services = [
        service
        for service in Service.objects.active().filter(kind=Service.Kind.TREATMENT)
        if service.duration_minutes + service.buffer_after_minutes <= 60
    ]
    if not services:
        raise ValueError("Seed the demo clinic first (make run, or manage.py seed_demo): its services are used.")
    with transaction.atomic():
        locations = Location.objects.bulk_create(
            Location(
                name=f"Large clinic {number + 1}",
                slug=f"{SLUG_PREFIX}clinic-{number + 1}",
                address=f"{100 + number} Main Street",
                phone=f"+1614555{1000 + number:04d}",
                timezone=ZONES[number % len(ZONES)],
                town=f"Town {number + 1}",
            )
            for number in range(size.locations)
        )
        practitioners = Practitioner.objects.bulk_create(
            Practitioner(
                name=f"Practitioner {number + 1:03d}",
                slug=f"{SLUG_PREFIX}practitioner-{number + 1}",
                title="Physiotherapist",
                display_order=number,
            )
            for number in range(size.practitioners)
        )
        home = {
            practitioner.pk: locations[number % len(locations)] for number, practitioner in enumerate(practitioners)
        }
        Practitioner.locations.through.objects.bulk_create(
            Practitioner.locations.through(practitioner_id=practitioner.pk, location_id=home[practitioner.pk].pk)
            for practitioner in practitioners
        )
        PractitionerService.objects.bulk_create(
            PractitionerService(practitioner=practitioner, service=service)
            for practitioner in practitioners
            for service in services
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(
                practitioner=practitioner,
                location=home[practitioner.pk],
                weekday=weekday,
                start_time=time(9),
                end_time=time(17),
            )
            for practitioner in practitioners
            for weekday in range(5)
        )
        patients = Patient.objects.bulk_create(
            (
                Patient(
                    first_name=f"Patient{number}",
                    last_name=rng.choice(["Abara", "Brooks", "Chen", "Diaz", "Evans", "Fischer", "Gupta", "Ito"]),
                    email=f"large{number}@example.com",
                    phone=f"+1614{2000000 + number:07d}",
                    date_of_birth=date(1940 + rng.randrange(65), rng.randrange(1, 13), rng.randrange(1, 29)),
                )
                for number in range(size.patients)
            ),
            batch_size=2000,
        )
        appointments = _appointments(size, rng, practitioners, home, services, patients, consent, today)
        # In the order they were booked, as a clinic's rows arrive: not one practitioner's year
        # after another's, which would make every practitioner index look perfectly ordered.
        appointments.sort(key=lambda appointment: appointment.consented_at)
        _unique_references(appointments)
        Appointment.objects.bulk_create(appointments, batch_size=2000)
    return {
        "locations": len(locations),
        "practitioners": len(practitioners),
        "patients": len(patients),
        "appointments": len(appointments),
    }


def _unique_references(appointments: list[Appointment]) -> None:
    """Short references drawn at random meet among 150,000 (booking retries one that is taken;
    a bulk insert cannot): draw again until every one is new."""
    taken = set(Appointment.objects.values_list("reference", flat=True))
    for appointment in appointments:
        while appointment.reference in taken:
            appointment.reference = new_reference()
        taken.add(appointment.reference)


def _appointments(size, rng, practitioners, home, services, patients, consent, today) -> list[Appointment]:
    now = timezone.now()
    busy_patients: set[tuple[int, datetime]] = set()  # (patient, start): every start is on the hour
    rows = []
    for practitioner in practitioners:
        location = home[practitioner.pk]
        zone = location.zone
        local_today = today or timezone.localdate(now, zone)
        for offset in range(-size.days_back, size.days_ahead + 1):
            day = local_today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for start_time in HOURLY_STARTS:
                if rng.random() >= 0.7:
                    continue
                start = local_instant(day, start_time, zone)
                service = rng.choice(services)
                end = start + timedelta(minutes=service.duration_minutes)
                patient = rng.choice(patients)
                while (patient.pk, start) in busy_patients:
                    patient = rng.choice(patients)
                busy_patients.add((patient.pk, start))
                if start < now:
                    status = rng.choices(["completed", "no_show", "cancelled"], weights=[80, 8, 12])[0]
                else:
                    status = rng.choices(["confirmed", "cancelled"], weights=[90, 10])[0]
                rows.append(
                    Appointment(
                        patient=patient,
                        practitioner=practitioner,
                        location=location,
                        service=service,
                        start=start,
                        end=end,
                        blocked_until=end + timedelta(minutes=service.buffer_after_minutes),
                        status=status,
                        cancelled_at=start - timedelta(days=1) if status == "cancelled" else None,
                        source=rng.choices(["online", "phone", "walk_in"], weights=[6, 3, 1])[0],
                        consent=consent,
                        consented_at=start - timedelta(days=rng.randrange(1, 30)),
                    )
                )
    return rows

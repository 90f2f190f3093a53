"""The demo clinic: idempotent, so `make run` can load it on every start."""

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from booking.availability import available_slots
from booking.models import Appointment, WorkingHours
from booking.services import BookingError, book_appointment
from clinic.models import Condition, Location, Practitioner, PractitionerService, Service
from clinic.roles import PRACTITIONER_GROUP, RECEPTION_GROUP
from demo import content as demo_content
from patients.services import PatientDetails, ScreeningAnswers

DEMO_PASSWORD = "demo"  # noqa: S105 - the demo's published password; seed_demo refuses to run outside DEBUG


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str


@transaction.atomic
def seed_demo_clinic() -> list[DemoLogin]:
    locations = {
        row["slug"]: Location.objects.update_or_create(
            slug=row["slug"], defaults={key: value for key, value in row.items() if key != "slug"}
        )[0]
        for row in demo_content.LOCATIONS
    }
    services = {
        row["slug"]: Service.objects.update_or_create(
            slug=row["slug"],
            defaults={key: value for key, value in row.items() if key not in {"slug", "follow_up_service"}},
        )[0]
        for row in demo_content.SERVICES
    }
    # Once all exist: a follow-up is named by its slug. Without one, follow-ups are the same service.
    for row in demo_content.SERVICES:
        service = services[row["slug"]]
        service.follow_up_service = services.get(row.get("follow_up_service", ""))
        service.save(update_fields=["follow_up_service"])
    for row in demo_content.CONDITIONS:
        fields = {key: value for key, value in row.items() if key not in {"slug", "related_services"}}
        condition, _ = Condition.objects.update_or_create(slug=row["slug"], defaults=fields)
        condition.related_services.set([services[slug] for slug in row["related_services"]])

    logins = [
        DemoLogin("admin", "superuser"),
        DemoLogin("reception", "receptionist (group Reception)"),
    ]
    _demo_user("admin", is_staff=True, is_superuser=True)
    _demo_user("reception", is_staff=True, group=RECEPTION_GROUP, first_name="Rita", last_name="Reception")

    for row in demo_content.PRACTITIONERS:
        first_name, _, last_name = row["name"].replace("Dr. ", "").partition(" ")
        user = _demo_user(row["username"], group=PRACTITIONER_GROUP, first_name=first_name, last_name=last_name)
        fields = {
            key: value
            for key, value in row.items()
            if key not in {"slug", "services", "locations", "username", "takes_phone_calls"}
        }
        practitioner, _ = Practitioner.objects.update_or_create(slug=row["slug"], defaults={**fields, "user": user})
        by_phone = locations["by-phone"] if row.get("takes_phone_calls") else None
        practitioner.locations.set([locations[slug] for slug in row["locations"]] + ([by_phone] if by_phone else []))
        wanted = {services[slug].pk for slug in row["services"]}
        PractitionerService.objects.filter(practitioner=practitioner).exclude(service_id__in=wanted).delete()
        PractitionerService.objects.bulk_create(
            [PractitionerService(practitioner=practitioner, service_id=service_id) for service_id in wanted],
            ignore_conflicts=True,
        )
        _demo_working_hours(practitioner, [locations[slug] for slug in row["locations"]], by_phone=by_phone)
        logins.append(DemoLogin(row["username"], f"{row['name']}, {row['title']} (group Practitioner)"))
    return logins


def _demo_working_hours(practitioner: Practitioner, locations: list[Location], *, by_phone: Location | None) -> None:
    """Weekdays 09:00-12:30 and 13:30-17:00; someone at two places splits the week between them.
    Phone calls fit around clinic hours only on days spent in the phone line's own time zone."""
    WorkingHours.objects.filter(practitioner=practitioner).delete()
    for weekday in range(5):
        location = locations[weekday % len(locations)]
        for start, end in (("09:00", "12:30"), ("13:30", "17:00")):
            WorkingHours.objects.create(
                practitioner=practitioner, location=location, weekday=weekday, start_time=start, end_time=end
            )
        if by_phone is not None and location.timezone == by_phone.timezone:
            for start, end in demo_content.PHONE_CALL_HOURS:
                WorkingHours.objects.create(
                    practitioner=practitioner, location=by_phone, weekday=weekday, start_time=start, end_time=end
                )


def _demo_user(username: str, *, group: str | None = None, is_staff=False, is_superuser=False, **names):
    user, _ = get_user_model().objects.update_or_create(
        username=username,
        defaults={"is_staff": is_staff, "is_superuser": is_superuser, "email": f"{username}@example.com", **names},
    )
    user.set_password(DEMO_PASSWORD)
    user.save(update_fields=["password"])
    if group:
        user.groups.set([Group.objects.get(name=group)])
    return user


# Made-up patients so the day sheet and the practitioners' schedules have something to show.
# Emails are on example.com (RFC 2606): nothing is ever delivered to a real person.
DEMO_BOOKINGS: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
    ("Grace", "Whitfield", "1968-04-02", "dry-needling-initial-assessment", "westerville", {"blood_thinners": True}),
    ("Tomás", "Ibarra", "1985-11-19", "dry-needling-initial-assessment", "westerville", {"needle_fear": True}),
    ("Leila", "Haddad", "1992-07-08", "acupuncture-initial-consultation", "westerville", {"pregnant": True}),
    ("Owen", "McAllister", "1957-01-25", "cupping", "calgary", {}),
    ("Priya", "Raman", "1979-09-30", "acupuncture-initial-consultation", "calgary", {"bleeding_disorder": True}),
    ("Sam", "Okonjo", "1990-03-14", "free-discovery-call", "by-phone", {}),
]
DEMO_PATIENT_EMAIL = "{first}.{last}@example.com"


def seed_demo_bookings() -> int:
    """Book the demo patients into the next free times, through book_appointment like any
    booking; only when none of them has an upcoming appointment, so restarts add nothing."""
    # Tomás's address without the accent: a non-ASCII local part is refused at entry (clinic.email_addresses).
    emails = [
        DEMO_PATIENT_EMAIL.format(first=_ascii(first.lower()), last=_ascii(last.lower()))
        for first, last, *_ in DEMO_BOOKINGS
    ]
    now = timezone.now()
    if Appointment.objects.live().filter(patient__email__in=emails, start__gt=now).exists():
        return 0
    booked = 0
    for (first, last, born, service_slug, location_slug, flags), email in zip(DEMO_BOOKINGS, emails, strict=True):
        service, location = Service.objects.get(slug=service_slug), Location.objects.get(slug=location_slug)
        today = timezone.localtime(now, location.zone).date()
        slots = available_slots(
            service=service,
            location=location,
            practitioner=None,
            first_day=today,
            last_day=today + timedelta(days=13),
            now=now,
        )
        for slot in slots[booked * 4 :][:3]:  # a few free times apart from the previous patient's; 3 tries
            try:
                book_appointment(
                    service=service,
                    location=location,
                    practitioner=None,
                    start=slot.start,
                    patient_details=PatientDetails(first, last, email, "+16145550100", date.fromisoformat(born)),
                    screening=ScreeningAnswers(**flags),
                    consent_given=True,
                    source=Appointment.Source.PHONE,
                    now=now,
                )
            except BookingError:
                continue
            booked += 1
            break
    return booked


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()

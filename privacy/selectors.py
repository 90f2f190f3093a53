"""Reads for the patient record's admin: the list with each patient's visits."""

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, OuterRef, QuerySet, Subquery

from booking.models import Appointment
from patients.models import Patient

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

VISITED_STATUSES = [Appointment.Status.ARRIVED, Appointment.Status.COMPLETED]


class LastAndNextVisit(TypedDict):
    # None when there is no such appointment.
    last_visit_start: datetime | None
    last_visit_timezone: str | None
    next_appointment_start: datetime | None
    next_appointment_timezone: str | None


if TYPE_CHECKING:
    PatientWithVisits = WithAnnotations[Patient, LastAndNextVisit]


def with_last_and_next_visit(patients: QuerySet[Patient], *, now: datetime) -> "QuerySet[PatientWithVisits]":
    """Each patient's last visit and next appointment, as start instants and their locations'
    time zones (for showing local times), in the one query that lists the patients."""
    appointments = Appointment.objects.filter(patient=OuterRef("pk"))
    last_visit = appointments.filter(status__in=VISITED_STATUSES, start__lte=now).order_by("-start")
    next_appointment = appointments.filter(status=Appointment.Status.CONFIRMED, start__gt=now).order_by("start")
    return patients.annotate(
        last_visit_start=Subquery(last_visit.values("start")[:1]),
        last_visit_timezone=Subquery(last_visit.values("location__timezone")[:1]),
        next_appointment_start=Subquery(next_appointment.values("start")[:1]),
        next_appointment_timezone=Subquery(next_appointment.values("location__timezone")[:1]),
    )


def with_appointment_count(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    return patients.annotate(appointment_count=Count("appointments"))

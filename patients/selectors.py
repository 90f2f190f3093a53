"""Reads of patient records for the receptionist: lists with visits, screenings, merges."""

from datetime import datetime

from django.db.models import Count, OuterRef, QuerySet, Subquery

from booking.models import Appointment
from patients.models import MERGED_INTO_REASON, Patient, Screening

VISITED_STATUSES = [Appointment.Status.ARRIVED, Appointment.Status.COMPLETED]


def with_last_and_next_visit(patients: QuerySet[Patient], *, now: datetime) -> QuerySet[Patient]:
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


def screenings_of(patient: Patient) -> QuerySet[Screening]:
    """The patient's screening answers, newest appointment first, with what shows their date."""
    return (
        Screening.objects.filter(appointment__patient=patient)
        .select_related("appointment__location")
        .order_by("-appointment__start")
    )


def records_merged_into(patient: Patient) -> list[int]:
    """Ids of the duplicate records merged into this patient; their history stays viewable."""
    return list(
        Patient.history.filter(history_type="-", history_change_reason=MERGED_INTO_REASON.format(pk=patient.pk))
        .order_by("id")
        .values_list("id", flat=True)
    )

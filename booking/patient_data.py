"""The appointments' part of a patient's export and anonymisation (patients/patient_data.py):
their visits with screening answers and series, and the appointments' history."""

from typing import Any

from django.utils import timezone

from booking.models import Appointment, TreatmentSeries, new_manage_token
from patients.models import Patient, Screening
from patients.patient_data import Anonymisation, Exported, Forgotten, history_meta, iso
from patients.services import SAFETY_QUESTIONS, ScreeningAnswers

MODELS = (Appointment, Screening, TreatmentSeries)


def export(patient: Patient) -> Exported:
    appointments = list(
        Appointment.objects.filter(patient=patient)
        .select_related("service", "practitioner", "location", "consent", "series__service", "screening")
        .order_by("start", "pk")
    )
    history = (
        Appointment.history.filter(id__in=[appointment.pk for appointment in appointments])
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    return Exported(
        sections={"appointments": [_exported(appointment) for appointment in appointments]},
        history={
            "appointments": [
                {
                    **history_meta(row),
                    "reference": row.reference,
                    "start_utc": iso(row.start),
                    "end_utc": iso(row.end),
                    "status": row.status,
                    "cancellation_reason": row.cancellation_reason,
                    "practitioner_id": row.practitioner_id,
                    "location_id": row.location_id,
                    "service_id": row.service_id,
                }
                for row in history
            ]
        },
    )


def _exported(appointment: Appointment) -> dict[str, Any]:
    zone = appointment.location.zone
    series = appointment.series
    screening = getattr(appointment, "screening", None)
    return {
        "reference": appointment.reference,
        "service": appointment.service.name,
        "practitioner": appointment.practitioner.name,
        "location": appointment.location.name,
        "time_zone": appointment.location.timezone,
        "start_local": timezone.localtime(appointment.start, zone).isoformat(),
        "end_local": timezone.localtime(appointment.end, zone).isoformat(),
        "start_utc": iso(appointment.start),
        "end_utc": iso(appointment.end),
        "status": appointment.status,
        "source": appointment.source,
        "cancellation_reason": appointment.cancellation_reason,
        "cancelled_at": iso(appointment.cancelled_at),
        "consent_version": appointment.consent.version if appointment.consent else None,
        "consented_at": iso(appointment.consented_at),
        # A discovery call's: what the caller wrote, and the clock they were told its time on.
        "concern": appointment.concern,
        "caller_time_zone": appointment.caller_timezone,
        "confirmation_sent_at": iso(appointment.confirmation_sent_at),
        "reminder_sent_at": iso(appointment.reminder_sent_at),
        "aftercare_sent_at": iso(appointment.aftercare_sent_at),
        "created_at": iso(appointment.created_at),
        "treatment_series": None
        if series is None
        else {
            "service": series.service.name,
            "interval_weeks": series.interval_weeks,
            "sessions_requested": series.sessions_requested,
            "session": appointment.series_session,
        },
        "screening": None
        if screening is None
        else {
            **{name: getattr(screening, name) for name in SAFETY_QUESTIONS},
            "created_at": iso(screening.created_at),
        },
    }


def refusal(anonymisation: Anonymisation) -> str | None:
    """Not while an appointment is still to come: it would arrive at the desk as "Anonymised",
    its emails going nowhere."""
    upcoming = list(
        Appointment.objects.live()
        .filter(patient=anonymisation.patient, end__gt=anonymisation.now)
        .order_by("start")
        .values_list("reference", flat=True)
    )
    if upcoming:
        return "This patient still has appointments to come ({}). Cancel them first, then anonymise.".format(
            ", ".join(upcoming)
        )
    return None


def anonymise(anonymisation: Anonymisation) -> Forgotten:
    """Keeps every appointment (the clinic's treatment record); clears its free text (a
    cancellation reason, a discovery call's concern) and every screening answer, and gives it
    a new manage token."""
    patient = anonymisation.patient
    appointments = list(Appointment.objects.select_for_update().filter(patient=patient))
    for appointment in appointments:
        appointment.manage_token = new_manage_token()
        appointment.cancellation_reason = ""
        appointment.concern = ""
    Appointment.objects.bulk_update(appointments, ["manage_token", "cancellation_reason", "concern"])
    appointment_ids = [appointment.pk for appointment in appointments]
    Appointment.history.filter(id__in=appointment_ids).update(cancellation_reason="", concern="")
    Screening.objects.filter(appointment_id__in=appointment_ids).update(**ScreeningAnswers().stored())
    series_ids = list(TreatmentSeries.objects.filter(source_appointment__patient=patient).values_list("pk", flat=True))
    return {Appointment: appointment_ids, TreatmentSeries: series_ids}

"""Reads of patient records: their screenings, the records merged into them."""

from django.db.models import QuerySet

from patients.models import MERGED_INTO_REASON, Patient, Screening


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

"""The call-back requests' part of a patient's export and anonymisation
(patients/patient_data.py): requests linked to the patient or sent with their email or phone,
with their call attempts."""

from typing import Any

from django.db.models import Q

from discovery.models import CallAttempt, DiscoveryCallRequest
from patients.models import Patient
from patients.patient_data import ANONYMISED_NAME, Anonymisation, Exported, Forgotten, e164, iso, scrub_admin_log

MODELS = (DiscoveryCallRequest, CallAttempt)


def _requests_of(patient: Patient) -> Q:
    match = Q(patient=patient) | Q(email__iexact=patient.email)
    if patient.phone:
        match |= Q(phone=patient.phone)
    return match


def export(patient: Patient) -> Exported:
    requests = (
        DiscoveryCallRequest.objects.filter(_requests_of(patient))
        .prefetch_related("conditions", "attempts")
        .order_by("created_at", "pk")
    )
    return Exported(sections={"call_back_requests": [_exported(request) for request in requests]})


def _exported(request: DiscoveryCallRequest) -> dict[str, Any]:
    return {
        "reference": request.reference,
        "name": request.name,
        "email": request.email,
        "phone": e164(request.phone),
        "best_time": request.best_time,
        "caller_timezone": request.caller_timezone,
        "concern": request.concern,
        "conditions": sorted(condition.name for condition in request.conditions.all()),
        "heard_about": request.heard_about,
        "heard_about_other": request.heard_about_other,
        "consent_to_contact": request.consent_to_contact,
        "consented_at": iso(request.consented_at),
        "status": request.status,
        "created_at": iso(request.created_at),
        "call_attempts": [
            {"attempted_at": iso(attempt.attempted_at), "outcome": attempt.outcome, "note": attempt.note}
            for attempt in request.attempts.all()
        ],
    }


def refusal(anonymisation: Anonymisation) -> str | None:
    return None  # nothing here keeps a person from being anonymised


def anonymise(anonymisation: Anonymisation) -> Forgotten:
    """Name, email, phone, concern, conditions, "heard of us elsewhere" and call notes go,
    in the rows and in their history."""
    request_ids = list(
        DiscoveryCallRequest.objects.filter(_requests_of(anonymisation.patient)).values_list("pk", flat=True)
    )
    scrubbed = {
        "name": ANONYMISED_NAME,
        "email": anonymisation.placeholder["email"],
        "phone": "",
        "concern": "",
        "heard_about_other": "",
    }
    DiscoveryCallRequest.objects.filter(pk__in=request_ids).update(**scrubbed, updated_at=anonymisation.now)
    DiscoveryCallRequest.history.filter(id__in=request_ids).update(**scrubbed)
    DiscoveryCallRequest.conditions.through.objects.filter(discoverycallrequest_id__in=request_ids).delete()
    CallAttempt.objects.filter(request_id__in=request_ids).update(note="")
    CallAttempt.history.filter(request_id__in=request_ids).update(note="")
    scrub_admin_log(
        DiscoveryCallRequest,
        {
            pk: f"{reference} {ANONYMISED_NAME}"
            for pk, reference in DiscoveryCallRequest.objects.filter(pk__in=request_ids).values_list("pk", "reference")
        },
    )
    return {DiscoveryCallRequest: request_ids}

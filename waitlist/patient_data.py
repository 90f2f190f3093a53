"""The waiting list's part of a patient's export and anonymisation (patients/patient_data.py):
the places sent with their email, and the times offered to them."""

from typing import Any

from patients.models import Patient
from patients.patient_data import ANONYMISED_NAME, Anonymisation, Exported, Forgotten, e164, iso
from waitlist.models import WaitlistEntry, WaitlistOffer, new_token

MODELS = (WaitlistEntry, WaitlistOffer)


def export(patient: Patient) -> Exported:
    places = (
        WaitlistEntry.objects.filter(email__iexact=patient.email)
        .select_related("service", "location", "practitioner")
        .prefetch_related("offers__practitioner", "offers__location", "offers__booked_appointment")
        .order_by("created_at", "pk")
    )
    return Exported(sections={"waiting_list": [_exported(place) for place in places]})


def _exported(entry: WaitlistEntry) -> dict[str, Any]:
    return {
        "service": entry.service.name,
        "location": entry.location.name,
        "practitioner": entry.practitioner.name if entry.practitioner else None,
        "first_day": iso(entry.first_day),
        "last_day": iso(entry.last_day),
        "mornings": entry.mornings,
        "afternoons": entry.afternoons,
        "evenings": entry.evenings,
        "first_name": entry.first_name,
        "last_name": entry.last_name,
        "email": entry.email,
        "phone": e164(entry.phone),
        "status": entry.status,
        "created_at": iso(entry.created_at),
        "left_at": iso(entry.left_at),
        "offers": [
            {
                "practitioner": offer.practitioner.name,
                "location": offer.location.name,
                "start_utc": iso(offer.start),
                "end_utc": iso(offer.end),
                "sent_at": iso(offer.sent_at),
                "booked_appointment": offer.booked_appointment.reference if offer.booked_appointment else None,
                "gone_at": iso(offer.gone_at),
            }
            for offer in entry.offers.all()
        ],
    }


def refusal(anonymisation: Anonymisation) -> str | None:
    return None  # nothing here keeps a person from being anonymised


def anonymise(anonymisation: Anonymisation) -> Forgotten:
    """The person leaves the list; their contact goes, in the rows and their history; every
    place's and offer's link stops working."""
    placeholder = anonymisation.placeholder
    entry_ids = list(
        WaitlistEntry.objects.filter(email__iexact=anonymisation.patient.email).values_list("pk", flat=True)
    )
    scrubbed = {
        "first_name": ANONYMISED_NAME,
        "last_name": placeholder["last_name"],
        "email": placeholder["email"],
        "phone": "",
    }
    WaitlistEntry.objects.filter(pk__in=entry_ids, status=WaitlistEntry.Status.WAITING).update(
        status=WaitlistEntry.Status.LEFT, left_at=anonymisation.now
    )
    WaitlistEntry.objects.filter(pk__in=entry_ids).update(**scrubbed)
    WaitlistEntry.history.filter(id__in=entry_ids).update(**scrubbed)
    offer_ids = list(WaitlistOffer.objects.filter(entry_id__in=entry_ids).values_list("pk", flat=True))
    # Each link its own new random token (one UPDATE per row: a person has a handful).
    for entry_id in entry_ids:
        WaitlistEntry.objects.filter(pk=entry_id).update(token=new_token())
    for offer_id in offer_ids:
        WaitlistOffer.objects.filter(pk=offer_id).update(token=new_token())
    return {WaitlistEntry: entry_ids, WaitlistOffer: offer_ids}

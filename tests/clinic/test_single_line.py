"""Names are single lines: a first name holding "\\r\\nEND:VEVENT" is refused with a field error
in the booking form and the API, the call-back and waiting-list forms, and by the database
whatever code path writes; what was typed elsewhere on the form is kept."""

import json

import pytest
from django.db import IntegrityError, transaction

from clinic.single_line import MESSAGE
from patients.models import Patient
from tests.api.test_booking import booking_payload
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

INJECTED = ["Ada\r\nEND:VEVENT\r\nBEGIN:VEVENT", "Ada\nLovelace", "Ada\tL", "Ada\u2028L", "Ada\x85L", "Ada\x1bL"]


@pytest.mark.parametrize("name", INJECTED)
def test_the_booking_form_refuses_a_name_with_a_line_break(name):
    from booking.forms import PatientDetailsForm

    form = PatientDetailsForm(data={"first_name": name, "last_name": "Lovelace", "email": "ada@example.com",
                                    "phone": "+16145550100", "date_of_birth": "1980-01-01"})  # fmt: skip
    assert not form.is_valid()
    assert form.errors["first_name"] == [MESSAGE]
    assert form["last_name"].value() == "Lovelace"


def test_ordinary_names_pass():
    from booking.forms import PatientDetailsForm

    for name in ["Zoë", "O'Brien-Smith", "José María", "李", "Nguyễn Văn"]:
        form = PatientDetailsForm(data={"first_name": name, "last_name": name, "email": "ada@example.com",
                                        "phone": "+16145550100", "date_of_birth": "1980-01-01"})  # fmt: skip
        assert form.is_valid(), (name, form.errors)


def test_the_booking_api_answers_a_field_error(client, dry_needling, westerville, physio, open_all_week, ten_am):
    body = booking_payload(dry_needling, westerville, ten_am, practitioner=physio)
    body["patient"]["last_name"] = "Lovelace\r\nEND:VEVENT"
    response = client.post("/api/v1/appointments", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert MESSAGE in json.dumps(response.json())
    assert not Patient.objects.exists()


def test_the_call_back_api_answers_a_field_error(client):
    body = {"name": "Grace\r\nHopper", "phone": "+16145550100", "email": "grace@example.com",
            "best_time": "morning", "consent_to_contact": True}  # fmt: skip
    response = client.post("/api/v1/discovery-calls", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"]["name"] == [MESSAGE]


def test_the_waiting_list_form_refuses_it(dry_needling, westerville):
    from waitlist.forms import JoinWaitlistForm

    form = JoinWaitlistForm(data={"first_name": "W\nX"}, service=dry_needling, location=westerville)
    form.is_valid()
    assert form.errors["first_name"] == [MESSAGE]


@pytest.mark.parametrize("name", INJECTED)
def test_the_database_refuses_it_whatever_writes(name):
    patient = PatientFactory()
    with pytest.raises(IntegrityError, match="patient_first_name_single_line"), transaction.atomic():
        Patient.objects.filter(pk=patient.pk).update(first_name=name)

"""An address with a non-ASCII local part (tomás@…) cannot go through the clinic's SMTP relay:
it is refused where it is typed, with a message and the rest kept; one already stored is given
up on by the worker, once, never a crash or a retry loop."""

import json
import logging

import pytest
from django.core import mail
from django.core.management import call_command

from booking.notifications import send_confirmation
from clinic.email_addresses import NON_ASCII_MESSAGE
from patients.models import Patient
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_the_booking_details_form_refuses_it_and_keeps_what_was_typed(client, dry_needling, westerville, physio,
                                                                    open_all_week, ten_am):  # fmt: skip
    from booking.forms import PatientDetailsForm

    form = PatientDetailsForm(data={"first_name": "Tomás", "last_name": "Ibarra", "email": "tomás.ibarra@example.com",
                                    "phone": "+16145550100", "date_of_birth": "1985-11-19"})  # fmt: skip
    assert not form.is_valid()
    assert form.errors["email"] == [NON_ASCII_MESSAGE]
    assert form["first_name"].value() == "Tomás"


@pytest.mark.parametrize("address", ["tomas.ibarra@example.com", "ana@bücher.example"])
def test_ascii_local_parts_pass_also_with_a_non_ascii_domain(address):
    from booking.forms import PatientDetailsForm

    form = PatientDetailsForm(data={"first_name": "T", "last_name": "I", "email": address, "phone": "+16145550100",
                                    "date_of_birth": "1985-11-19"})  # fmt: skip
    form.is_valid()
    assert "email" not in form.errors


def test_the_call_back_api_answers_a_field_error(client):
    response = client.post(
        "/api/v1/discovery-calls",
        json.dumps({"name": "Tomás Ibarra", "phone": "+16145550100", "email": "tomás@example.com",
                    "best_time": "morning", "consent_to_contact": True, "concern": "Back pain"}),
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["errors"]["email"] == [NON_ASCII_MESSAGE]


def test_the_waiting_list_form_refuses_it(dry_needling, westerville):
    from waitlist.forms import JoinWaitlistForm

    form = JoinWaitlistForm(data={"email": "josé@example.com"}, service=dry_needling, location=westerville)
    form.is_valid()
    assert form.errors["email"] == [NON_ASCII_MESSAGE]


def test_a_plainly_wrong_address_still_gets_djangos_message():
    from booking.forms import PatientDetailsForm

    form = PatientDetailsForm(data={"email": "not an address"})
    form.is_valid()
    assert form.errors["email"] == ["Enter a valid email address."]


def test_a_stored_address_is_given_up_on_once_without_a_crash(physio, caplog):
    patient = PatientFactory()
    Patient.objects.filter(pk=patient.pk).update(email="tomás.ibarra@example.com")  # behind the forms' back
    appointment = AppointmentFactory(practitioner=physio, patient=patient)
    with caplog.at_level(logging.ERROR, logger="booking.notifications"):
        call_command("send_due_notifications")
        call_command("send_due_notifications")
    assert mail.outbox == []
    assert send_confirmation(appointment.pk) is False  # claimed: not tried again
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert errors == [f"Confirmation email for booking {appointment.reference} not sent: the address cannot be "
                      "delivered to"]  # fmt: skip
    assert "tomás" not in caplog.text  # no address in the logs


def test_the_demo_patient_has_an_address_the_relay_can_take():
    from demo.clinic import DEMO_BOOKINGS, _ascii

    assert [first for first, *_ in DEMO_BOOKINGS if not _ascii(first).isascii()] == []
    assert _ascii("tomás") == "tomas"

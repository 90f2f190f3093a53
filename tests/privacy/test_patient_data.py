"""Every model that holds something about a person is some app's part of the export and the
anonymisation (patients/patient_data.py): a new model pointing at a patient, an appointment or
a call-back request, or keeping an email or phone, fails here until its app's hook covers it."""

from django.apps import apps
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalChanges

from privacy.services import PATIENT_DATA

# Catalogue and staff rows: a location's or practitioner's number is the clinic's, not a patient's.
NOT_ABOUT_PATIENTS = {"clinic", "auth", "admin", "contenttypes", "sessions", "axes", "otp_totp", "otp_static"}


def _covered():
    covered = {}
    for part in PATIENT_DATA:
        for model in part.MODELS:
            assert model not in covered, f"{model.__name__} is in two apps' hooks"
            covered[model] = part
    return covered


def _holds_contact(model):
    return any(field.name in {"email", "phone"} or isinstance(field, PhoneNumberField) for field in model._meta.fields)


def _about_people():
    """Patient, and what points at it (transitively), or keeps a person's contact."""
    models = [
        model
        for model in apps.get_models()
        if model._meta.app_label not in NOT_ABOUT_PATIENTS and not issubclass(model, HistoricalChanges)
    ]
    found = {apps.get_model("patients", "Patient")} | {model for model in models if _holds_contact(model)}
    growing = True
    while growing:
        growing = False
        for model in models:
            if model in found:
                continue
            if any(field.is_relation and field.related_model in found for field in model._meta.fields):
                found.add(model)
                growing = True
    return found


def test_every_model_about_a_person_is_in_one_apps_hook():
    missing = {model.__name__ for model in _about_people()} - {model.__name__ for model in _covered()}
    assert not missing


def test_each_hook_covers_its_own_apps_models():
    for model, part in _covered().items():
        assert part.__name__ == f"{model._meta.app_label}.patient_data" or (
            model._meta.app_label == "patients" and part.__name__ == "booking.patient_data"
        ), f"{model.__name__} is covered by {part.__name__}"


def test_the_rule_finds_what_the_clinic_knows_holds_personal_data():
    names = {model.__name__ for model in _about_people()}
    assert {"Patient", "Appointment", "Screening", "DiscoveryCallRequest", "CallAttempt", "WaitlistEntry"} <= names

"""Every model is placed: some app's part of the export and the anonymisation
(patients/patient_data.py), handled by the walk itself, or not about patients, with the reason.
A new model fails here until someone decides which; and nothing that points at a patient (or
at what does) or keeps an email or phone may be called "not about patients"."""

from django.apps import apps
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalChanges

from privacy.services import PATIENT_DATA

# Rows about a patient that no app's hook holds: privacy/services.py's walk handles them.
WALK_HANDLES = {
    "clinic.OutboundMessage": "forget_recipient: unsent emails dropped, the recipient replaced",
    "clinic.IdempotentRequest": "forget_answers: the API's stored answers naming the bookings and calls",
    "admin.LogEntry": "scrub_admin_log, from the patients' and discovery's hooks: the titles",
}
NOT_ABOUT_PATIENTS = {
    "auth.User": "staff logins",
    "auth.Group": "staff roles",
    "auth.Permission": "staff permissions",
    "axes.AccessAttempt": "staff login attempts",
    "axes.AccessAttemptExpiration": "staff login attempts",
    "axes.AccessFailureLog": "staff login attempts",
    "axes.AccessLog": "staff logins",
    "otp_totp.TOTPDevice": "staff second factors",
    "clinic.AccountLockout": "staff lockouts",
    "sessions.Session": "staff sessions (patients have no account)",
    "contenttypes.ContentType": "Django's table of models",
    "clinic.Location": "the catalogue: a location's number is the clinic's",
    "clinic.Practitioner": "the catalogue",
    "clinic.PractitionerService": "the catalogue",
    "clinic.Service": "the catalogue",
    "clinic.Condition": "the catalogue",
    "patients.ConsentText": "the consent wording, versioned",
    "booking.WorkingHours": "practitioners' hours",
    "booking.TimeOff": "practitioners' time off and closures",
    "schedule.CalendarFeed": "a practitioner's private feed",
    "waitlist.FreedTime": "times freed by cancellations, no one's details",
}


def _covered():
    covered = {}
    for part in PATIENT_DATA:
        for model in part.MODELS:
            assert model._meta.label not in covered, f"{model._meta.label} is in two apps' hooks"
            covered[model._meta.label] = part
    return covered


def _models():
    return [model for model in apps.get_models() if not issubclass(model, HistoricalChanges)]


def test_every_model_is_placed_once():
    covered = _covered()
    for label in covered:
        assert label not in WALK_HANDLES and label not in NOT_ABOUT_PATIENTS, label
    assert not set(WALK_HANDLES) & set(NOT_ABOUT_PATIENTS)
    unplaced = (
        {model._meta.label for model in _models()} - covered.keys() - WALK_HANDLES.keys() - NOT_ABOUT_PATIENTS.keys()
    )
    assert not unplaced, "decide where these belong"


def _about_people():
    """Patient, what points at it (transitively), and what keeps a person's contact, outside
    the catalogue and the staff's own tables."""
    catalogue_or_staff = {"clinic", "auth", "axes", "otp_totp", "sessions", "contenttypes", "admin"}
    models = [model for model in _models() if model._meta.app_label not in catalogue_or_staff]
    found = {apps.get_model("patients", "Patient")}
    found |= {
        model
        for model in models
        if any(field.name in {"email", "phone"} or isinstance(field, PhoneNumberField) for field in model._meta.fields)
    }
    growing = True
    while growing:
        growing = False
        for model in models:
            if model not in found and any(field.related_model in found for field in model._meta.fields):
                found.add(model)
                growing = True
    return {model._meta.label for model in found}


def test_nothing_about_a_person_is_called_not_about_patients():
    about = _about_people()
    assert {"patients.Patient", "booking.Appointment", "patients.Screening", "waitlist.WaitlistEntry"} <= about
    assert not about & NOT_ABOUT_PATIENTS.keys()
    assert about <= _covered().keys()


def test_each_hook_covers_its_own_apps_models():
    for label, part in _covered().items():
        app = label.split(".")[0]
        # A screening is the patients app's model, but it hangs off an appointment: booking's.
        assert part.__name__ == f"{app}.patient_data" or label == "patients.Screening", label

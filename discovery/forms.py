"""Input shapes for call-back requests (the public page and the JSON API) and for reception's
admin pages. Forms only shape input; the rules are in discovery.services."""

from django import forms
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.widgets import RegionalPhoneNumberWidget

from booking.forms import PHONE_INVALID, CallerClockForm, PatientDetailsForm, browser_timezone_field, concern_field
from clinic.email_addresses import EmailAddressField
from clinic.single_line import SingleLineField
from discovery.models import HEARD_ABOUT_OTHER_MAX, NAME_MAX, NOTE_MAX, CallAttempt, DiscoveryCallRequest
from discovery.selectors import condition_choices, window_meets_clinic_hours
from discovery.services import CallBackDetails

CONSENT_REQUIRED = "Please agree to be contacted so we can call you back."
NOBODY_CALLS_THEN = (
    "That time of day is night-time for us, when nobody can call. Please choose another time of day, or call us."
)


class CallBackForm(CallerClockForm):
    name = SingleLineField(
        max_length=NAME_MAX, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = PhoneNumberField(
        label="Phone number",
        help_text="The number we should call. Include the country code if outside the US.",
        error_messages={"invalid": PHONE_INVALID},
        widget=RegionalPhoneNumberWidget(attrs={"autocomplete": "tel"}),
    )
    email = EmailAddressField(
        max_length=254,
        label="Email",
        help_text="We email you to confirm we got your request.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    best_time = forms.ChoiceField(
        choices=DiscoveryCallRequest.BestTime.choices,
        widget=forms.RadioSelect,
        label="Best time to call",
        error_messages={"required": "Please choose when we should call you."},
    )
    conditions = forms.ModelMultipleChoiceField(
        queryset=condition_choices(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="What is it about? (optional)",
        error_messages={"invalid_choice": "“%(value)s” is not one of the conditions listed."},
    )
    concern = concern_field()
    heard_about = forms.ChoiceField(
        choices=[("", "Choose one (optional)"), *DiscoveryCallRequest.HeardAbout.choices],
        required=False,
        label="How did you hear about us?",
    )
    heard_about_other = SingleLineField(
        max_length=HEARD_ABOUT_OTHER_MAX, required=False, label="If somewhere else, where?"
    )
    consent_to_contact = forms.BooleanField(
        label="I agree that the clinic may call and email me about this request.",
        error_messages={"required": CONSENT_REQUIRED},
    )
    ZONE_NEEDED = (
        "Which time zone are you in? Your number does not tell us, and we call in your morning, afternoon or evening."
    )

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        zone = self.caller_zone_for(data.get("phone"))
        if zone is not None and data.get("best_time") and not window_meets_clinic_hours(data["best_time"], zone):
            self.add_error("best_time", NOBODY_CALLS_THEN)
        data["caller_zone"] = zone
        return data

    def details(self) -> CallBackDetails:
        data = self.cleaned_data
        return CallBackDetails(
            name=data["name"],
            phone=data["phone"].as_e164,
            email=data["email"],
            best_time=data["best_time"],
            concern=data["concern"],
            conditions=tuple(data["conditions"]),
            heard_about=data["heard_about"],
            heard_about_other=data["heard_about_other"],
            consent_to_contact=data["consent_to_contact"],
            caller_timezone=data["caller_zone"].key,
        )


class CallBackPageForm(CallBackForm):
    browser_timezone = browser_timezone_field()

    # The honeypot: hidden from people (and from screen readers), filled by form-filling bots.
    website = forms.CharField(required=False, label="Leave this empty")

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website", "").strip())


class CallAttemptForm(forms.Form):
    outcome = forms.ChoiceField(choices=CallAttempt.Outcome.choices, widget=forms.RadioSelect, label="What happened?")
    note = forms.CharField(
        max_length=NOTE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Note (optional)"
    )


class ConvertToPatientForm(PatientDetailsForm):
    """The patient record's fields, with the wizard's checks (e.g. no birthday in the future)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The wizard's help speaks to the patient; this form is filled in by reception.
        self.fields["phone"].help_text = "Include the country code if outside the US."
        self.fields["date_of_birth"].help_text = "With the email, this finds their record if they already have one."

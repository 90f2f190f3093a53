"""Input shapes for booking, shared by the web wizard and the JSON API.

Forms only shape and validate input; the rules (who may book what, is the time free)
live in booking.services and come back as BookingError.
"""

from datetime import date

from django import forms
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from patients.services import RED_FLAGS, PatientDetails, ScreeningAnswers

NAME_MAX = 80
TEXT_MAX = 2000


class PatientDetailsForm(forms.Form):
    first_name = forms.CharField(max_length=NAME_MAX, label="First name")
    last_name = forms.CharField(max_length=NAME_MAX, label="Last name")
    email = forms.EmailField(max_length=254, label="Email")
    phone = PhoneNumberField(
        label="Mobile phone",
        help_text="We call or text this number if something changes. Include the country code if outside the US.",
        error_messages={"invalid": "Enter a valid phone number, e.g. (614) 555-0142 or +44 20 7946 0958."},
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        help_text="With your email, this lets us recognise you next time, without an account.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_date_of_birth(self) -> date:
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born.year < today.year - 120:
            raise forms.ValidationError("Please check the year of birth.")
        return born

    def patient_details(self) -> PatientDetails:
        data = self.cleaned_data
        return PatientDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"].as_e164,
            date_of_birth=data["date_of_birth"],
        )


class ScreeningForm(forms.Form):
    red_flags = forms.MultipleChoiceField(
        choices=list(RED_FLAGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Do you have any of these right now?",
    )
    pregnant = forms.BooleanField(required=False, label="I am pregnant or might be pregnant")
    blood_thinners = forms.BooleanField(required=False, label="I take blood thinners (anticoagulants)")
    bleeding_disorder = forms.BooleanField(required=False, label="I have a bleeding disorder")
    needle_fear = forms.BooleanField(required=False, label="I have a strong fear of needles")
    needled_before = forms.BooleanField(required=False, label="I have had dry needling or acupuncture before")
    previous_needling_notes = forms.CharField(
        required=False, max_length=500, label="If so, how did it go?", widget=forms.TextInput
    )
    other_conditions = forms.CharField(
        required=False,
        max_length=TEXT_MAX,
        label="Other medical conditions your practitioner should know about",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Not required here: red flags must be answered with urgent-care advice even when
    # consent is missing, so book_appointment decides, in that order.
    consent = forms.BooleanField(required=False, label="I have read and agree to the treatment consent above")

    def screening_answers(self) -> ScreeningAnswers:
        data = self.cleaned_data
        return ScreeningAnswers(
            pregnant=data["pregnant"],
            blood_thinners=data["blood_thinners"],
            bleeding_disorder=data["bleeding_disorder"],
            needle_fear=data["needle_fear"],
            needled_before=data["needled_before"],
            previous_needling_notes=data["previous_needling_notes"],
            other_conditions=data["other_conditions"],
            red_flags=frozenset(data["red_flags"]),
        )

"""Input shapes for booking: the web wizard and the JSON API (reception.forms has the front desk's).

Forms only shape and validate input; the rules (who may book what, is the time free)
live in booking.services and come back as BookingError.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from phonenumber_field.formfields import PhoneNumberField

from booking import selectors
from booking.models import TreatmentSeries
from booking.services import STATUS_CHANGES
from clinic.email_addresses import EmailAddressField
from clinic.single_line import SingleLineField
from clinic.zones import CALLER_ZONES, caller_zone_from, known_zone
from patients.services import ONE_OF_THE_RED_FLAGS, RED_FLAGS, PatientDetails, ScreeningAnswers

NAME_MAX = 80
TEXT_MAX = 2000
PHONE_INVALID = "Enter a valid phone number, e.g. (614) 555-0142 or +44 20 7946 0958."


def day_field(label: str) -> forms.DateField:
    """A day typed in the browser's date picker, or as YYYY-MM-DD without one."""
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the day as YYYY-MM-DD."},
    )


class PatientDetailsForm(forms.Form):
    first_name = SingleLineField(max_length=NAME_MAX, label="First name")
    last_name = SingleLineField(max_length=NAME_MAX, label="Last name")
    email = EmailAddressField(max_length=254, label="Email")
    phone = PhoneNumberField(
        label="Mobile phone",
        help_text="We call or text this number if something changes. Include the country code if outside the US.",
        error_messages={"invalid": PHONE_INVALID},
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

    # Any form with these fields: CallerDetailsForm borrows it.
    def patient_details(self: forms.Form) -> PatientDetails:
        data = self.cleaned_data
        return PatientDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"].as_e164,
            date_of_birth=data.get("date_of_birth"),
        )


def concern_field() -> forms.CharField:
    """A caller's few words on what is going on (a call booked, or a call back asked for)."""
    return forms.CharField(
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="What is going on? (optional)",
        help_text="A few words are enough: where it hurts, since when, what you have tried.",
    )


def browser_timezone_field() -> forms.CharField:
    """Filled by clinic/static/clinic/caller_zone.js from the browser's own clock."""
    return forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class CallerClockForm(forms.Form):
    """A caller's clock, for the times we tell them: the zone they chose (or the link carried),
    else their browser's, else their number's; asked (the `timezone` field, shown with its
    error) only when none of those tells."""

    ZONE_NEEDED = "Which time zone are you in? Your number does not tell us, and we go by your clock."

    timezone = forms.CharField(
        required=False,
        max_length=64,
        label="Your time zone",
        help_text="We go by your clock.",
        widget=forms.Select(choices=[("", "Choose your time zone"), *CALLER_ZONES]),
    )
    # Page forms add `browser_timezone` (browser_timezone_field); the API has none.

    def clean_timezone(self):
        key = self.cleaned_data["timezone"]
        if key and known_zone(key) is None:
            raise forms.ValidationError("Please choose one of the time zones listed.")
        return key

    def caller_zone_for(self, phone) -> ZoneInfo | None:
        zone = caller_zone_from(
            chosen=self.cleaned_data.get("timezone") or "",
            browser=self.cleaned_data.get("browser_timezone") or "",
            phone_e164=phone.as_e164 if phone else None,
        )
        if zone is None and phone:
            self.add_error("timezone", self.ZONE_NEEDED)
        return zone

    @property
    def asks_for_the_zone(self) -> bool:
        return "timezone" in self.errors or bool(self.data.get("timezone"))


class CallerDetailsForm(CallerClockForm):
    """A free discovery call, booked online: who to call and what it is about, one short
    urgent-care check and consent to be contacted. No date of birth, no needling questions,
    no treatment consent: those come when the caller books a treatment."""

    first_name = PatientDetailsForm.base_fields["first_name"]
    last_name = PatientDetailsForm.base_fields["last_name"]
    email = EmailAddressField(
        max_length=254, label="Email", help_text="We email you the time, and a link to change it."
    )
    phone = PhoneNumberField(
        label="Phone number",
        help_text="The number we call you on. Include the country code if outside the US.",
        error_messages={"invalid": PHONE_INVALID},
    )
    concern = concern_field()
    urgent_now = forms.ChoiceField(
        choices=[("no", "No, none of these"), ("yes", "Yes, one of these is happening now")],
        widget=forms.RadioSelect,
        label="Is any of these happening now?",
        error_messages={"required": "Please answer: is any of these happening now?"},
    )
    consent_to_contact = forms.BooleanField(
        required=False,  # refused by book_appointment, after the urgent-care answer
        label="I agree that the clinic may call me at this time and email me about it.",
    )
    browser_timezone = browser_timezone_field()

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        data["caller_zone"] = self.caller_zone_for(data.get("phone"))
        return data

    @property
    def asks_for_the_zone(self) -> bool:
        # The wizard's link carries the zone its times page showed (a hidden field): the
        # choice is offered only when it is missing.
        return "timezone" in self.errors

    # No date of birth: a caller's record is found by email and phone.
    patient_details = PatientDetailsForm.patient_details

    def screening_answers(self) -> ScreeningAnswers:
        urgent = self.cleaned_data["urgent_now"] == "yes"
        return ScreeningAnswers(red_flags=frozenset({ONE_OF_THE_RED_FLAGS} if urgent else ()))


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


# Book my follow-ups: on the patient's manage page --------------------------------------------


class FollowUpSeriesForm(forms.Form):
    """How many follow-up visits, how often, and the patient's word that what they told us with
    this booking still holds: the answers are copied to every visit."""

    # The middle of the usual course for a recent problem (2-4 visits); a chronic one needs
    # more, and the practitioner reviews progress at every visit.
    DEFAULT_SESSIONS = 3

    sessions = forms.TypedChoiceField(
        label="How many visits",
        choices=[(count, str(count)) for count in range(1, TreatmentSeries.MAX_SESSIONS + 1)],
        coerce=int,
        initial=DEFAULT_SESSIONS,
        error_messages={"invalid_choice": f"Choose 1 to {TreatmentSeries.MAX_SESSIONS} visits."},
    )
    interval_weeks = forms.TypedChoiceField(
        label="How often",
        choices=TreatmentSeries.Interval.choices,
        coerce=int,
        initial=TreatmentSeries.Interval.WEEKLY,
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "Choose every week or every two weeks.",
            "required": "Choose every week or every two weeks.",
        },
    )
    answers_still_apply = forms.BooleanField(
        label=(
            "My health answers from this booking still apply, none of the urgent warning signs applies to me, "
            "and I agree to the treatment consent above"
        ),
        error_messages={"required": "Please confirm this to book. If anything has changed, call us instead."},
    )
    # The consent text the page showed; book_follow_ups refuses if a newer one has been published.
    consent_version = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)


class SeriesSessionForm(forms.Form):
    """One of the other times offered for a follow-up that is not booked."""

    session = forms.IntegerField(min_value=1, max_value=TreatmentSeries.MAX_SESSIONS)
    start = forms.CharField(max_length=64)

    def clean_start(self) -> datetime:
        start = selectors.parse_start(self.cleaned_data["start"])
        if start is None:
            raise forms.ValidationError("Please choose one of the times shown.")
        return start


# Staff status buttons: the practitioner's appointment page and the front desk's panel -------


class StatusChangeForm(forms.Form):
    """One of the status buttons: which status to mark (booking.services.mark_status)."""

    status = forms.ChoiceField(choices=[(status.value, status.label) for status in STATUS_CHANGES])

"""Input shapes for booking: the web wizard, the JSON API and the admin's booking for a caller.

Forms only shape and validate input; the rules (who may book what, is the time free)
live in booking.services and come back as BookingError.
"""

from datetime import date, datetime, timedelta

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils import dateformat, timezone
from django.utils.http import urlencode
from phonenumber_field.formfields import PhoneNumberField

from booking import selectors
from booking.availability import Slot, bookable_practitioners
from booking.models import Appointment, TreatmentSeries
from clinic.models import Practitioner
from patients.models import Patient
from patients.services import RED_FLAGS, PatientDetails, ScreeningAnswers, details_of

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
    first_name = forms.CharField(max_length=NAME_MAX, label="First name")
    last_name = forms.CharField(max_length=NAME_MAX, label="Last name")
    email = forms.EmailField(max_length=254, label="Email")
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


# Book for a caller: the receptionist's form in the admin ------------------------------------

NEW_PATIENT_FIELDS = ("first_name", "last_name", "email", "phone", "date_of_birth")


def _by_slug(entries, slug: str):
    return next((entry for entry in entries if entry.slug == slug), None)


class NamedAutocomplete(AutocompleteSelect):
    """The admin's search-as-you-type select, with a placeholder. select2 names its box by the
    text shown in it, so an empty one has no accessible name at all (axe: aria-input-field-name);
    Django sets the placeholder to "" whatever the widget's attrs say."""

    def __init__(self, field, admin_site, *, placeholder: str, **kwargs):
        super().__init__(field, admin_site, **kwargs)
        self.placeholder = placeholder

    def build_attrs(self, base_attrs, extra_attrs=None):
        return {**super().build_attrs(base_attrs, extra_attrs), "data-placeholder": self.placeholder}


class PatientAutocomplete(NamedAutocomplete):
    """The admin's patient search. A posted value that is not an id is dropped before the
    chosen patient is looked up for display: AutocompleteSelect would crash on it. ASCII digits
    only: str.isdigit() also takes "²", which int() refuses."""

    def __init__(self, field, admin_site, **kwargs):
        super().__init__(field, admin_site, placeholder="Search patients", **kwargs)

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [each for each in value if _is_ascii_number(str(each))], attr)


def _is_ascii_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


class PhoneBookingStepsForm(forms.Form):
    """What the caller asks for (a GET form): service → location → practitioner or anyone → day.

    Each step's choices depend on the one before, so a step exists only once the step before
    it is valid: a later parameter is not looked at (nor reported) until then. Practitioner
    defaults to anyone and day to today, so the free times show as soon as a location is chosen.
    """

    service = forms.ChoiceField(
        label="Service",
        required=False,
        error_messages={"invalid_choice": "“%(value)s” is not a bookable service. Choose one from the list."},
    )
    location = forms.ChoiceField(
        label="Location",
        required=False,
        error_messages={"invalid_choice": "“%(value)s” is not a location offering this service. Choose one."},
    )
    practitioner = forms.ChoiceField(
        label="Practitioner",
        error_messages={"invalid_choice": "“%(value)s” does not offer this service here. Choose from the list."},
    )
    day = day_field("Day")
    # Carried through every step: who the booking is for, and the call-back request it answers.
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "There is no patient with the id in this link."},
    )
    discovery_call = forms.IntegerField(
        required=False,
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={
            "invalid": "There is no discovery-call request with the id in this link.",
            "min_value": "There is no discovery-call request with the id in this link.",
        },
    )

    def __init__(self, data):
        data = data.copy()  # the defaults below are filled in, so the page shows what is used
        # Its own ids: the booking form on the same page has a "patient" field too.
        super().__init__(data, auto_id="steps_%s")
        self.choice = selectors.Choice()
        self.practitioners: list[Practitioner] = []
        services = list(selectors.bookable_services())
        self.fields["service"].choices = [("", "Choose a service"), *((item.slug, item.name) for item in services)]
        self.choice.service = _by_slug(services, data.get("service", ""))
        if self.choice.service is None:
            self._without("location", "practitioner", "day")
            return

        locations = list(selectors.locations_offering(self.choice.service))
        self.fields["location"].choices = [
            ("", "Choose a location"),
            *((item.slug, f"{item.name} ({item.timezone})") for item in locations),
        ]
        self.choice.location = _by_slug(locations, data.get("location", ""))
        if self.choice.location is None:
            self._without("practitioner", "day")
            return

        self.practitioners = list(bookable_practitioners(service=self.choice.service, location=self.choice.location))
        self.fields["practitioner"].choices = [
            (selectors.ANYONE, "Anyone qualified (the first free)"),
            *((item.slug, item.name) for item in self.practitioners),
        ]
        if not data.get("practitioner"):
            data["practitioner"] = selectors.ANYONE
        if not data.get("day"):
            data["day"] = self.today.isoformat()
        self.choice.practitioner = _by_slug(self.practitioners, data["practitioner"])
        self.choice.practitioner_chosen = data["practitioner"] == selectors.ANYONE or bool(self.choice.practitioner)

    def _without(self, *names: str) -> None:
        for name in names:
            del self.fields[name]

    @property
    def today(self) -> date:
        return timezone.localtime(timezone.now(), self.choice.location.zone).date()

    @property
    def last_day(self) -> date:
        return self.today + timedelta(days=settings.BOOKING_HORIZON_DAYS)

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        if day < self.today:
            raise forms.ValidationError("That day has passed. Choose today or a later day.")
        if day > self.last_day:
            raise forms.ValidationError(
                f"Bookings open {settings.BOOKING_HORIZON_DAYS} days ahead. Choose {self.last_day:%Y-%m-%d} or earlier."
            )
        return day

    @property
    def ready(self) -> bool:
        """Every step is chosen and valid: the free times can be shown and booked."""
        return self.is_valid() and self.choice.practitioner_chosen

    def query(self, **changes) -> str:
        """These steps as a query string, for the day links and the booking form's action."""
        data = self.cleaned_data
        params = {
            "service": self.choice.service_slug,
            "location": self.choice.location_slug,
            "practitioner": self.choice.practitioner_slug,
            "day": data.get("day").isoformat() if data.get("day") else "",
            "patient": data["patient"].pk if data.get("patient") else "",
            "discovery_call": data.get("discovery_call") or "",
            **changes,
        }
        return urlencode({name: value for name, value in params.items() if value})


class PhoneBookingForm(PatientDetailsForm, ScreeningForm):
    """The POST half: a free time, the caller as an existing or a new patient, the screening
    questions read to them, and their consent given by phone.

    Only shapes input: whether the time is still free, red flags, consent and the rest are
    book_appointment's to decide, and come back as BookingError.
    """

    start = forms.CharField(
        label="Time", widget=forms.RadioSelect, error_messages={"required": "Choose one of the free times."}
    )
    patient = forms.ModelChoiceField(queryset=Patient.objects.all(), required=False)
    consent_version = forms.CharField(max_length=20, widget=forms.HiddenInput)

    field_order = ["start", "patient", *NEW_PATIENT_FIELDS]

    LABELS = {
        "red_flags": "Does the caller have any of these right now?",
        "pregnant": "Pregnant or might be pregnant",
        "blood_thinners": "Takes blood thinners (anticoagulants)",
        "bleeding_disorder": "Has a bleeding disorder",
        "needle_fear": "Strong fear of needles",
        "needled_before": "Has had dry needling or acupuncture before",
        "previous_needling_notes": "If so, how did it go?",
        "other_conditions": "Other medical conditions the practitioner should know about",
        "consent": "Consent read to the caller and given by phone",
    }
    HELP_TEXTS = {
        "email": "The confirmation email, with the link to change or cancel, goes here.",
        "phone": "Include the country code for a number from abroad.",
        "date_of_birth": "With the email, this is how the patient is recognised next time.",
    }

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"] = forms.ModelChoiceField(
            queryset=Patient.objects.all(),
            required=False,
            label="Existing patient",
            help_text="Search by name, email or phone. For someone new, leave this empty and fill in the new patient.",
            widget=PatientAutocomplete(Appointment._meta.get_field("patient"), admin_site),
        )
        for name in NEW_PATIENT_FIELDS:
            self.fields[name].required = False  # required only when no existing patient is chosen
        for name, label in self.LABELS.items():
            self.fields[name].label = label
        for name, help_text in self.HELP_TEXTS.items():
            self.fields[name].help_text = help_text

    def offer_times(self, slots: list[Slot], *, zone, practitioner_names: dict[int, str] | None = None) -> None:
        """The free times as radio buttons, labelled in the location's local time; with the
        practitioner's name when the caller asked for anyone."""
        choices = []
        for slot in slots:
            label = dateformat.format(timezone.localtime(slot.start, zone), "g:i A")
            if practitioner_names:
                label = f"{label} · {practitioner_names[slot.practitioner_id]}"
            choices.append((slot.start.isoformat(), label))
        self.fields["start"].widget.choices = choices

    def clean_start(self) -> datetime:
        start = selectors.parse_start(self.cleaned_data["start"])
        if start is None:
            raise forms.ValidationError("Choose one of the free times.")
        return start

    def clean_date_of_birth(self) -> date | None:
        if self.cleaned_data.get("date_of_birth") is None:
            return None
        return super().clean_date_of_birth()

    def clean(self) -> dict:
        cleaned = super().clean()
        typed = [name for name in NEW_PATIENT_FIELDS if str(self.data.get(self.add_prefix(name), "")).strip()]
        if cleaned.get("patient") is not None:
            if typed:
                raise forms.ValidationError(
                    "Choose an existing patient or fill in a new patient, not both.", code="both_patients"
                )
        elif "patient" not in self.errors:
            if not typed:
                raise forms.ValidationError(
                    "Choose the caller as an existing patient, or fill in the new patient's details.",
                    code="no_patient",
                )
            for name in NEW_PATIENT_FIELDS:
                if name not in typed:
                    self.add_error(name, "Required for a new patient.")
        return cleaned

    def patient_details(self) -> PatientDetails:
        patient = self.cleaned_data["patient"]
        if patient is None:
            return super().patient_details()
        return details_of(patient)

    def ask_consent_again(self, *, version: str, message: str) -> None:
        """The consent text changed since the page was shown: untick, show the new version."""
        self.data = self.data.copy()
        self.data.pop(self.add_prefix("consent"), None)
        self.data[self.add_prefix("consent_version")] = version
        self.add_error("consent", message)

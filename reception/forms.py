"""The front desk's forms: Book for a caller (its steps and the booking), moving an appointment,
cancelling one with a reason, and the status buttons of the calendar's panel.

Forms only shape input: whether a time is free, and every other rule, is booking.services'
to decide (under the staff rules: reception books and moves from the current grid time, up to
STAFF_BOOKING_HORIZON_DAYS ahead), and comes back as BookingError.
"""

from datetime import date, datetime, timedelta
from typing import cast

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from booking import selectors
from booking.availability import BookingRules, Slot, bookable_practitioners
from booking.forms import PatientDetailsForm, ScreeningForm, day_field
from booking.models import Appointment
from clinic import clock
from clinic.admin_base import NamedAutocomplete
from clinic.models import Practitioner
from patients.models import Patient
from patients.services import PatientDetails

NEW_PATIENT_FIELDS = ("first_name", "last_name", "email", "phone", "date_of_birth")
# The answers the calendar shows as flags: dropping one by picking an existing patient is asked about.
SCREENING_FLAG_FIELDS = ("pregnant", "blood_thinners", "bleeding_disorder", "needle_fear")


def _by_slug(entries, slug: str):
    return next((entry for entry in entries if entry.slug == slug), None)


class PatientAutocomplete(NamedAutocomplete):
    """The admin's patient search. A posted value that is not an id is dropped before the
    chosen patient is looked up for display: AutocompleteSelect would crash on it. ASCII digits
    only: str.isdigit() also takes "²", which int() refuses."""

    def __init__(self, field, admin_site, **kwargs):
        super().__init__(field, admin_site, placeholder="Search patients", **kwargs)

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [each for each in value if _is_ascii_number(str(each))], attr)

    def get_url(self):
        # The front desk's own search, which names date of birth, email and last visit.
        return reverse("reception:patient_search")


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
    # The free cell clicked in the calendar (an ISO instant): preselected among the free times.
    at = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)
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
        cast(forms.ChoiceField, self.fields["service"]).choices = [
            ("", "Choose a service"),
            *((item.slug, item.name) for item in services),
        ]
        self.choice.service = _by_slug(services, data.get("service", ""))
        if self.choice.service is None:
            self._without("location", "practitioner", "day")
            return

        locations = list(selectors.locations_offering(self.choice.service))
        cast(forms.ChoiceField, self.fields["location"]).choices = [
            ("", "Choose a location"),
            *((item.slug, f"{item.name} ({item.timezone})") for item in locations),
        ]
        self.choice.location = _by_slug(locations, data.get("location", ""))
        if self.choice.location is None:
            self._without("practitioner", "day")
            return

        self.practitioners = list(bookable_practitioners(service=self.choice.service, location=self.choice.location))
        cast(forms.ChoiceField, self.fields["practitioner"]).choices = [
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
        assert self.choice.location is not None  # the day step comes after the location
        return timezone.localtime(timezone.now(), self.choice.location.zone).date()

    @property
    def last_day(self) -> date:
        return self.today + timedelta(days=settings.STAFF_BOOKING_HORIZON_DAYS)

    def clean_at(self) -> str:
        # A link may carry anything: what is no instant reception could book is dropped, not
        # reported (year 9999 would overflow the local-time arithmetic).
        at = staff_start(self.cleaned_data.get("at") or "")
        return at.strftime("%Y-%m-%dT%H:%MZ") if at else ""

    @property
    def clicked_start(self) -> datetime | None:
        return selectors.parse_instant(self.cleaned_data.get("at") or "") if self.is_valid() else None

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        if day < self.today:
            raise forms.ValidationError("That day has passed. Choose today or a later day.")
        if day > self.last_day:
            raise forms.ValidationError(
                f"Staff can book up to {settings.STAFF_BOOKING_HORIZON_DAYS} days ahead. "
                f"Choose {self.last_day:%Y-%m-%d} or earlier."
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
            "day": data["day"].isoformat() if data.get("day") else "",
            "at": data.get("at") or "",
            "patient": data["patient"].pk if data.get("patient") else "",
            "discovery_call": data.get("discovery_call") or "",
            **changes,
        }
        return urlencode({name: value for name, value in params.items() if value})


DATE_OF_BIRTH_MISSING = (
    "{patient}'s record has no date of birth yet (a discovery call asks none): ask the caller and type it here."
)


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
    source = forms.ChoiceField(
        label="The patient is",
        choices=[(Appointment.Source.PHONE, "On the phone"), (Appointment.Source.WALK_IN, "At the desk (walk-in)")],
        initial=Appointment.Source.PHONE,
        widget=forms.RadioSelect,
    )
    returning_patient_reason = forms.CharField(
        label="Returning patient without a record here",
        required=False,
        max_length=200,
        help_text=(
            "This service is for returning patients. If this patient has been treated by the clinic but has no "
            "earlier visit in this system, say so here (e.g. “treated at the clinic before we used this system”); "
            "it is kept with the appointment."
        ),
    )
    consent_version = forms.CharField(max_length=20, widget=forms.HiddenInput)
    # Set when the form came back to ask an existing patient's earlier flags again.
    screening_reviewed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    field_order = ["start", "patient", *NEW_PATIENT_FIELDS]

    LABELS = {
        "red_flags": "Does the patient have any of these right now?",
        "pregnant": "Pregnant or might be pregnant",
        "blood_thinners": "Takes blood thinners (anticoagulants)",
        "bleeding_disorder": "Has a bleeding disorder",
        "needle_fear": "Strong fear of needles",
        "needled_before": "Has had dry needling or acupuncture before",
        "previous_needling_notes": "If so, how did it go?",
        "other_conditions": "Other medical conditions the practitioner should know about",
        "consent": "Consent read to the patient and given (on the phone or at the desk)",
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
        """The free times as radio buttons, labelled in the location's local time (CLOCK_FORMAT);
        with the practitioner's name when the caller asked for anyone."""
        choices = []
        for slot in slots:
            label = clock.staff_slot_time(slot.start, zone)
            if practitioner_names:
                label = f"{label} · {practitioner_names[slot.practitioner_id]}"
            choices.append((slot.start.isoformat(), label))
        self.fields["start"].widget.choices = choices

    def clean_start(self) -> datetime:
        # The engine decides whether the time can be booked; this only keeps out what is no time.
        start = staff_start(self.cleaned_data["start"])
        if start is None:
            raise forms.ValidationError("Choose one of the free times.")
        return start

    # None, unlike PatientDetailsForm's, when the caller is an existing patient (booked as they are).
    def clean_date_of_birth(self) -> date | None:  # type: ignore[override]
        if self.cleaned_data.get("date_of_birth") is None:
            return None
        return super().clean_date_of_birth()

    def clean(self) -> dict:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        typed = [name for name in NEW_PATIENT_FIELDS if str(self.data.get(self.add_prefix(name), "")).strip()]
        chosen = cleaned.get("patient")
        if chosen is not None:
            # A caller's record from a discovery call has no date of birth: a treatment needs it.
            asked = ["date_of_birth"] if chosen.date_of_birth is None else []
            if set(typed) - set(asked):
                raise forms.ValidationError(
                    "Choose an existing patient or fill in a new patient, not both.", code="both_patients"
                )
            if asked and not typed and "date_of_birth" not in self.errors:
                self.add_error("date_of_birth", DATE_OF_BIRTH_MISSING.format(patient=chosen))
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

    def patient_details(self) -> PatientDetails | None:  # type: ignore[override]  # as clean_date_of_birth
        """The new patient as typed; None when an existing one is chosen (booked as they are)."""
        return super().patient_details() if self.cleaned_data["patient"] is None else None

    def ask_consent_again(self, *, version: str, message: str) -> None:
        """The consent text changed since the page was shown: untick, show the new version."""
        self.data = cast(QueryDict, self.data).copy()  # bound to request.POST
        self.data.pop(self.add_prefix("consent"), None)
        self.data[self.add_prefix("consent_version")] = version
        self.add_error("consent", message)


def staff_start(raw: str) -> datetime | None:
    """A start reception could have been offered (the staff rules); the engine decides whether
    it can still be booked."""
    return selectors.parse_start(raw, rules=BookingRules.for_staff())


# The calendar's panel and the Move page -------------------------------------------------------


class CancellationForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the appointment's history for staff. Keep health details out.",
    )
    share_reason = forms.BooleanField(
        required=False,
        label="Tell the patient this reason in the cancellation email",
        help_text="Each patient is emailed that the clinic cancelled; the reason only if this is ticked.",
    )


class StatusForm(forms.Form):
    """One of the panel's buttons: arrived, completed or no-show."""

    status = forms.ChoiceField(
        choices=[
            (Appointment.Status.ARRIVED, "Arrived"),
            (Appointment.Status.COMPLETED, "Completed"),
            (Appointment.Status.NO_SHOW, "No-show"),
        ]
    )


class MoveForm(forms.Form):
    """Where to move an appointment: a start from the free times offered, and the practitioner
    (the same, or another one qualified for its service at its location). The Move page posts it,
    and so does the calendar when a block is dropped on a cell."""

    start = forms.CharField(max_length=40, error_messages={"required": "Choose one of the free times."})
    practitioner = forms.ModelChoiceField(
        queryset=Practitioner.objects.active(),
        error_messages={"invalid_choice": "Choose one of the practitioners shown."},
    )
    # The appointment's updated_at when the page was drawn: a move decided on an older picture
    # is refused (reschedule_appointment's if_unchanged_since).
    version = forms.CharField(max_length=40, required=False, widget=forms.HiddenInput)

    def clean_start(self) -> datetime:
        start = staff_start(self.cleaned_data["start"])
        if start is None:
            raise forms.ValidationError("Choose one of the free times.")
        return start

    def clean_version(self) -> datetime | None:
        return selectors.parse_instant(self.cleaned_data.get("version") or "")

"""The waiting list form on the public pages. Only shapes input: waitlist.services.check_wish decides."""

from datetime import timedelta
from typing import cast

from django import forms
from phonenumber_field.formfields import PhoneNumberField

from booking import selectors as booking_selectors
from booking.availability import bookable_practitioners
from booking.forms import NAME_MAX, PHONE_INVALID, day_field
from clinic.email_addresses import EmailAddressField
from clinic.models import Location, Service
from clinic.single_line import SingleLineField
from waitlist.selectors import local_today
from waitlist.services import Contact, WaitlistError, Wish, check_wish

TIMES_OF_DAY = [
    ("mornings", "Mornings (before 12:00)"),
    ("afternoons", "Afternoons (12:00 to 17:00)"),
    ("evenings", "Evenings (from 17:00)"),
]
# What the form offers unless the patient changes it: the next two weeks.
DEFAULT_DAYS = 14


class WaitlistWishForm(forms.Form):
    """Which times: on joining, and on the place's own page (its private link) to change them."""

    practitioner = forms.ChoiceField(
        label="With",
        error_messages={"invalid_choice": "Choose someone from the list, or anyone."},
    )
    first_day = day_field("Earliest day")
    last_day = day_field("Latest day")
    times_of_day = forms.MultipleChoiceField(
        label="Which times suit you?",
        choices=TIMES_OF_DAY,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one time of day."},
    )

    def __init__(self, *args, service: Service, location: Location, **kwargs):
        super().__init__(*args, **kwargs)
        self.service, self.location = service, location
        self.practitioners = list(bookable_practitioners(service=service, location=location))
        cast(forms.ChoiceField, self.fields["practitioner"]).choices = [
            (booking_selectors.ANYONE, "Anyone qualified"),
            *((practitioner.slug, practitioner.name) for practitioner in self.practitioners),
        ]
        today = local_today(location)
        self.fields["first_day"].initial = today
        self.fields["last_day"].initial = today + timedelta(days=DEFAULT_DAYS - 1)
        self.fields["times_of_day"].initial = [value for value, _label in TIMES_OF_DAY]

    @classmethod
    def of_entry(cls, entry, data=None) -> "WaitlistWishForm":
        """The form for changing `entry`'s wish, showing what it holds now."""
        times = [name for name, _label in TIMES_OF_DAY if getattr(entry, name)]
        initial = {
            "practitioner": entry.practitioner.slug if entry.practitioner else booking_selectors.ANYONE,
            "first_day": entry.first_day,
            "last_day": entry.last_day,
            "times_of_day": times,
        }
        return cls(data, service=entry.service, location=entry.location, initial=initial)

    def clean(self) -> dict:
        cleaned = super().clean()
        assert cleaned is not None  # Form.clean returns cleaned_data
        if self.errors:
            return cleaned
        try:
            check_wish(self.wish())
        except WaitlistError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned

    def wish(self) -> Wish:
        data = self.cleaned_data
        slug = data["practitioner"]
        times = set(data["times_of_day"])
        return Wish(
            service=self.service,
            location=self.location,
            practitioner=next((each for each in self.practitioners if each.slug == slug), None),
            first_day=data["first_day"],
            last_day=data["last_day"],
            mornings="mornings" in times,
            afternoons="afternoons" in times,
            evenings="evenings" in times,
        )


class JoinWaitlistForm(WaitlistWishForm):
    first_name = SingleLineField(max_length=NAME_MAX, label="First name")
    last_name = SingleLineField(max_length=NAME_MAX, label="Last name")
    email = EmailAddressField(
        max_length=254,
        label="Email",
        help_text="We email you when a time opens.",
    )
    phone = PhoneNumberField(
        label="Mobile phone",
        help_text="Include the country code if outside the US.",
        error_messages={"invalid": PHONE_INVALID},
    )

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            phone=data["phone"].as_e164,
        )

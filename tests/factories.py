from datetime import date, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from booking.models import Appointment
from clinic.models import Condition, Location, Practitioner, PractitionerService, Service
from patients.models import ConsentText, Patient
from patients.services import PatientDetails


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("demo-password")


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    address = "1 Main Street\nWesterville, OH 43081"
    phone = "+16145550142"
    timezone = "America/New_York"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Treatment {n}")
    slug = factory.Sequence(lambda n: f"treatment-{n}")
    duration_minutes = 45
    buffer_after_minutes = 15
    price = "95.00"
    short_description = "A treatment."
    what_to_expect = "You lie down; we treat."


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Practitioner {n}")
    slug = factory.Sequence(lambda n: f"practitioner-{n}")
    title = "Physiotherapist"
    credentials = "PT, DPT, certified in dry needling"
    bio = "Treats pain."

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        for service in extracted or []:
            PractitionerService.objects.create(practitioner=self, service=service)

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if extracted:
            self.locations.set(extracted)


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Condition {n}")
    slug = factory.Sequence(lambda n: f"condition-{n}")
    summary = "A painful condition."
    body = "What it is.\n\nHow we help."

    @factory.post_generation
    def related_services(self, create, extracted, **kwargs):
        if extracted:
            self.related_services.set(extracted)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Patient{n}")
    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    phone = "+16145550100"
    date_of_birth = date(1980, 5, 17)


class AppointmentFactory(factory.django.DjangoModelFactory):
    """Writes a row directly, behind book_appointment's back: for constraint tests and fixtures."""

    class Meta:
        model = Appointment

    patient = factory.SubFactory(PatientFactory)
    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    service = factory.SubFactory(ServiceFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    end = factory.LazyAttribute(lambda appointment: appointment.start + timedelta(minutes=45))
    blocked_until = factory.LazyAttribute(lambda appointment: appointment.end + timedelta(minutes=15))
    consent = factory.LazyFunction(lambda: ConsentText.objects.latest())
    consented_at = factory.LazyFunction(timezone.now)


def patient_details(n: int = 0, **changes) -> PatientDetails:
    fields = {
        "first_name": "Ada",
        "last_name": f"Lovelace{n}",
        "email": f"ada{n}@example.com",
        "phone": "+16145550100",
        "date_of_birth": date(1980, 1, 1 + n % 28),
    }
    return PatientDetails(**{**fields, **changes})


def phone_line_of(physio):
    """The "By phone" location (New York's clock), where Maya takes discovery calls."""
    location = LocationFactory(
        name="By phone",
        slug="by-phone",
        address="We call you on the number you give us.",
        timezone="America/New_York",
        is_by_phone=True,
        display_order=900,
    )
    physio.locations.add(location)
    return location

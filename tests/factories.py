import factory
from django.contrib.auth import get_user_model

from clinic.models import Condition, Location, Practitioner, PractitionerService, Service


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

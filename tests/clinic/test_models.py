"""The catalogue's invariants hold in the database itself, not only in forms."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic.models import Location, PractitionerService, Service
from tests.factories import LocationFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _violates(constraint_name: str, write) -> None:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        write()
    assert constraint_name in str(error.value)


@pytest.mark.parametrize(
    "constraint, changes",
    [
        ("service_duration_5_to_480_min", {"duration_minutes": 0}),
        ("service_duration_5_to_480_min", {"duration_minutes": 600}),
        ("service_buffer_at_most_240_min", {"buffer_after_minutes": 300}),
        ("service_price_not_negative", {"price": "-1.00"}),
        ("service_kind_valid", {"kind": "massage"}),
        ("service_who_can_book_valid", {"who_can_book": "everyone"}),
        ("service_name_not_empty", {"name": ""}),
        ("service_slug_not_empty", {"slug": ""}),
    ],
)
def test_service_constraints_reject_bad_rows_written_behind_the_forms_back(constraint, changes):
    service = ServiceFactory()
    _violates(constraint, lambda: Service.objects.filter(pk=service.pk).update(**changes))


def test_a_free_service_has_no_price():
    service = ServiceFactory(price=None)
    assert service.is_free


def test_location_constraints():
    location = LocationFactory()
    _violates("location_name_not_empty", lambda: Location.objects.filter(pk=location.pk).update(name=""))
    _violates("location_timezone_not_empty", lambda: Location.objects.filter(pk=location.pk).update(timezone=""))


def test_slugs_are_unique():
    LocationFactory(slug="downtown")
    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(slug="downtown")


def test_a_practitioner_is_qualified_for_a_service_once(physio, dry_needling):
    _violates(
        "practitioner_service_unique",
        lambda: PractitionerService.objects.create(practitioner=physio, service=dry_needling),
    )


@pytest.mark.parametrize("zone", ["America/New_York", "America/Edmonton", "Asia/Kolkata", "US/Pacific"])
def test_iana_time_zones_are_accepted(zone):
    location = LocationFactory.build(timezone=zone)
    location.full_clean(exclude=["slug"])
    assert location.zone.key == zone


@pytest.mark.parametrize("zone", ["Eastern", "America/Nowhere", "UTC+5", "asia/kolkata "])
def test_unknown_time_zones_are_refused_with_a_helpful_message(zone):
    location = LocationFactory.build(timezone=zone)
    with pytest.raises(ValidationError) as error:
        location.full_clean(exclude=["slug"])
    assert "is not an IANA time zone" in str(error.value.message_dict["timezone"])


def test_phone_numbers_are_validated_and_stored_as_e164():
    location = LocationFactory.build(phone="(614) 555-0142")
    location.full_clean(exclude=["slug"])
    location.save()
    location.refresh_from_db()
    assert str(location.phone) == "+16145550142"
    with pytest.raises(ValidationError):
        LocationFactory.build(phone="call me maybe").full_clean(exclude=["slug"])

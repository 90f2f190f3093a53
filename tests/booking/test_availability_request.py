"""availability_request, the hot path's one hand-written query, says what the ORM says: the
active service and location, and bookable_practitioners' candidates in the clinic's order."""

import pytest

from booking.availability import bookable_practitioners
from booking.selectors import availability_request
from tests.factories import LocationFactory, PractitionerFactory

pytestmark = pytest.mark.django_db


def _both(service, location, wanted="any"):
    asked = availability_request(service_slug=service.slug, location_slug=location.slug, practitioner_slug=wanted)
    orm = bookable_practitioners(service=service, location=location)
    if wanted != "any":
        orm = orm.filter(slug=wanted)
    return asked, [(practitioner.pk, practitioner.slug) for practitioner in orm]


@pytest.fixture
def colleagues(physio, dry_needling, westerville, calgary):
    return [
        PractitionerFactory(name="Zed Early", slug="zed-early", display_order=1, services=[dry_needling],
                            locations=[westerville]),
        PractitionerFactory(name="Amy Same", slug="amy-same", services=[dry_needling], locations=[westerville]),
        PractitionerFactory(name="Gone Away", slug="gone-away", is_active=False, services=[dry_needling],
                            locations=[westerville]),
        PractitionerFactory(name="Elsewhere", slug="elsewhere", services=[dry_needling], locations=[calgary]),
    ]  # fmt: skip


def test_the_candidates_are_bookable_practitioners_in_the_clinics_order(colleagues, dry_needling, westerville):
    asked, orm = _both(dry_needling, westerville)
    assert list(zip(asked.practitioner_ids, asked.practitioner_slugs, strict=True)) == orm
    assert asked.practitioner_slugs == ["zed-early", "amy-same", "maya-lindqvist"]
    assert (asked.service, asked.location) == (dry_needling, westerville)
    assert asked.location.is_by_phone is False and asked.location.timezone == westerville.timezone


@pytest.mark.parametrize("wanted", ["maya-lindqvist", "gone-away", "elsewhere", "nobody"])
def test_one_practitioner_asked_for(colleagues, dry_needling, westerville, wanted):
    asked, orm = _both(dry_needling, westerville, wanted)
    assert list(zip(asked.practitioner_ids, asked.practitioner_slugs, strict=True)) == orm


def test_no_treatment_at_the_phone_line_but_its_calls(phone_line, physio, dry_needling, discovery_call):
    treatments, _ = _both(dry_needling, phone_line)
    calls, orm = _both(discovery_call, phone_line)
    assert treatments.practitioner_ids == [] and calls.practitioner_ids == [pk for pk, _ in orm] == [physio.pk]


def test_unknown_or_inactive_service_and_location_are_none(dry_needling, westerville):
    closed = LocationFactory(is_active=False)
    asked = availability_request(service_slug="nothing", location_slug=closed.slug, practitioner_slug="any")
    assert (asked.service, asked.location, asked.practitioner_ids) == (None, None, [])
    asked = availability_request(service_slug=None, location_slug=None, practitioner_slug="any")
    assert (asked.service, asked.location) == (None, None)

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


# What a request named is kept in the process and checked by the catalogue stamp (booking 0019).


def _ask(service, location, wanted="any"):
    return availability_request(service_slug=service.slug, location_slug=location.slug, practitioner_slug=wanted)


def test_a_known_request_is_one_primary_key_lookup_with_the_same_answer(
    colleagues, dry_needling, westerville, django_assert_num_queries
):
    first = _ask(dry_needling, westerville)
    with django_assert_num_queries(1) as context:
        again = _ask(dry_needling, westerville)
    assert "clinic_availability_stamps" in context.captured_queries[0]["sql"]
    assert (again.service_row, again.location_row, again.practitioner_ids, again.stamps) == (
        first.service_row,
        first.location_row,
        first.practitioner_ids,
        first.stamps,
    )
    assert again.location == westerville and again.location is not first.location  # each request its own


@pytest.mark.parametrize(
    "change",
    [
        "a colleague starts giving the service",
        "a colleague starts working here",
        "a colleague comes back",
        "the service is renamed",
        "the location becomes the phone line",
    ],
)
def test_a_catalogue_change_anywhere_is_seen_by_the_next_request(
    colleagues, dry_needling, westerville, calgary, change
):
    _ask(dry_needling, westerville)
    _zed, _amy, gone, elsewhere = colleagues
    if change == "a colleague starts giving the service":
        newcomer = PractitionerFactory(name="New Comer", slug="new-comer", locations=[westerville])
        newcomer.qualifications.create(service=dry_needling)
    elif change == "a colleague starts working here":
        elsewhere.locations.add(westerville)
    elif change == "a colleague comes back":
        type(gone).objects.filter(pk=gone.pk).update(is_active=True)
    elif change == "the service is renamed":
        type(dry_needling).objects.filter(pk=dry_needling.pk).update(name="Dry needling, first visit")
    else:
        type(westerville).objects.filter(pk=westerville.pk).update(is_by_phone=True)
    westerville.refresh_from_db()
    asked, orm = _both(dry_needling, westerville)
    assert list(zip(asked.practitioner_ids, asked.practitioner_slugs, strict=True)) == orm
    assert asked.service.name == type(dry_needling).objects.get(pk=dry_needling.pk).name
    assert asked.location.is_by_phone == type(westerville).objects.get(pk=westerville.pk).is_by_phone

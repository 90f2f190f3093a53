import pytest

from tests.factories import LocationFactory


@pytest.fixture
def by_phone(db, physio):
    """The "By phone" location, where Maya takes discovery calls."""
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

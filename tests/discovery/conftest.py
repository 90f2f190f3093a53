import pytest

from tests.factories import phone_line_of


@pytest.fixture
def by_phone(db, physio):
    """The "By phone" location, where Maya takes discovery calls (no working hours)."""
    return phone_line_of(physio)

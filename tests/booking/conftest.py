"""Fixtures of the booking tests beyond the shared cast: a first visit to book follow-ups from."""

import pytest

from patients.services import ScreeningAnswers
from tests.factories import ServiceFactory
from tests.helpers import book


@pytest.fixture
def follow_up(physio, dry_needling):
    """The initial assessment is for new patients; its follow-up, which Maya also gives, for returning ones."""
    service = ServiceFactory(
        name="Dry needling follow-up",
        slug="dry-needling-follow-up",
        duration_minutes=45,
        who_can_book="returning",
        session_guidance="Often 2 to 4 visits for a recent problem.",
    )
    physio.qualifications.create(service=service)
    dry_needling.who_can_book = "new"
    dry_needling.follow_up_service = service
    dry_needling.save()
    return service


@pytest.fixture
def first_visit(follow_up, dry_needling, westerville, physio, open_all_week, ten_am):
    """Ada's initial assessment, booked online a week from now at 10:00, with her safety answers."""
    answers = ScreeningAnswers(blood_thinners=True, other_conditions="Asthma")
    return book(dry_needling, westerville, ten_am, practitioner=physio, screening=answers)

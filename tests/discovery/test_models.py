"""The call-back request's invariants hold in the database itself, not only in forms."""

import re

import pytest
from django.db import IntegrityError, transaction

from discovery.models import CallAttempt, DiscoveryCallRequest
from tests.discovery.factories import CallAttemptFactory, DiscoveryCallRequestFactory

pytestmark = pytest.mark.django_db


def _violates(constraint_name: str, write) -> None:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        write()
    assert constraint_name in str(error.value)


@pytest.mark.parametrize(
    "constraint, changes",
    [
        ("discovery_call_consent_given", {"consent_to_contact": False}),
        ("discovery_call_best_time_valid", {"best_time": "midnight"}),
        ("discovery_call_status_valid", {"status": "lost"}),
        ("discovery_call_heard_about_valid", {"heard_about": "radio"}),
        ("discovery_call_name_not_empty", {"name": ""}),
        ("discovery_call_email_not_empty", {"email": ""}),
        ("discovery_call_booked_has_appointment", {"status": "booked"}),
    ],
)
def test_request_constraints_reject_bad_rows_written_behind_the_services_back(constraint, changes):
    call_request = DiscoveryCallRequestFactory()
    _violates(constraint, lambda: DiscoveryCallRequest.objects.filter(pk=call_request.pk).update(**changes))


def test_a_request_cannot_be_stored_without_consent():
    _violates("discovery_call_consent_given", lambda: DiscoveryCallRequestFactory(consent_to_contact=False))


def test_call_attempt_outcome_is_checked():
    attempt = CallAttemptFactory()
    _violates("call_attempt_outcome_valid", lambda: CallAttempt.objects.filter(pk=attempt.pk).update(outcome="busy"))


def test_references_are_short_unambiguous_and_unique():
    references = {DiscoveryCallRequestFactory().reference for _ in range(30)}
    assert len(references) == 30
    for reference in references:
        assert re.fullmatch(r"DC-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{5}", reference)
    taken = next(iter(references))
    with pytest.raises(IntegrityError), transaction.atomic():
        DiscoveryCallRequestFactory(reference=taken)


def test_no_ip_address_is_stored():
    names = {field.name for field in DiscoveryCallRequest._meta.get_fields()}
    assert not {name for name in names if "ip" in name.split("_") or "address" in name}


def test_every_change_is_kept_in_the_history():
    call_request = DiscoveryCallRequestFactory()
    DiscoveryCallRequest.objects.get(pk=call_request.pk).save()
    assert call_request.history.count() == 2
    assert CallAttemptFactory(request=call_request).history.count() == 1

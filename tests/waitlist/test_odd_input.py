"""The waiting list's public pages given what no link or browser of ours sends: a 404 or the
form again, never a 500. Found by tests/test_public_forms_hypothesis.py."""

import pytest
from django.test import override_settings
from django.urls import reverse

from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("token", ["\x00", "abc\x00def", "ab cd", "é" * 10])
def test_a_link_token_no_link_could_have_is_a_plain_404(client, catalogue, token):
    assert client.get(reverse("waitlist:entry", args=[token])).status_code == 404
    assert client.get(reverse("waitlist:offer", args=[token])).status_code == 404
    assert client.post(reverse("waitlist:leave", args=[token])).status_code == 404


@override_settings(RATELIMIT_IP_META_KEY="HTTP_X_REAL_IP")
def test_joining_through_a_balancer_that_sent_no_address_is_counted_not_a_500(client, catalogue, booking_day):
    data = {
        "practitioner": "any",
        "first_day": booking_day.isoformat(),
        "last_day": booking_day.isoformat(),
        "times_of_day": ["mornings"],
        "first_name": "Wanda",
        "last_name": "Waiting",
        "email": "wanda@example.com",
        "phone": "(614) 555-0177",
    }
    response = client.post(reverse("waitlist:join") + "?service=dry-needling-initial&location=westerville", data)

    assert response.status_code == 302
    assert WaitlistEntry.objects.count() == 1

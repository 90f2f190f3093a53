"""No IANA zone name ("America/Edmonton") on any page or in any email a patient reads: times
carry the place's clock in words ("Calgary time"). Calendar files keep their TZID, which is
for the calendar app, not for people."""

import re
import zoneinfo
from datetime import timedelta
from urllib.parse import unquote, urlencode

import pytest
import time_machine
from django.core import mail, signing
from django.urls import reverse

from booking.services import book_follow_ups, cancel_appointment, reschedule_appointment
from discovery.views import THANKS_SALT
from tests.helpers import book, worker_round
from tests.waitlist.helpers import join, make_offers

ZONE_NAME = re.compile(
    "|".join(sorted((re.escape(key) for key in zoneinfo.available_timezones() if "/" in key), key=len, reverse=True))
)

pytestmark = pytest.mark.django_db


def zone_names_in(text: str) -> list[str]:
    """The zone names a person reads or hears: not a time-zone picker's option values or a
    script's data attribute, which nobody sees (titles and labels are still read)."""
    readable = re.sub(r"<script.*?</script>|\s(?:value|data-[\w-]+)=\"[^\"]*\"", " ", text, flags=re.S)
    return sorted(set(ZONE_NAME.findall(readable)))


@pytest.fixture
def patient_world(catalogue, open_all_week, ten_am, booking_day, dry_needling, westerville, physio):
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    book_follow_ups(appointment=appointment, sessions=2, interval_weeks=1, consent_given=True, consent_version="1")
    moved = book(dry_needling, westerville, ten_am + timedelta(days=1), practitioner=physio, n=1)
    cancelled = book(dry_needling, westerville, ten_am + timedelta(hours=4), practitioner=physio, n=2)
    entry = join(dry_needling, westerville, booking_day, n=3)
    worker_round()  # the confirmations, so the changes below are told of
    reschedule_appointment(appointment=moved, new_start=ten_am + timedelta(days=1, hours=2), actor=None)
    cancel_appointment(appointment=cancelled, actor=None)
    offer = make_offers()[0]
    thanks = signing.dumps(
        {"reference": "K7Q-4M2P", "best_time": "afternoon", "day": booking_day.isoformat()}, salt=THANKS_SALT
    )
    return {"appointment": appointment, "moved": moved, "entry": entry, "offer": offer, "thanks": thanks}


def test_no_patient_page_names_a_zone(client, patient_world, dry_needling, westerville, ten_am, sciatica):
    token = patient_world["appointment"].manage_token
    choice = f"service={dry_needling.slug}&location={westerville.slug}&practitioner=any"
    pages = [
        "/", "/services/", f"/services/{dry_needling.slug}/", "/practitioners/", "/practitioners/maya-lindqvist/",
        "/conditions/", f"/conditions/{sciatica.slug}/", "/book/", f"/book/?service={dry_needling.slug}",
        f"/book/?{choice}", f"/book/details/?{choice}&start={ten_am.isoformat()}",
        reverse("booking:manage", args=[token]), reverse("booking:reschedule", args=[token]),
        f"{reverse('booking:reschedule', args=[token])}?start={(ten_am + timedelta(hours=1)).isoformat()}",
        reverse("booking:cancel", args=[token]), reverse("booking:follow_ups", args=[token]),
        f"/waitlist/join/?{choice}", reverse("waitlist:entry", args=[patient_world["entry"].token]),
        reverse("waitlist:offer", args=[patient_world["offer"].token]),
        "/discovery-call/", reverse("discovery:thanks", args=[patient_world["thanks"]]),
    ]  # fmt: skip
    found = {}
    for page in pages:
        response = client.get(page.replace("+", "%2B"))
        assert response.status_code == 200, page
        if names := zone_names_in(response.content.decode()):
            found[page] = names
    assert not found


def test_no_page_or_email_of_a_phone_call_names_a_zone(client, discovery_call, phone_line, booking_day):
    """A caller in Calgary books from the times page their browser put on Calgary's clock."""
    from tests.booking.test_discovery_call_booking import CALLER

    choice = {"service": discovery_call.slug, "location": phone_line.slug, "practitioner": "any"}
    times = client.get("/book/", {**choice, "zone": "America/Edmonton", "from": str(booking_day)}).content.decode()
    start = unquote(re.search(r"start=([^\"]+)\"", times).group(1))
    details = f"/book/details/?{urlencode({**choice, 'zone': 'America/Edmonton', 'start': start})}"
    booked = client.post("/book/details/", {**choice, "start": start, **CALLER, "timezone": "America/Edmonton"})
    assert booked.status_code == 302
    token = booked.url.split("/")[-2]
    pages = [f"/book/?{urlencode(choice)}", times, details, booked.url, reverse("booking:reschedule", args=[token])]
    found = {}
    for page in pages:
        html = page if page is times else client.get(page).content.decode()
        if names := zone_names_in(html):
            found[page[:60]] = names
    assert not found
    worker_round()
    assert mail.outbox and not zone_names_in("\n".join(message.subject + message.body for message in mail.outbox))


def test_no_email_to_a_patient_names_a_zone(patient_world, ten_am):
    with time_machine.travel(ten_am - timedelta(hours=23)):  # the reminders are due
        worker_round()
    kinds = ["Your appointment at", "Reminder:", "has moved to", "is cancelled", "A time has opened", "waiting list"]
    assert all(any(kind in message.subject for message in mail.outbox) for kind in kinds), [
        message.subject for message in mail.outbox
    ]
    found = {}
    for message in mail.outbox:
        texts = [message.subject, message.body, *(body for body, _ in getattr(message, "alternatives", []))]
        for attachment in message.attachments:
            calendar = attachment[1] if isinstance(attachment, tuple) else attachment.get_payload(decode=True)
            text = calendar.decode() if isinstance(calendar, bytes) else calendar
            texts += re.findall(r"^(?:SUMMARY|DESCRIPTION|LOCATION):.*$", text, flags=re.M)
        if names := zone_names_in("\n".join(texts)):
            found[message.subject] = names
    assert not found

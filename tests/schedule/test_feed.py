"""The private calendar feed: what it shows (and never shows), its token, its settings page."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking.models import Appointment, TimeOff
from patients.models import Screening
from schedule.models import CalendarFeed
from schedule.services import regenerate_feed_token, set_feed_patient_names
from tests.factories import AppointmentFactory, PatientFactory

SETTINGS_PAGE = reverse("schedule:feed_settings")
# A fixed now, far from any clock change in New York, for the tests that need exact bounds.
NOW = datetime(2031, 6, 11, 16, 0, tzinfo=UTC)


def feed_path(feed: CalendarFeed) -> str:
    return reverse("schedule:feed", args=[feed.token])


@pytest.fixture
def physio_feed(physio, practitioner_user) -> CalendarFeed:
    return regenerate_feed_token(practitioner=physio, by=practitioner_user)


@pytest.fixture
def ada(db):
    return PatientFactory(first_name="Ada", last_name="Lovelace")


@pytest.fixture
def physio_client(client, practitioner_user, physio):
    client.force_login(practitioner_user)
    return client


def appointment_at(start, *, practitioner, location, service, patient=None, status="confirmed") -> Appointment:
    return AppointmentFactory(
        practitioner=practitioner,
        location=location,
        service=service,
        patient=patient or PatientFactory(),
        start=start,
        end=start + timedelta(minutes=60),
        blocked_until=start + timedelta(minutes=75),
        status=status,
    )


def events_of(response) -> dict[str, object]:
    """The feed's events by UID, after a real parse."""
    calendar = Calendar.from_ical(response.content)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def uid(appointment: Appointment) -> str:
    # Not the patient's own file's UID (appointment-...): two calendars, two events.
    return f"schedule-{appointment.reference}@testserver"


@pytest.mark.django_db
class TestFeed:
    def test_parses_with_own_appointments_only(
        self, client, physio_feed, physio, acupuncturist, westerville, dry_needling, acupuncture, ada
    ):
        soon = (timezone.now() + timedelta(days=2)).replace(microsecond=0)  # iCalendar counts whole seconds
        own = appointment_at(soon, practitioner=physio, location=westerville, service=dry_needling, patient=ada)
        theirs = appointment_at(soon, practitioner=acupuncturist, location=westerville, service=acupuncture)
        response = client.get(feed_path(physio_feed))  # no login: the token is the credential
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert response["Cache-Control"] == "private, no-store"
        events = events_of(response)
        assert set(events) == {uid(own)}
        assert theirs.reference not in response.content.decode()
        event = events[uid(own)]
        assert str(event["summary"]) == "Ada L. · Initial assessment + dry needling"
        assert str(event["location"]) == "Westerville, 1 Main Street, Westerville, OH 43081"
        assert str(event["status"]) == "CONFIRMED"
        assert f"Reference: {own.reference}" in str(event["description"])
        assert "Status: Confirmed" in str(event["description"])
        assert event.decoded("dtstart") == soon
        assert event.decoded("dtend") == soon + timedelta(minutes=60)
        assert event.decoded("last-modified") == own.updated_at.replace(microsecond=0)
        assert int(event["sequence"]) == 0  # RFC 5545: 0 when created
        assert "dtstamp" in event

    def test_window_is_fourteen_days_back_and_sixty_ahead(self, client, physio_feed, physio, westerville, dry_needling):
        with time_machine.travel(NOW, tick=False):
            # A minute either side of each bound; the feed shows every status, and cancelled ones
            # may overlap live ones.
            starts = {
                "too old": (NOW - timedelta(days=14, minutes=1), "cancelled"),
                "oldest": (NOW - timedelta(days=14), "completed"),
                "latest": (NOW + timedelta(days=60, minutes=-1), "confirmed"),
                "too far": (NOW + timedelta(days=60), "cancelled"),
            }
            made = {
                name: appointment_at(
                    start, practitioner=physio, location=westerville, service=dry_needling, status=status
                )
                for name, (start, status) in starts.items()
            }
            events = events_of(client.get(feed_path(physio_feed)))
        assert set(events) == {uid(made["oldest"]), uid(made["latest"])}

    @pytest.mark.parametrize(
        ("status", "ics_status", "prefix"),
        [
            ("confirmed", "CONFIRMED", ""),
            ("arrived", "CONFIRMED", ""),
            ("completed", "CONFIRMED", ""),
            # A no-show gives its time back, like a cancellation; the summary tells them apart.
            ("no_show", "CANCELLED", "No-show: "),
        ],
    )
    def test_status(self, client, physio_feed, physio, westerville, dry_needling, ada, status, ics_status, prefix):
        appointment = appointment_at(
            timezone.now() - timedelta(days=1),
            practitioner=physio,
            location=westerville,
            service=dry_needling,
            patient=ada,
            status=status,
        )
        event = events_of(client.get(feed_path(physio_feed)))[uid(appointment)]
        assert str(event["status"]) == ics_status
        assert str(event["summary"]) == f"{prefix}Ada L. · Initial assessment + dry needling"
        assert f"Status: {appointment.get_status_display()}" in str(event["description"])
        assert str(event["transp"]) == ("OPAQUE" if ics_status == "CONFIRMED" else "TRANSPARENT")

    def test_short_names_by_default_and_full_names_when_chosen(
        self, client, physio_feed, physio, practitioner_user, westerville, dry_needling, ada
    ):
        appointment = appointment_at(
            timezone.now() + timedelta(days=1),
            practitioner=physio,
            location=westerville,
            service=dry_needling,
            patient=ada,
        )
        short = client.get(feed_path(physio_feed))
        assert "Lovelace" not in short.content.decode()
        assert str(events_of(short)[uid(appointment)]["summary"]).startswith("Ada L. ·")

        set_feed_patient_names(practitioner=physio, full_patient_names=True, by=practitioner_user)
        full = client.get(feed_path(physio_feed))
        assert str(events_of(full)[uid(appointment)]["summary"]).startswith("Ada Lovelace ·")

    def test_no_screening_answers_or_health_data(self, client, physio_feed, physio, westerville, dry_needling):
        appointment = appointment_at(
            timezone.now() + timedelta(days=1), practitioner=physio, location=westerville, service=dry_needling
        )
        Screening.objects.create(
            appointment=appointment,
            pregnant=True,
            blood_thinners=True,
            bleeding_disorder=True,
            needle_fear=True,
            needled_before=True,
            previous_needling_notes="Fainted after the first session",
            other_conditions="Takes warfarin; epilepsy",
        )
        body = client.get(feed_path(physio_feed)).content.decode().lower()
        assert appointment.reference.lower() in body
        for health_word in ["warfarin", "epilepsy", "fainted", "pregnan", "thinner", "bleeding", "fear", "screening"]:
            assert health_word not in body

    def test_uids_are_stable_across_fetches_and_changes(self, client, physio_feed, physio, westerville, dry_needling):
        appointment = appointment_at(
            (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0),
            practitioner=physio,
            location=westerville,
            service=dry_needling,
        )
        first = events_of(client.get(feed_path(physio_feed)))
        second = events_of(client.get(feed_path(physio_feed)))
        assert set(first) == set(second) == {uid(appointment)}

        # Moved (the services bump the sequence on every path): the same event, a higher
        # sequence, so apps update it in place.
        appointment.start += timedelta(hours=2)
        appointment.end += timedelta(hours=2)
        appointment.blocked_until += timedelta(hours=2)
        appointment.sequence += 1
        appointment.save()
        moved = events_of(client.get(feed_path(physio_feed)))
        assert set(moved) == {uid(appointment)}
        assert int(moved[uid(appointment)]["sequence"]) > int(first[uid(appointment)]["sequence"])
        assert moved[uid(appointment)].decoded("dtstart") == appointment.start

    @pytest.mark.parametrize(
        ("local_start", "utc_start", "abbreviation"),
        [
            # New York springs forward at 02:00 on 14 March 2027 and falls back on 7 November 2027.
            (datetime(2027, 3, 13, 10), datetime(2027, 3, 13, 15, tzinfo=UTC), "EST"),
            (datetime(2027, 3, 14, 10), datetime(2027, 3, 14, 14, tzinfo=UTC), "EDT"),
            (datetime(2027, 11, 7, 0, 30), datetime(2027, 11, 7, 4, 30, tzinfo=UTC), "EDT"),
            (datetime(2027, 11, 7, 10), datetime(2027, 11, 7, 15, tzinfo=UTC), "EST"),
        ],
    )
    def test_a_clock_change_day_has_the_right_local_time(
        self, client, physio_feed, physio, westerville, dry_needling, local_start, utc_start, abbreviation
    ):
        with time_machine.travel(utc_start - timedelta(days=3), tick=False):
            appointment = appointment_at(utc_start, practitioner=physio, location=westerville, service=dry_needling)
            response = client.get(feed_path(physio_feed))
        assert f"DTSTART;TZID=America/New_York:{local_start:%Y%m%dT%H%M%S}" in response.content.decode()
        calendar = Calendar.from_ical(response.content)
        event = calendar.walk("VEVENT")[0]
        assert str(event["uid"]) == uid(appointment)
        start = event.decoded("dtstart")
        assert start == utc_start
        assert start.replace(tzinfo=None) == local_start and start.tzname() == abbreviation
        # The zone travels with the file, both halves of the year.
        (zone,) = calendar.walk("VTIMEZONE")
        assert str(zone["tzid"]) == "America/New_York"
        assert zone.walk("STANDARD") and zone.walk("DAYLIGHT")

    def test_a_vtimezone_for_each_locations_zone(self, client, physio_feed, physio, westerville, calgary, dry_needling):
        soon = timezone.now() + timedelta(days=1)
        appointment_at(soon, practitioner=physio, location=westerville, service=dry_needling)
        in_calgary = appointment_at(
            soon + timedelta(hours=4), practitioner=physio, location=calgary, service=dry_needling
        )
        response = client.get(feed_path(physio_feed))
        calendar = Calendar.from_ical(response.content)
        assert {str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")} == {"America/New_York", "America/Edmonton"}
        local = timezone.localtime(in_calgary.start, calgary.zone)
        assert f"DTSTART;TZID=America/Edmonton:{local:%Y%m%dT%H%M%S}" in response.content.decode()

    def test_two_queries_whatever_the_number_of_appointments(
        self, client, physio_feed, physio, westerville, dry_needling, ada, django_assert_num_queries
    ):
        first = timezone.now() - timedelta(days=13)
        appointment_at(first, practitioner=physio, location=westerville, service=dry_needling, patient=ada)
        with django_assert_num_queries(3):  # the feed by its token, its appointments, its time off
            assert len(events_of(client.get(feed_path(physio_feed)))) == 1
        for number in range(1, 200):
            appointment_at(
                first + timedelta(hours=8 * number), practitioner=physio, location=westerville, service=dry_needling,
                patient=ada, status=["confirmed", "completed", "cancelled", "no_show"][number % 4],
            )  # fmt: skip
        with django_assert_num_queries(3):
            response = client.get(feed_path(physio_feed))
        assert len(events_of(response)) == 150  # the cancelled quarter is left out

    def test_only_get_and_head(self, client, physio_feed):
        assert client.head(feed_path(physio_feed)).status_code == 200
        assert client.post(feed_path(physio_feed)).status_code == 405


@pytest.mark.django_db
class TestToken:
    def test_is_256_bits_and_unique_per_practitioner(self, physio_feed, acupuncturist, other_practitioner_user):
        other = regenerate_feed_token(practitioner=acupuncturist, by=other_practitioner_user)
        assert len(physio_feed.token) >= 43 and len(other.token) >= 43
        assert physio_feed.token != other.token

    @pytest.mark.parametrize(
        "token",
        ["", "short", "x" * 43, "q7J0mZ1xYk3bLr8Vn2Pd5Wc9Ts4Ha6Ue1Gf0Io3KjA", "a" * 65, "../../etc/passwd" + "a" * 40],
    )
    def test_an_unknown_or_malformed_token_is_a_404(self, client, physio_feed, token):
        assert client.get(f"/schedule/feed/{token}.ics").status_code == 404

    def test_regenerating_makes_the_old_link_a_404_at_once(self, physio_client, physio, physio_feed):
        old_path = feed_path(physio_feed)
        assert physio_client.get(old_path).status_code == 200
        response = physio_client.post(SETTINGS_PAGE, {"action": "regenerate"})
        assert response.status_code == 302
        assert physio_client.get(old_path).status_code == 404
        new = CalendarFeed.objects.get(practitioner=physio)
        assert new.token != physio_feed.token and new.rotated_at is not None
        assert physio_client.get(feed_path(new)).status_code == 200

    def test_the_history_records_who_regenerated_but_never_the_token(self, physio, practitioner_user, physio_feed):
        regenerate_feed_token(practitioner=physio, by=practitioner_user)
        records = list(physio_feed.history.order_by("history_id"))
        assert [record.history_change_reason for record in records] == ["link created", "link regenerated"]
        assert {record.history_user for record in records} == {practitioner_user}
        assert not hasattr(records[0], "token")

    def test_a_practitioner_who_has_left_has_no_feed(self, client, physio, practitioner_user, physio_feed):
        physio.is_active = False
        physio.save()
        assert client.get(feed_path(physio_feed)).status_code == 404
        physio.is_active = True
        physio.save()
        practitioner_user.is_active = False
        practitioner_user.save()
        assert client.get(feed_path(physio_feed)).status_code == 404


@pytest.mark.django_db
class TestSettingsPage:
    def test_without_a_feed_offers_to_create_one(self, physio_client, physio):
        response = physio_client.get(SETTINGS_PAGE)
        assert response.status_code == 200
        assert "Create my calendar link" in response.content.decode()
        assert not CalendarFeed.objects.exists()  # a GET writes nothing

        physio_client.post(SETTINGS_PAGE, {"action": "regenerate"})
        feed = CalendarFeed.objects.get(practitioner=physio)
        assert feed.full_patient_names is False and feed.rotated_at is None

    def test_shows_the_absolute_link_and_how_to_add_it(self, physio_client, physio_feed):
        page = physio_client.get(SETTINGS_PAGE).content.decode()
        assert f'value="http://testserver/schedule/feed/{physio_feed.token}.ics"' in page
        assert f'href="webcal://testserver/schedule/feed/{physio_feed.token}.ics"' in page
        for app in ("Google Calendar", "Apple Calendar", "Outlook"):
            assert app in page
        assert "Regenerate the link" in page

    def test_the_names_setting(self, physio_client, physio, physio_feed):
        physio_client.post(SETTINGS_PAGE, {"action": "names", "full_patient_names": "on"})
        physio_feed.refresh_from_db()
        assert physio_feed.full_patient_names is True
        assert "checked" in physio_client.get(SETTINGS_PAGE).content.decode()

        physio_client.post(SETTINGS_PAGE, {"action": "names"})  # an unticked box sends nothing
        physio_feed.refresh_from_db()
        assert physio_feed.full_patient_names is False
        assert physio_feed.token == CalendarFeed.objects.get().token  # the link is unchanged

    def test_an_unknown_action_is_a_400(self, physio_client, physio_feed):
        assert physio_client.post(SETTINGS_PAGE, {"action": "delete everything"}).status_code == 400

    def test_shows_only_own_feed(self, physio_client, acupuncturist, other_practitioner_user, physio_feed):
        theirs = regenerate_feed_token(practitioner=acupuncturist, by=other_practitioner_user)
        page = physio_client.get(SETTINGS_PAGE).content.decode()
        assert physio_feed.token in page and theirs.token not in page

    def test_query_count(self, physio_client, physio_feed, django_assert_num_queries):
        # Session, user, practitioner (access check), the feed (the staff footer lists no locations).
        with django_assert_num_queries(4):
            assert physio_client.get(SETTINGS_PAGE).status_code == 200

    @pytest.mark.parametrize("who", ["anonymous", "receptionist", "outsider"])
    def test_only_practitioners_reach_it(self, client, who, receptionist, outsider, physio_feed):
        if who != "anonymous":
            client.force_login({"receptionist": receptionist, "outsider": outsider}[who])
        page, regenerate = client.get(SETTINGS_PAGE), client.post(SETTINGS_PAGE, {"action": "regenerate"})
        expected = {"anonymous": 302, "receptionist": 302, "outsider": 403}[who]
        assert page.status_code == regenerate.status_code == expected
        assert CalendarFeed.objects.get().token == physio_feed.token


@pytest.mark.django_db
class TestFeedBusyTimes:
    def test_cancelled_appointments_are_left_out(self, client, physio_feed, physio, westerville, dry_needling):
        soon = timezone.now() + timedelta(days=1)
        kept = appointment_at(soon, practitioner=physio, location=westerville, service=dry_needling)
        appointment_at(soon + timedelta(hours=2), practitioner=physio, location=westerville, service=dry_needling,
                       status="cancelled")  # fmt: skip
        assert set(events_of(client.get(feed_path(physio_feed)))) == {uid(kept)}

    def test_time_off_and_closures_are_busy_blocks_without_their_reason(
        self, client, physio_feed, physio, acupuncturist, westerville, calgary, practitioner_user
    ):
        soon = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
        own = TimeOff.objects.create(practitioner=physio, start=soon, end=soon + timedelta(hours=3), reason="Dentist")
        physio.locations.add(westerville)
        closure = TimeOff.objects.create(
            location=westerville, start=soon + timedelta(days=1), end=soon + timedelta(days=2), reason="Floor repairs"
        )
        # Neither someone else's time off nor a closure of a place they do not work at.
        TimeOff.objects.create(practitioner=acupuncturist, start=soon, end=soon + timedelta(hours=1), reason="X")
        if not physio.locations.filter(pk=calgary.pk).exists():
            TimeOff.objects.create(location=calgary, start=soon, end=soon + timedelta(hours=1), reason="Y")
        # Out of the window: ended before it.
        TimeOff.objects.create(practitioner=physio, start=soon - timedelta(days=40), end=soon - timedelta(days=39))

        response = client.get(feed_path(physio_feed))
        events = events_of(response)
        assert set(events) == {f"time-off-{own.pk}@testserver", f"time-off-{closure.pk}@testserver"}
        busy = events[f"time-off-{own.pk}@testserver"]
        assert (busy.decoded("dtstart"), busy.decoded("dtend")) == (own.start, own.end)
        assert str(busy["summary"]) == "Time off"
        assert str(busy["transp"]) == "OPAQUE"
        assert str(events[f"time-off-{closure.pk}@testserver"]["summary"]) == "Closed: Westerville"
        assert "Dentist" not in response.content.decode() and "Floor" not in response.content.decode()

        set_feed_patient_names(practitioner=physio, full_patient_names=True, by=practitioner_user)
        events = events_of(client.get(feed_path(physio_feed)))
        assert str(events[f"time-off-{own.pk}@testserver"]["summary"]) == "Time off (Dentist)"

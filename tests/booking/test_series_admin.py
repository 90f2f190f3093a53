"""Reception in the admin: treatment series session by session, reminders sent, and an
appointment's series on its record."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment, TreatmentSeries
from patients.models import ConsentText
from tests.booking.test_series import book_weekly, week
from tests.factories import AppointmentFactory, PatientFactory

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)
SERIES_LIST = reverse("admin:booking_treatmentseries_changelist")
APPOINTMENT_LIST = reverse("admin:booking_appointment_changelist")


def series_url(series) -> str:
    return reverse("admin:booking_treatmentseries_change", args=[series.pk])


@pytest.fixture
def series(first_visit, physio, westerville, booking_day):
    """Ada's three weekly follow-ups; another patient holds week 2."""
    AppointmentFactory(practitioner=physio, location=westerville, start=week(booking_day, westerville, 2))
    return book_weekly(first_visit).series


def many_series(count, *, physio, westerville, service, follow_up):
    """`count` series of two sessions, one booked, written as rows."""
    consent, first = ConsentText.objects.latest(), timezone.now() + timedelta(days=2)
    for index in range(count):
        start = first + index * HOUR
        source = AppointmentFactory(
            patient=PatientFactory(), practitioner=physio, location=westerville, service=service, start=start
        )
        wanted = [source.start + timedelta(weeks=1), source.start + timedelta(weeks=2)]
        made = TreatmentSeries.objects.create(
            source_appointment=source,
            service=follow_up,
            practitioner=physio,
            location=westerville,
            interval_weeks=1,
            sessions_requested=2,
            wanted_starts=wanted,
            consent=consent,
        )
        AppointmentFactory(
            patient=source.patient,
            practitioner=physio,
            location=westerville,
            service=follow_up,
            start=wanted[0],
            series=made,
            series_session=1,
        )


def test_reception_reads_series_but_cannot_write_them(receptionist):
    assert receptionist.has_perm("booking.view_treatmentseries")
    for action in ("add", "change", "delete"):
        assert not receptionist.has_perm(f"booking.{action}_treatmentseries")
    granted = Permission.objects.filter(group__name="Reception", codename__endswith="treatmentseries")
    assert list(granted.values_list("codename", flat=True)) == ["view_treatmentseries"]


def test_the_series_list_stays_in_bounded_queries(
    client, receptionist, physio, westerville, dry_needling, follow_up, django_assert_max_num_queries
):
    many_series(30, physio=physio, westerville=westerville, service=dry_needling, follow_up=follow_up)
    client.force_login(receptionist)
    # The session, the user and two of permissions, three filters' choices, two counts and the rows.
    with django_assert_max_num_queries(10):
        response = client.get(SERIES_LIST)
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["cl"].result_count == 30
    assert page.count("1 of 2") == 30
    assert "Dry needling follow-up" in page and "Maya Lindqvist" in page and "Every week" in page


def test_the_list_finds_a_series_by_reference_name_or_phone(client, receptionist, series, first_visit):
    client.force_login(receptionist)
    for term in (first_visit.reference, "Lovelace0", "(614) 555-0100"):
        response = client.get(SERIES_LIST, {"q": term})
        assert response.context["cl"].result_count == 1, term
    assert client.get(SERIES_LIST, {"q": "Nobody"}).context["cl"].result_count == 0


def test_a_series_shows_each_session_with_links_in_bounded_queries(
    client, receptionist, series, first_visit, django_assert_max_num_queries
):
    client.force_login(receptionist)
    # The page's own (session, user, permissions, the series, its visits, a content type) and
    # the overview's two: the visits and the patient's other appointments.
    with django_assert_max_num_queries(9):
        response = client.get(series_url(series))
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 of 3" in page
    for visit in series.appointments.all():
        assert reverse("admin:booking_appointment_change", args=[visit.pk]) in page
        assert visit.reference in page
    assert "not booked. Maya Lindqvist was not free at that time." in page
    assert reverse("admin:booking_appointment_change", args=[first_visit.pk]) in page  # booked from
    assert reverse("admin:patients_patient_change", args=[first_visit.patient.pk]) in page
    assert "Visits booked in this series" in page
    assert " EST" in page or " EDT" in page  # local times, the zone named
    assert 'name="_save"' not in page


def test_a_series_is_never_added_changed_or_deleted_in_the_admin(client, superuser, series):
    client.force_login(superuser)
    assert client.get(reverse("admin:booking_treatmentseries_add")).status_code == 403
    assert client.post(series_url(series), {"sessions_requested": "6"}).status_code == 403
    assert client.post(reverse("admin:booking_treatmentseries_delete", args=[series.pk])).status_code == 403
    assert TreatmentSeries.objects.get().sessions_requested == 3


def test_a_practitioner_without_the_permission_is_refused(client, practitioner_user, series):
    practitioner_user.is_staff = True
    practitioner_user.save()
    client.force_login(practitioner_user)
    assert client.get(SERIES_LIST).status_code == 403
    assert client.get(series_url(series)).status_code == 403


@pytest.mark.parametrize("query", [{"interval_weeks__exact": "\x00"}, {"q": "a\x00"}, {"o": "99"}])
def test_odd_list_input_gives_the_list_back_not_a_500(client, receptionist, series, query):
    client.force_login(receptionist)
    assert client.get(SERIES_LIST, query, follow=True).status_code == 200


def test_an_appointment_shows_its_series_and_the_series_booked_from_it(client, receptionist, series, first_visit):
    client.force_login(receptionist)
    visit = series.appointments.get(series_session=3)
    page = client.get(reverse("admin:booking_appointment_change", args=[visit.pk])).content.decode()
    assert "Visit 3 of 3 of" in page and series_url(series) in page
    page = client.get(reverse("admin:booking_appointment_change", args=[first_visit.pk])).content.decode()
    assert "Follow-ups booked from this appointment" in page and series_url(series) in page


# Reminders sent ---------------------------------------------------------------------------------


def test_the_appointment_list_shows_and_filters_reminders_sent(client, receptionist, physio, westerville):
    start = timezone.now() + timedelta(days=2)
    reminded = AppointmentFactory(
        practitioner=physio, location=westerville, start=start, reminder_sent_at=timezone.now()
    )
    waiting = AppointmentFactory(practitioner=physio, location=westerville, start=start + 2 * HOUR)
    client.force_login(receptionist)
    page = client.get(APPOINTMENT_LIST).content.decode()
    assert "Reminder sent" in page
    assert 'alt="True"' in page and 'alt="False"' in page

    def listed(query):
        return {row.pk for row in client.get(APPOINTMENT_LIST, query).context["cl"].result_list}

    assert listed({"reminder_sent": "yes"}) == {reminded.pk}
    assert listed({"reminder_sent": "no"}) == {waiting.pk}
    assert listed({"reminder_sent": "perhaps"}) == {reminded.pk, waiting.pk}
    assert Appointment.objects.count() == 2

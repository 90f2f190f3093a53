"""The call-back list as reception works it: find, log calls, convert, close; read the history."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from discovery.models import CallAttempt, DiscoveryCallRequest
from discovery.services import log_call_attempt
from patients.models import Patient
from tests.discovery.factories import CallAttemptFactory, DiscoveryCallRequestFactory
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:discovery_discoverycallrequest_changelist")
Status = DiscoveryCallRequest.Status
NEW_YORK = ZoneInfo("America/New_York")


def change_url(call_request) -> str:
    return reverse("admin:discovery_discoverycallrequest_change", args=[call_request.pk])


def log_call_url(call_request) -> str:
    return reverse("admin:discovery_discoverycallrequest_log_call", args=[call_request.pk])


def convert_url(call_request) -> str:
    return reverse("admin:discovery_discoverycallrequest_convert", args=[call_request.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def call_request(db):
    return DiscoveryCallRequestFactory(name="Ada King Lovelace", email="ada@example.com", phone="+16145550142")


@pytest.fixture
def staff_practitioner(practitioner_user):
    """A practitioner let into the admin: proves the permissions refuse them, not only the staff flag."""
    practitioner_user.is_staff = True
    practitioner_user.save()
    return practitioner_user


# The list -----------------------------------------------------------------------------------


def test_the_list_shows_who_waits_how_long_and_what_was_tried(client, receptionist, westerville):
    with time_machine.travel(datetime(2030, 1, 14, 10, tzinfo=NEW_YORK), tick=False):  # a Monday
        # From last Thursday: due by Friday at the same time.
        old = DiscoveryCallRequestFactory(name="Old Caller", created_at=timezone.now() - timedelta(days=4))
        fresh = DiscoveryCallRequestFactory(name="Fresh Caller", created_at=timezone.now() - timedelta(hours=2))
        tried = DiscoveryCallRequestFactory(
            name="Tried Caller", created_at=timezone.now() - timedelta(days=4), status=Status.CONTACTED
        )
        CallAttemptFactory(request=tried, outcome=CallAttempt.Outcome.NO_ANSWER)
        CallAttemptFactory(request=tried, outcome=CallAttempt.Outcome.REACHED)
        client.force_login(receptionist)
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    rows = {
        name: page.split(name, 1)[1].split("</tr>", 1)[0] for name in ("Old Caller", "Fresh Caller", "Tried Caller")
    }
    assert '<span class="discovery-overdue">Overdue</span> 4\xa0days' in rows["Old Caller"]
    assert "Overdue" not in rows["Fresh Caller"] and "2\xa0hours" in rows["Fresh Caller"]
    assert "Overdue" not in rows["Tried Caller"]  # contacted: no longer waiting
    assert "2 (1 unanswered)" in rows["Tried Caller"] and "none yet" in rows["Old Caller"]
    assert old.reference in page and fresh.reference in page
    assert log_call_url(old) in rows["Old Caller"] and convert_url(old) in rows["Old Caller"]


def test_every_open_request_waiting_over_a_business_day_is_flagged(client, receptionist, westerville):
    monday_ten = datetime(2030, 1, 14, 10, tzinfo=NEW_YORK)
    with time_machine.travel(monday_ten, tick=False):
        last_week = timezone.now() - timedelta(days=7)
        for name, status in [("Voicemail Caller", Status.CONTACTED), ("Unreachable Caller", Status.NO_ANSWER)]:
            # Last tried on Thursday: due again by Friday at the same time.
            stale = DiscoveryCallRequestFactory(name=name, created_at=last_week, status=status)
            CallAttemptFactory(request=stale, attempted_at=timezone.now() - timedelta(days=4))
        # In last week, but tried this morning: the clock restarted.
        tried_today = DiscoveryCallRequestFactory(name="Today Caller", created_at=last_week, status=Status.CONTACTED)
        CallAttemptFactory(request=tried_today, attempted_at=timezone.now() - timedelta(hours=1))
        DiscoveryCallRequestFactory(name="Closed Caller", status=Status.CLOSED, created_at=last_week)
        DiscoveryCallRequestFactory(name="Unfit Caller", status=Status.NOT_A_FIT, created_at=last_week)
        client.force_login(receptionist)
        page = client.get(CHANGELIST).content.decode()
    rows = {
        name: page.split(name, 1)[1].split("</tr>", 1)[0]
        for name in ("Voicemail Caller", "Unreachable Caller", "Today Caller", "Closed Caller", "Unfit Caller")
    }
    for name in ("Voicemail Caller", "Unreachable Caller"):
        assert '<span class="discovery-overdue">Overdue</span> 4\xa0days since last call' in rows[name]
    assert "Overdue" not in rows["Today Caller"] and "1\xa0hour since last call" in rows["Today Caller"]
    for finished in ("Closed Caller", "Unfit Caller"):  # waiting for nothing
        assert '<td class="field-waiting">—</td>' in rows[finished]
        assert "minutes" not in rows[finished] and "Overdue" not in rows[finished]


def test_the_record_shows_its_times_on_the_call_back_clock(client, receptionist, by_phone):
    fifteen_utc = datetime(2030, 1, 14, 15, tzinfo=ZoneInfo("UTC"))  # 10:00 in New York
    call_request = DiscoveryCallRequestFactory(created_at=fifteen_utc, consented_at=fifteen_utc)
    CallAttemptFactory(request=call_request, attempted_at=fifteen_utc + timedelta(minutes=30), note="Left a message")
    client.force_login(receptionist)
    page = client.get(change_url(call_request)).content.decode()
    assert page.count("Mon 14 Jan 2030 10:00 AM America/New_York") == 2  # created, consented
    assert "Mon 14 Jan 2030 10:30 AM America/New_York" in page  # the call attempt
    assert "15:00" not in page and "3 p.m." not in page and "3:30 p.m." not in page


@pytest.mark.parametrize("query", ["DC-", "King", "ada@example", "(614) 555-0142", "614-555-0142", "+16145550142"])
def test_search_by_reference_name_email_or_phone_as_typed(client, receptionist, call_request, query):
    DiscoveryCallRequestFactory(name="Someone Else", email="else@example.com", phone="+14035550163")
    client.force_login(receptionist)
    if query == "DC-":
        query = call_request.reference
    response = client.get(CHANGELIST, {"q": query})
    assert [row.pk for row in response.context["cl"].result_list] == [call_request.pk]


@pytest.mark.parametrize(
    "filters", [{"status__exact": "new"}, {"best_time__exact": "morning"}, {"heard_about__exact": ""}]
)
def test_filters(client, receptionist, call_request, filters):
    client.force_login(receptionist)
    response = client.get(CHANGELIST, filters)
    assert response.status_code == 200
    assert call_request in response.context["cl"].result_list


def test_the_list_of_500_requests_runs_a_fixed_number_of_queries(
    client, receptionist, westerville, django_assert_max_num_queries
):
    requests = DiscoveryCallRequestFactory.create_batch(500)
    CallAttempt.objects.bulk_create(
        [CallAttempt(request=each, outcome=CallAttempt.Outcome.NO_ANSWER) for each in requests[:200]]
    )
    client.force_login(receptionist)
    with django_assert_max_num_queries(12):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 500
    with django_assert_max_num_queries(12):
        assert client.get(CHANGELIST, {"status__exact": "new", "q": "Ada"}).status_code == 200


# Log a call ---------------------------------------------------------------------------------


def test_reception_logs_a_call(client, receptionist, call_request):
    client.force_login(receptionist)
    form = client.get(log_call_url(call_request))
    assert form.status_code == 200
    assert "Log a call to Ada King Lovelace" in form.content.decode()
    response = client.post(log_call_url(call_request), {"outcome": "left_voicemail", "note": "Try after 5"})
    assert response.status_code == 302
    assert response["Location"] == change_url(call_request)
    attempt = CallAttempt.objects.get()
    assert (attempt.outcome, attempt.note, attempt.by) == ("left_voicemail", "Try after 5", receptionist)
    call_request.refresh_from_db()
    assert call_request.status == Status.CONTACTED
    assert call_request.history.latest().history_user == receptionist
    assert messages_of(response) == [f"Call logged. {call_request.reference} is now contacted."]


def test_the_change_page_shows_past_calls_read_only_and_the_work_buttons(client, receptionist, call_request):
    log_call_attempt(call_request=call_request, outcome="no_answer", note="Rang twice", by=receptionist)
    client.force_login(receptionist)
    response = client.get(change_url(call_request))
    page = response.content.decode()
    assert "Rang twice" in page and 'name="attempts-0-note"' not in page
    assert "No answer at " not in page  # no row caption (CallAttempt.__str__, with the UTC time)
    assert "inline-deletelink" not in page and "data-inline-formset" not in page.split('id="attempts-group"', 1)[1]
    assert f'href="{log_call_url(call_request)}"' in page and f'href="{convert_url(call_request)}"' in page
    assert "Sciatica down my left leg" in page  # what they told us is shown to reception, read-only
    assert 'name="concern"' not in page


@pytest.mark.parametrize("page_url", [log_call_url, convert_url])
def test_the_work_pages_look_like_the_admins_own_forms(client, receptionist, call_request, page_url):
    log_call_attempt(call_request=call_request, outcome="no_answer", by=receptionist)
    client.force_login(receptionist)
    page = client.get(page_url(call_request)).content.decode()
    # The breadcrumbs bar of Django's own pages (an <ol> inside base.html's <nav>).
    crumbs = page.split('<nav aria-label="Breadcrumbs">', 1)[1].split("</nav>", 1)[0]
    assert '<ol class="breadcrumbs">' in crumbs
    assert f'<li><a href="{change_url(call_request)}">{call_request}</a></li>' in crumbs
    assert '<li aria-current="page">' in crumbs
    # The fields are laid out by the admin's fieldset include, with its stylesheet.
    assert "admin/css/forms.css" in page
    assert '<fieldset class="module aligned ">' in page and '<div class="flex-container' in page
    # The calls table scrolls in its own box on a phone, reachable by keyboard.
    assert 'class="calls-so-far" role="region" aria-labelledby="calls-so-far-heading" tabindex="0"' in page


def test_the_convert_form_is_aligned_and_labelled_for_reception(client, receptionist, call_request):
    client.force_login(receptionist)
    page = client.get(convert_url(call_request)).content.decode()
    for field in ("first_name", "last_name", "email", "phone", "date_of_birth"):
        assert f'<div class="form-row field-{field}">' in page
    assert '<label class="required" for="id_date_of_birth">Date of birth:</label>' in page
    assert "With the email, this finds their record" in page
    assert "We call or text this number" not in page  # the wizard's words to a patient


def test_a_call_on_a_closed_request_is_refused_with_a_message(client, receptionist, call_request):
    call_request.status = Status.CLOSED
    call_request.save()
    client.force_login(receptionist)
    response = client.post(log_call_url(call_request), {"outcome": "reached"})
    assert response.status_code == 200
    assert "is closed, so no more calls can be logged on it" in response.content.decode()
    assert not CallAttempt.objects.exists()


def test_a_log_without_an_outcome_is_a_form_error(client, receptionist, call_request):
    client.force_login(receptionist)
    response = client.post(log_call_url(call_request), {"note": "?"})
    assert response.status_code == 200
    assert not CallAttempt.objects.exists()


# Convert ------------------------------------------------------------------------------------


def test_the_convert_form_is_prefilled_from_the_request(client, receptionist, call_request):
    client.force_login(receptionist)
    form = client.get(convert_url(call_request)).context["form"]
    assert form.initial["first_name"] == "Ada"
    assert form.initial["last_name"] == "King Lovelace"
    assert form.initial["email"] == "ada@example.com"
    assert str(form.initial["phone"]) == "+16145550142"


def test_convert_creates_the_patient_and_opens_the_phone_booking_form(client, receptionist, call_request):
    client.force_login(receptionist)
    response = client.post(
        convert_url(call_request),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "(614) 555-0142",
            "date_of_birth": "1980-05-17",
        },
    )
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        f"/admin/booking/appointment/add/?patient={patient.pk}&discovery_call={call_request.pk}"
    )
    call_request.refresh_from_db()
    assert call_request.patient == patient
    assert (patient.first_name, patient.last_name, patient.date_of_birth) == ("Ada", "Lovelace", date(1980, 5, 17))


def test_convert_links_an_existing_patient(client, receptionist, call_request):
    existing = PatientFactory(email="ada@example.com", date_of_birth=date(1980, 5, 17))
    client.force_login(receptionist)
    response = client.post(
        convert_url(call_request),
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "(614) 555-0142",
            "date_of_birth": "1980-05-17",
        },
    )
    assert response["Location"].startswith(f"/admin/booking/appointment/add/?patient={existing.pk}&")
    assert Patient.objects.count() == 1


def test_convert_with_bad_input_shows_errors(client, receptionist, call_request):
    client.force_login(receptionist)
    response = client.post(
        convert_url(call_request),
        {"first_name": "Ada", "last_name": "", "email": "x", "phone": "no", "date_of_birth": "2999-01-01"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"last_name", "email", "phone", "date_of_birth"}
    assert not Patient.objects.exists()


# Actions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action, status", [("mark_not_a_fit", Status.NOT_A_FIT), ("mark_closed", Status.CLOSED)])
def test_close_actions_call_the_service_and_report_refusals(client, receptionist, action, status):
    open_one = DiscoveryCallRequestFactory()
    closed_one = DiscoveryCallRequestFactory(status=Status.CLOSED)
    client.force_login(receptionist)
    response = client.post(CHANGELIST, {"action": action, "index": 0, "_selected_action": [open_one.pk, closed_one.pk]})
    assert response.status_code == 302
    open_one.refresh_from_db()
    assert open_one.status == status
    assert open_one.history.latest().history_user == receptionist
    assert any("cannot be changed any more" in message for message in messages_of(response))
    assert any("1 request(s) marked" in message for message in messages_of(response))


def test_nothing_can_be_deleted_or_added_here(client, superuser, call_request):
    client.force_login(superuser)
    assert client.get(reverse("admin:discovery_discoverycallrequest_delete", args=[call_request.pk])).status_code == 403
    assert DiscoveryCallRequest.objects.filter(pk=call_request.pk).exists()
    assert client.get(reverse("admin:discovery_discoverycallrequest_add")).status_code == 403
    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert "delete_selected" not in {value for value, _ in actions}


def test_history_is_shown_and_cannot_be_reverted(client, superuser, call_request):
    log_call_attempt(call_request=call_request, outcome="reached", by=superuser)
    client.force_login(superuser)
    history = client.get(reverse("admin:discovery_discoverycallrequest_history", args=[call_request.pk]))
    assert history.status_code == 200
    version = call_request.history.earliest()
    version_url = reverse(
        "admin:discovery_discoverycallrequest_simple_history", args=[call_request.pk, version.history_id]
    )
    assert client.get(version_url).status_code == 200
    assert client.post(version_url, {"name": "Reverted", "status": "new"}).status_code == 403
    call_request.refresh_from_db()
    assert call_request.status == Status.CONTACTED and call_request.name == "Ada King Lovelace"


def test_contact_details_can_be_corrected_with_history(client, receptionist, call_request):
    client.force_login(receptionist)
    response = client.post(
        change_url(call_request),
        {
            "name": "Ada Lovelace",
            "phone": "(614) 555-0199",
            "email": "ada@example.com",
            "best_time": "evening",
            "attempts-TOTAL_FORMS": 0,
            "attempts-INITIAL_FORMS": 0,
            "attempts-MIN_NUM_FORMS": 0,
            "attempts-MAX_NUM_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    call_request.refresh_from_db()
    assert (call_request.name, str(call_request.phone), call_request.best_time) == (
        "Ada Lovelace",
        "+16145550199",
        "evening",
    )
    assert call_request.history.latest().history_user == receptionist
    assert call_request.status == Status.NEW  # the workflow fields are not in the form


# Who may ------------------------------------------------------------------------------------


def all_urls(call_request) -> list[str]:
    return [CHANGELIST, change_url(call_request), log_call_url(call_request), convert_url(call_request)]


def test_reception_may_open_every_page(client, receptionist, call_request):
    client.force_login(receptionist)
    for url in all_urls(call_request):
        assert client.get(url).status_code == 200, url


def test_anonymous_visitors_are_sent_to_the_login(client, call_request):
    for url in all_urls(call_request):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    assert client.post(log_call_url(call_request), {"outcome": "reached"}).status_code == 302
    assert not CallAttempt.objects.exists()


def test_a_practitioner_is_refused(client, practitioner_user, staff_practitioner, call_request):
    client.force_login(staff_practitioner)
    for url in all_urls(call_request):
        assert client.get(url).status_code == 403, url
    assert client.post(log_call_url(call_request), {"outcome": "reached"}).status_code == 403
    assert client.post(convert_url(call_request), {"first_name": "X"}).status_code == 403
    assert not CallAttempt.objects.exists()


def test_a_practitioner_without_the_staff_flag_is_sent_to_the_login(client, practitioner_user, call_request):
    client.force_login(practitioner_user)
    for url in all_urls(call_request):
        assert client.get(url).status_code == 302, url


def test_an_unknown_request_is_404(client, receptionist):
    client.force_login(receptionist)
    assert client.get(reverse("admin:discovery_discoverycallrequest_log_call", args=[999999])).status_code == 404
    assert client.get(reverse("admin:discovery_discoverycallrequest_convert", args=["nope"])).status_code == 404


def test_the_groups_permissions_on_discovery_calls():
    from django.contrib.auth.models import Group

    def codenames(group: str) -> set[str]:
        return set(
            Group.objects.get(name=group)
            .permissions.filter(content_type__app_label="discovery")
            .values_list("codename", flat=True)
        )

    assert codenames("Reception") == {
        "view_discoverycallrequest",
        "add_discoverycallrequest",
        "change_discoverycallrequest",
        "view_historicaldiscoverycallrequest",
        "view_callattempt",
        "add_callattempt",
        "change_callattempt",
        "view_historicalcallattempt",
    }
    assert codenames("Practitioner") == set()

"""Who may open what: every URL pattern of the project × six visitors, GET, expected status.

Visitors: anonymous; a patient holding one booking's (waiting-list place's, offer's) private
link; practitioner A (Maya, who owns the appointment, time off and calendar feed in the rows);
practitioner B (Sofia); reception; the owner (superuser). Private links are credentials: only
their holder uses the real token, everyone else a token that is no link (→ 404), whatever
their session.

Size: 114 rows × 6 visitors = 684 checks (test_the_table_is_this_size keeps the number honest).
Every named URL pattern needs a row (test_every_url_pattern_has_a_row), admin included: its
index, every app's page, every registered model's changelist and change page, every custom
admin view. Only the admin's generic add / delete / history pages of each model and its
infrastructure views are exempt (ADMIN_EXEMPT); "Book for a caller" (the appointment's add
page) has its own row.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.models import TimeOff, TreatmentSeries, WorkingHours
from booking.services import book_follow_ups, cancel_appointment
from clinic.models import AccountLockout
from discovery.views import THANKS_SALT
from patients.models import ConsentText
from schedule.services import regenerate_feed_token
from tests.discovery.factories import DiscoveryCallRequestFactory
from tests.helpers import book
from tests.waitlist.helpers import join, make_offers

FORGED = "no-such-link-0123456789abcdef0123456789abcdef0123456789abcdef01"
VISITORS = ("anonymous", "patient", "practitioner_a", "practitioner_b", "reception", "admin")


@dataclass(frozen=True)
class Redirect:
    to: str

    def __repr__(self):
        return f"302→{self.to}"


LOGIN = Redirect("/schedule/login/")
ADMIN_LOGIN = Redirect("/admin/login/")
TO_ADMIN = Redirect("/admin/")
TO_CALL_FORM = Redirect("/discovery-call/")
TO_CALENDAR = Redirect("/admin/reception/calendar/")


def everyone(status):
    return (status,) * 6


def link_holder_only(status):
    """A private link: the holder gets `status`, everyone else (a forged token) 404."""
    return (404, status, 404, 404, 404, 404)


SCHEDULE_PAGE = (LOGIN, LOGIN, 200, 200, TO_ADMIN, TO_ADMIN)
SCHEDULE_OWN_ROW = (LOGIN, LOGIN, 200, 404, TO_ADMIN, TO_ADMIN)
STAFF_ONLY = (ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN)
RECEPTION_AND_ADMIN = (*STAFF_ONLY, 200, 200)
ADMIN_ONLY = (*STAFF_ONLY, 403, 200)
# The admin answers a user without any permission in an app with a 404 on its app page.
ADMIN_ONLY_APP = (*STAFF_ONLY, 404, 200)

# (URL name, how to build its arguments from the data, expected per visitor)
ROWS = [
    ("clinic:home", None, everyone(200)),
    ("clinic:service_list", None, everyone(200)),
    ("clinic:service_detail", lambda d, holder: [d["service"].slug], everyone(200)),
    ("clinic:practitioner_list", None, everyone(200)),
    ("clinic:practitioner_detail", lambda d, holder: [d["practitioner_a"].slug], everyone(200)),
    ("clinic:condition_list", None, everyone(200)),
    ("clinic:condition_detail", lambda d, holder: [d["condition"].slug], everyone(200)),
    ("healthz", None, everyone(200)),
    ("robots_txt", None, everyone(200)),
    ("favicon", None, everyone(200)),
    ("booking:start", None, everyone(200)),
    ("booking:details", None, everyone(Redirect("/book/"))),
    ("booking:manage", "appointment", link_holder_only(200)),
    ("booking:calendar", "appointment", link_holder_only(200)),
    ("booking:cancel", "appointment", link_holder_only(200)),
    ("booking:reschedule", "appointment", link_holder_only(200)),
    ("booking:follow_ups", "appointment", link_holder_only(200)),
    ("booking:book_follow_up_session", "appointment", everyone(405)),
    ("discovery:request", None, everyone(200)),
    ("discovery:thanks", "thanks", (TO_CALL_FORM, 200, TO_CALL_FORM, TO_CALL_FORM, TO_CALL_FORM, TO_CALL_FORM)),
    ("waitlist:join", None, everyone(Redirect("/book/"))),
    ("waitlist:joined", None, everyone(200)),
    ("waitlist:entry", "entry", link_holder_only(200)),
    ("waitlist:leave", "entry", everyone(405)),
    ("waitlist:one_click_leave", "entry", (404, Redirect("/waitlist/"), 404, 404, 404, 404)),
    ("waitlist:offer", "offer", link_holder_only(200)),
    ("schedule:login", None, everyone(200)),
    ("schedule:logout", None, everyone(405)),
    ("schedule:day", None, SCHEDULE_PAGE),
    ("schedule:week", None, SCHEDULE_PAGE),
    ("schedule:appointment", lambda d, holder: [d["appointment"].pk], SCHEDULE_OWN_ROW),
    # A GET here is where a login interrupted by a POST lands: back to the appointment.
    (
        "schedule:change_status",
        lambda d, holder: [d["appointment"].pk],
        (LOGIN, LOGIN, Redirect("/schedule/appointments/"), 404, TO_ADMIN, TO_ADMIN),
    ),
    ("schedule:time_off", None, SCHEDULE_PAGE),
    ("schedule:remove_time_off", lambda d, holder: [d["time_off"].pk], (LOGIN, LOGIN, 405, 405, TO_ADMIN, TO_ADMIN)),
    ("schedule:feed_settings", None, SCHEDULE_PAGE),
    # The feed link's holder is practitioner A; a calendar app fetches it without a session.
    (
        "schedule:feed",
        lambda d, holder: [d["feed_token"] if holder == "practitioner_a" else FORGED],
        (404, 404, 200, 404, 404, 404),
    ),
    ("api:locations", None, everyone(200)),
    ("api:services", None, everyone(200)),
    ("api:practitioners", None, everyone(200)),
    ("api:availability", None, everyone(400)),
    ("api:appointments", None, everyone(405)),
    ("api:appointment", "appointment", link_holder_only(200)),
    ("api:appointment_cancel", "appointment", everyone(405)),
    ("api:appointment_reschedule", "appointment", everyone(405)),
    ("api:discovery_calls", None, everyone(405)),
    ("api:openapi", None, everyone(200)),
    ("api:not_found", None, everyone(404)),
    # Every login that reaches patient data may have a second factor: practitioners too.
    ("staff_otp:enrol", None, (LOGIN, LOGIN, 200, 200, 200, 200)),
    ("staff_otp:verify", None, (LOGIN, LOGIN, 200, 200, 200, 200)),
    ("admin:login", None, (200, 200, 200, 200, TO_ADMIN, TO_ADMIN)),
    ("admin:logout", None, (TO_ADMIN, TO_ADMIN, TO_ADMIN, TO_ADMIN, 405, 405)),
    ("admin:auth_user_password_change", lambda d, holder: [d["owner"].pk], ADMIN_ONLY),
    ("admin:index", None, RECEPTION_AND_ADMIN),
    # The day sheet's old address: the calendar now.
    ("admin:booking_appointment_day_sheet", None, (*STAFF_ONLY, TO_CALENDAR, TO_CALENDAR)),
    ("reception:calendar", None, RECEPTION_AND_ADMIN),
    ("reception:week", None, RECEPTION_AND_ADMIN),
    # Without its query (the field it searches for) the patient search refuses, as the admin's own does.
    ("reception:patient_search", None, (*STAFF_ONLY, 403, 403)),
    # The calendar's poll answers 401 rather than the login page, which it would swap into the grid.
    ("reception:calendar_updates", None, (401, 401, 401, 401, 200, 200)),
    ("reception:panel", lambda d, holder: [d["appointment"].pk], RECEPTION_AND_ADMIN),
    ("reception:move", lambda d, holder: [d["appointment"].pk], RECEPTION_AND_ADMIN),
    ("reception:change_status", lambda d, holder: [d["appointment"].pk], (*STAFF_ONLY, 405, 405)),
    ("reception:cancel", lambda d, holder: [d["appointment"].pk], (*STAFF_ONLY, 405, 405)),
    ("reception:drop", lambda d, holder: [d["appointment"].pk], (*STAFF_ONLY, 405, 405)),
    ("admin:booking_appointment_add", None, RECEPTION_AND_ADMIN),
    (
        "admin:discovery_discoverycallrequest_log_call",
        lambda d, holder: [d["call_request"].pk],
        RECEPTION_AND_ADMIN,
    ),
    (
        "admin:discovery_discoverycallrequest_convert",
        lambda d, holder: [d["call_request"].pk],
        RECEPTION_AND_ADMIN,
    ),
    ("admin:otp_totp_totpdevice_config", lambda d, holder: [d["totp_device"].pk], ADMIN_ONLY),
    ("admin:otp_totp_totpdevice_qrcode", lambda d, holder: [d["totp_device"].pk], ADMIN_ONLY),
]

# Reception's reach per app and per model (README, Roles): (app page, changelist, change page).
ADMIN_MODELS = {
    "auth.group": ("group", ADMIN_ONLY_APP, ADMIN_ONLY, ADMIN_ONLY),
    "auth.user": ("owner", ADMIN_ONLY_APP, ADMIN_ONLY, ADMIN_ONLY),
    "axes.accessattempt": ("access_attempt", ADMIN_ONLY_APP, ADMIN_ONLY, ADMIN_ONLY),
    "axes.accesslog": ("access_log", ADMIN_ONLY_APP, ADMIN_ONLY, ADMIN_ONLY),
    "axes.accessfailurelog": ("access_failure_log", ADMIN_ONLY_APP, ADMIN_ONLY, ADMIN_ONLY),
    "otp_totp.totpdevice": ("totp_device", ADMIN_ONLY_APP, ADMIN_ONLY, ADMIN_ONLY),
    "clinic.location": ("location", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "clinic.practitioner": ("practitioner_a", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "clinic.service": ("service", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "clinic.condition": ("condition", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    # Reception unlocks a paused staff login (clinic/staff_auth.py).
    "clinic.accountlockout": ("account_lockout", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "patients.patient": ("patient", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "patients.consenttext": ("consent_text", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "booking.workinghours": ("working_hours", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "booking.timeoff": ("time_off", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "booking.appointment": ("appointment", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "booking.treatmentseries": ("series", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "discovery.discoverycallrequest": ("call_request", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
    "waitlist.waitlistentry": ("entry", RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN, RECEPTION_AND_ADMIN),
}


def _admin_rows():
    rows, app_pages = [], {}
    for label, (key, app_page, changelist, change) in ADMIN_MODELS.items():
        app_label, model = label.split(".")
        # An app's page follows its most open model.
        if app_pages.get(app_label) != RECEPTION_AND_ADMIN:
            app_pages[app_label] = app_page
        rows.append((f"admin:{app_label}_{model}_changelist", None, changelist))
        rows.append((f"admin:{app_label}_{model}_change", lambda d, holder, key=key: [d[key].pk], change))
    for app_label, expected in app_pages.items():
        rows.append((f"admin:app_list {app_label}", lambda d, holder, app_label=app_label: [app_label], expected))
    return rows


ALL_ROWS = ROWS + _admin_rows()

# The admin's own plumbing and each model's generic add / delete / history pages.
ADMIN_EXEMPT = re.compile(
    r"^admin:(\w+_(add|delete|history)|password_change|password_change_done|autocomplete|jsi18n|view_on_site)$"
)


def _named_patterns(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            yield from _named_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield ":".join(filter(None, [namespace, pattern.name]))


def test_every_url_pattern_has_a_row():
    covered = {name.split(" ")[0] for name, _, _ in ALL_ROWS}
    missing = {
        name
        for name in _named_patterns(get_resolver().url_patterns)
        if name not in covered and not ADMIN_EXEMPT.match(name)
    }
    assert not missing, f"URL patterns without a row in the access matrix: {sorted(missing)}"
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), "every model in the admin needs its row in ADMIN_MODELS"


def test_the_table_is_this_size():
    assert (len(ALL_ROWS), len(VISITORS), len(ALL_ROWS) * len(VISITORS)) == (114, 6, 684)


@pytest.fixture
def data(catalogue, open_all_week, ten_am, booking_day, receptionist, superuser):
    physio = catalogue["practitioners"][0]
    dry_needling, westerville = catalogue["services"][0], catalogue["locations"][0]
    appointment = book(dry_needling, westerville, ten_am, practitioner=physio)
    book_follow_ups(appointment=appointment, sessions=2, interval_weeks=1, consent_given=True, consent_version="1")
    entry = join(dry_needling, westerville, booking_day, n=1)
    freed = book(dry_needling, westerville, ten_am + timedelta(hours=3), practitioner=physio, n=2)
    cancel_appointment(appointment=freed, actor=None)
    offer = make_offers()[0]
    now = timezone.now()
    attempt_fields = {"user_agent": "test", "ip_address": "203.0.113.7", "username": "x", "http_accept": "*/*"}
    return {
        "appointment": appointment,
        "patient": appointment.patient,
        "series": TreatmentSeries.objects.get(),
        "entry": entry,
        "offer": offer,
        "thanks": signing.dumps(
            {"reference": "K7Q-4M2P", "best_time": "morning", "day": booking_day.isoformat()}, salt=THANKS_SALT
        ),
        "practitioner_a": physio,
        "service": dry_needling,
        "location": westerville,
        "condition": catalogue["conditions"][0],
        "time_off": TimeOff.objects.create(
            practitioner=physio, start=now + timedelta(days=30), end=now + timedelta(days=31)
        ),
        "working_hours": WorkingHours.objects.filter(practitioner=physio).first(),
        "feed_token": regenerate_feed_token(practitioner=physio, by=None).token,
        "call_request": DiscoveryCallRequestFactory(),
        "consent_text": ConsentText.objects.first(),
        "group": Group.objects.first(),
        "owner": superuser,
        "totp_device": TOTPDevice.objects.create(user=superuser, name="phone", confirmed=False),
        "access_attempt": AccessAttempt.objects.create(
            failures_since_start=1, path_info="/admin/login/", **attempt_fields
        ),
        "access_log": AccessLog.objects.create(path_info="/admin/login/", **attempt_fields),
        "access_failure_log": AccessFailureLog.objects.create(
            path_info="/admin/login/", locked_out=False, **attempt_fields
        ),
        "account_lockout": AccountLockout.objects.create(
            username="maya", failures=20, locked_at=now, locked_until=now + timedelta(hours=1)
        ),
    }


def _token(data, source, holder):
    if holder != "patient":
        return FORGED
    return data[source] if source == "thanks" else getattr(data[source], "token", None) or data[source].manage_token


def _url(name, arguments, data, holder):
    if isinstance(arguments, str):
        return reverse(name, args=[_token(data, arguments, holder)])
    url_name = name.split(" ")[0]
    return reverse(url_name, args=arguments(data, holder) if arguments else None)


@pytest.fixture
def visitor_clients(practitioner_user, other_practitioner_user, receptionist, superuser):
    clients = {"anonymous": Client(), "patient": Client()}
    for name, user in [
        ("practitioner_a", practitioner_user),
        ("practitioner_b", other_practitioner_user),
        ("reception", receptionist),
        ("admin", superuser),
    ]:
        clients[name] = Client()
        clients[name].force_login(user)
    return clients


def _outcome(response, expected):
    if isinstance(expected, Redirect):
        if response.status_code == 302 and response["Location"].startswith(expected.to):
            return expected
        return f"{response.status_code} {response.get('Location', '')}".strip()
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "arguments", "expected"), ALL_ROWS, ids=[row[0] for row in ALL_ROWS])
def test_access(name, arguments, expected, data, visitor_clients):
    outcomes = {}
    for visitor, wanted in zip(VISITORS, expected, strict=True):
        response = visitor_clients[visitor].get(_url(name, arguments, data, visitor))
        outcomes[visitor] = (_outcome(response, wanted), wanted)
    wrong = {
        visitor: f"got {got!r}, expected {wanted!r}" for visitor, (got, wanted) in outcomes.items() if got != wanted
    }
    assert not wrong, f"{name}: {wrong}"

"""Every public page and every page of the practitioner's schedule is valid HTML to the W3C Nu HTML
checker (vnu.jar, pinned in package.json; `make test` installs it with npm ci).

One walk through the site in Chromium, as a patient and then as a practitioner, keeps the HTML of
each page exactly as the server sent it to the browser (the navigation's response body, not the
DOM after parsing and scripts), including the states a form shows after a POST: field errors, a
time just taken (409), urgent care, an offer gone (410). Then one run of the checker (one JVM
start) reads them all, and the test fails listing every error with its page. Warnings and info
messages do not fail it.

Without Java or the jar the test is skipped, loudly (see conftest.py), unless CI=true, where it fails."""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core import signing
from django.utils import timezone
from playwright.sync_api import Page, Response, expect

from booking.availability import available_slots
from booking.models import Appointment, TimeOff
from booking.services import cancel_appointment
from clinic.models import Location, Practitioner, Service
from demo import content as demo_content
from discovery import views as discovery_views
from discovery.models import DiscoveryCallRequest
from tests.browser.conftest import NU_CHECKER_SKIP_PREFIX, TIMEOUT_MS, in_ci
from tests.factories import AppointmentFactory
from tests.helpers import book
from tests.waitlist.helpers import make_offers
from waitlist.models import WaitlistEntry, WaitlistOffer

REPO = Path(__file__).resolve().parents[2]
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# One JVM reads some 60 small pages in a few seconds; a hung checker must not hang the suite.
VNU_TIMEOUT_SECONDS = 120
SERVICE_SLUG = "dry-needling-initial-assessment"
LOCATION = "Riverside Pain & Needling Clinic — Westerville"
PATIENT = {
    "First name": "Nora",
    "Last name": "Valid",
    "Email": "nora.valid@example.com",
    "Mobile phone": "(614) 555-0123",
    "Date of birth": "1979-03-14",
}


@dataclass(frozen=True)
class ServedPage:
    name: str
    url: str
    html: str


class ServedPages:
    """The HTML of each page as the server sent it to Chromium, in the order visited."""

    def __init__(self, page: Page):
        self.page = page
        self.kept: list[ServedPage] = []

    def goto(self, name: str, path: str, *, status: int = 200) -> None:
        self._keep(name, self.page.goto(path), status)

    def after(self, name: str, action, *, status: int = 200) -> None:
        """Run `action` (a click that navigates, a form sent) and keep the page it ends on."""
        with self.page.expect_navigation() as navigation:
            action()
        self._keep(name, navigation.value, status)

    def _keep(self, name: str, response: Response | None, status: int) -> None:
        assert response is not None, f"{name}: no response"
        assert response.status == status, f"{name}: {response.url} answered {response.status}, not {status}"
        content_type = response.headers.get("content-type", "")
        assert content_type.startswith("text/html"), f"{name}: {response.url} is {content_type}"
        self.kept.append(ServedPage(name=name, url=response.url, html=response.text()))


# The checker ---------------------------------------------------------------------------------


def _checker_missing(reason: str) -> None:
    message = f"{NU_CHECKER_SKIP_PREFIX}: {reason}"
    if in_ci():
        pytest.fail(f"The Nu HTML checker is required in CI: {reason}", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def vnu_command() -> list[str]:
    """How to run the checker; first in the test's arguments, so a missing one skips before any page is made."""
    java = shutil.which("java")
    if java is None:
        _checker_missing("java not found. Install a Java 17+ runtime (sudo apt-get install default-jre-headless).")
    if not VNU_JAR.is_file():
        _checker_missing(
            f"{VNU_JAR.relative_to(REPO)} not found. Install it with `make node_modules/.installed` (npm ci)."
        )
    return [java, "-jar", str(VNU_JAR)]


def nu_errors(pages: list[ServedPage], folder: Path, command: list[str]) -> dict[str, list[str]]:
    """Check every page in one run of the checker: each failing page's name (and address) with its errors."""
    files = {}
    for number, served in enumerate(pages, start=1):
        file = folder / f"{number:02d}-{re.sub(r'[^a-z0-9]+', '-', served.name.lower()).strip('-')}.html"
        file.write_text(served.html, encoding="utf-8")
        files[file.name] = served
    result = subprocess.run(
        [*command, "--format", "json", "--exit-zero-always", "--stdout", *(str(folder / name) for name in files)],
        capture_output=True,
        text=True,
        timeout=VNU_TIMEOUT_SECONDS,
        check=False,
    )
    try:
        messages = json.loads(result.stdout)["messages"]
    except (ValueError, KeyError) as error:
        pytest.fail(f"The Nu checker gave no JSON report ({error}): {result.stdout[:500]} {result.stderr[:2000]}")
    errors: dict[str, list[str]] = {}
    for message in messages:
        # "info" (with or without subType "warning") is advice; "error" and "non-document-error"
        # (a page the checker could not read) fail.
        if message.get("type") == "info":
            continue
        served = files.get(Path(message.get("url", "")).name)
        where = f"{served.name} ({served.url})" if served else message.get("url", "?")
        line = f"line {message['lastLine']}" if "lastLine" in message else "?"
        extract = " ".join(message.get("extract", "").split())
        errors.setdefault(where, []).append(
            f"{line}: {message.get('message')}" + (f"\n      {extract}" if extract else "")
        )
    return errors


# The walk ------------------------------------------------------------------------------------


def a_weekday_a_week_ahead(location: Location) -> date:
    """A Monday to Thursday 8 to 11 days ahead: outside the cancellation window, inside the horizon,
    and Maya works it and the days after (weekdays)."""
    day = timezone.localtime(timezone.now(), location.zone).date() + timedelta(days=8)
    while day.weekday() > 3:
        day += timedelta(days=1)
    return day


def choose(page: Page, name: str):
    return page.get_by_role("main").get_by_role("link", name=re.compile(rf"^{re.escape(name)}")).first.click


def fill(page: Page, **overrides: str) -> None:
    for label, value in {**PATIENT, **overrides}.items():
        page.get_by_label(label).fill(value)


def consent(page: Page):
    return page.get_by_role("checkbox", name="I have read and agree to the treatment consent above")


def book_this_time(page: Page):
    return page.get_by_role("button", name="Book this time").click


def catalogue_pages(served: ServedPages) -> None:
    served.goto("Home", "/")
    for kind, rows in (
        ("services", demo_content.SERVICES),
        ("practitioners", demo_content.PRACTITIONERS),
        ("conditions", demo_content.CONDITIONS),
    ):
        served.goto(f"{kind.title()}", f"/{kind}/")
        for row in rows:
            served.goto(f"{kind.title()}: {row['slug']}", f"/{kind}/{row['slug']}/")
    served.goto("Not found", "/services/no-such-treatment/", status=404)


def wizard_pages(served: ServedPages, *, day: date) -> Appointment:
    """The wizard with Maya to its details step, its errors, urgent care and a time just taken;
    returns the appointment it books."""
    page = served.page
    westerville = Location.objects.get(slug="westerville")
    service = Service.objects.get(slug=SERVICE_SLUG)
    maya = Practitioner.objects.get(slug="maya-lindqvist")

    served.goto("Book: service step", "/book/")
    served.after("Book: location step", choose(page, service.name))
    served.after("Book: practitioner step", choose(page, LOCATION))
    served.after("Book: time step, this week", choose(page, "Maya Lindqvist"))
    served.goto(
        "Book: time step, a week ahead",
        f"/book/?service={SERVICE_SLUG}&location=westerville&practitioner=maya-lindqvist&from={day}",
    )
    first_time = page.get_by_role("main").get_by_role("region").first.get_by_role("link").first
    expect(first_time).to_be_visible()
    served.after("Book: details step", first_time.click)
    details_url = page.url

    fill(page, **{"Mobile phone": "12"})
    consent(page).check()
    served.after("Book: details with errors", book_this_time(page))

    page.get_by_role("checkbox", name="Symptoms in both legs at once").check()
    page.get_by_label("Mobile phone").fill(PATIENT["Mobile phone"])
    served.after("Book: urgent care", book_this_time(page))

    # Another patient takes the time while this one types: the details step again, with the nearest times.
    served.goto("Book: details step again", details_url)
    start = datetime.fromisoformat(page.locator("input[name=start]").input_value())
    book(service, westerville, start, practitioner=maya, n=7)
    fill(page)
    consent(page).check()
    served.after("Book: that time was just taken", book_this_time(page), status=409)
    expect(page.get_by_role("radio").first).to_be_checked()
    served.after("Manage: just booked", book_this_time(page))
    return Appointment.objects.get(patient__email=PATIENT["Email"])


def manage_pages(served: ServedPages, appointment: Appointment) -> None:
    page, main = served.page, served.page.get_by_role("main")
    manage = f"/appointments/{appointment.manage_token}/"
    # Maya is away the week of the second visit: the follow-ups page lists it with other times.
    away = appointment.start + timedelta(weeks=2)
    TimeOff.objects.create(
        practitioner=appointment.practitioner, start=away - timedelta(hours=1), end=away + timedelta(hours=2)
    )
    main.get_by_label("How many visits").select_option("2")
    served.after("Follow-ups: form with errors", main.get_by_role("button", name="Book my follow-ups").click)
    main.get_by_role("checkbox", name=re.compile(r"^My health answers from this booking still apply")).check()
    served.after("Follow-ups: booked", main.get_by_role("button", name="Book my follow-ups").click)
    served.goto("Manage", manage)
    served.goto("Cancel", f"{manage}cancel/")
    served.goto("Reschedule", f"{manage}reschedule/")
    # A free time the day after, as the page's time buttons link it (whatever the buttons look like).
    tomorrow = timezone.localtime(appointment.start, appointment.location.zone).date() + timedelta(days=1)
    other_time = available_slots(
        service=appointment.service,
        location=appointment.location,
        practitioner=appointment.practitioner,
        first_day=tomorrow,
        last_day=tomorrow + timedelta(days=6),
    )[0].start
    served.goto("Reschedule: a time chosen", f"{manage}reschedule/?start={quote(other_time.isoformat())}")
    # The first follow-up visit is cancelled: its own manage page says so.
    visit = Appointment.objects.filter(series__source_appointment=appointment).order_by("series_session").first()
    assert visit is not None
    served.goto("Cancel a follow-up visit", f"/appointments/{visit.manage_token}/cancel/")
    served.after("Manage: cancelled", main.get_by_role("button", name="Cancel this appointment").click)
    assert page.url.endswith(f"/appointments/{visit.manage_token}/")


def waitlist_pages(served: ServedPages, *, day: date) -> None:
    """Joining (with errors), the place, an offer of freed time, the offer gone, leaving."""
    page = served.page
    westerville = Location.objects.get(slug="westerville")
    service = Service.objects.get(slug=SERVICE_SLUG)
    maya = Practitioner.objects.get(slug="maya-lindqvist")
    served.goto(
        "Waiting list: join", f"/waitlist/join/?service={SERVICE_SLUG}&location=westerville&practitioner=maya-lindqvist"
    )
    join = page.get_by_role("button", name="Join the waiting list").click
    served.after("Waiting list: join with errors", join)
    page.get_by_label("Earliest day").fill(day.isoformat())
    page.get_by_label("Latest day").fill(day.isoformat())
    for label in ("First name", "Last name", "Email", "Mobile phone"):
        page.get_by_label(label).fill(PATIENT[label])
    served.after("Waiting list: joined", join)
    entry = WaitlistEntry.objects.get(email="nora.valid@example.com")
    served.goto("Waiting list: your place", f"/waitlist/{entry.token}/")

    # A visit that day is cancelled: the worker's round offers the freed time to the list.
    taken = Appointment.objects.filter(
        practitioner=maya, status=Appointment.Status.CONFIRMED, patient__email="ada7@example.com"
    )
    cancel_appointment(appointment=taken.get(), actor=None)
    make_offers()
    offer = WaitlistOffer.objects.get(entry=entry)
    served.goto("Waiting list: an offer", f"/waitlist/offers/{offer.token}/")
    book(service, westerville, offer.start, practitioner=maya, n=8)
    served.goto("Waiting list: the offer gone", f"/waitlist/offers/{offer.token}/", status=410)

    served.goto("Waiting list: your place again", f"/waitlist/{entry.token}/")
    page.once("dialog", lambda dialog: dialog.accept())
    served.after("Waiting list: left", page.get_by_role("button", name="Leave the waiting list").click)


def discovery_pages(served: ServedPages) -> None:
    page = served.page
    served.goto("Discovery call", "/discovery-call/")
    served.after("Discovery call: errors", page.locator("#call-back-form").get_by_role("button").last.click)
    # The thanks page's link, as the form makes it (the form itself is tested in test_reception_journey).
    token = signing.dumps(
        {
            "reference": "DC-TEST2345",
            "best_time": DiscoveryCallRequest.BestTime.values[0],
            "day": (timezone.now() + timedelta(days=1)).date().isoformat(),
        },
        salt=discovery_views.THANKS_SALT,
        compress=True,
    )
    served.goto("Discovery call: thanks", f"/discovery-call/thanks/{token}/")
    # A call booked in the wizard: its times (with the choice of clock), its details, its errors.
    served.goto("Book a call: times", "/book/?service=free-discovery-call&zone=America/Vancouver")
    served.after("Book a call: details", page.locator("a[href*='start=']").first.click)
    served.after("Book a call: errors", page.get_by_role("button", name="Book this call").click)


def schedule_pages(served: ServedPages, appointment: Appointment) -> None:
    page = served.page
    maya = appointment.practitioner
    # A visit of the same patient last month (the record lists it) and an afternoon away.
    last_month = appointment.start - timedelta(days=30)
    AppointmentFactory(
        practitioner=maya,
        location=appointment.location,
        service=appointment.service,
        patient=appointment.patient,
        start=last_month,
        end=last_month + timedelta(minutes=60),
        blocked_until=last_month + timedelta(minutes=75),
        status=Appointment.Status.COMPLETED,
    )
    TimeOff.objects.create(
        practitioner=maya,
        start=appointment.start + timedelta(days=1),
        end=appointment.start + timedelta(days=1, hours=4),
    )
    served.goto("Schedule: login", "/schedule/login/")
    page.get_by_label("Username").fill("maya.lindqvist")
    page.get_by_label("Password").fill("not the password")
    served.after("Schedule: login refused", page.get_by_role("button", name="Log in").click)
    page.get_by_label("Password").fill("demo")
    served.after("Schedule: today", page.get_by_role("button", name="Log in").click)
    day = timezone.localtime(appointment.start, appointment.location.zone).date()
    served.goto("Schedule: the booked day", f"/schedule/?date={day}")
    served.goto("Schedule: week", f"/schedule/week/?date={day}")
    served.goto("Schedule: appointment", f"/schedule/appointments/{appointment.pk}/")
    served.goto("Schedule: time off", "/schedule/time-off/")
    served.goto("Schedule: calendar feed", "/schedule/feed/")
    served.after("Schedule: calendar feed made", page.get_by_role("button", name="Create my calendar link").click)
    served.goto("Schedule: two-step login", "/staff/two-factor/")


def test_every_page_is_valid_html_to_the_nu_checker(
    vnu_command: list[str], page: Page, browser, live_server, demo_clinic, tmp_path
):
    served = ServedPages(page)
    day = a_weekday_a_week_ahead(Location.objects.get(slug="westerville"))

    catalogue_pages(served)
    appointment = wizard_pages(served, day=day)
    manage_pages(served, appointment)
    waitlist_pages(served, day=day)
    discovery_pages(served)

    practitioner = browser.new_context(base_url=live_server.url)
    practitioner.set_default_timeout(TIMEOUT_MS)
    try:
        schedule = ServedPages(practitioner.new_page())
        schedule_pages(schedule, appointment)
    finally:
        practitioner.close()

    pages = served.kept + schedule.kept
    errors = nu_errors(pages, tmp_path, vnu_command)
    if errors:
        lines = [
            f"{sum(map(len, errors.values()))} Nu HTML checker error(s) on {len(errors)} of {len(pages)} pages:",
        ]
        for where, messages in errors.items():
            lines.append(f"{where}: {len(messages)}")
            lines.extend(f"  - {message}" for message in messages)
        pytest.fail("\n".join(lines), pytrace=False)

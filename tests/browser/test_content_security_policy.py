"""Every kind of page works under the Content-Security-Policy, in Chromium: the public pages and the
booking wizard as a patient, the admin as reception (change list with a search, an action and the
date hierarchy, select2 autocomplete, history, the calendar with its panel and live updates, moving),
the schedule as a practitioner. Any `securitypolicyviolation` event or any console message fails the
test, naming the page.

The recorder is an init script: the browser driver injects it, so the policy does not apply to it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.models import Appointment
from clinic.models import Location, Practitioner, Service
from tests.browser.conftest import DESKTOP
from tests.factories import AppointmentFactory, PatientFactory

RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
    + `at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""


@pytest.fixture
def problems(page: Page) -> list[str]:
    found: list[str] = []
    page.context.expose_function("reportViolation", lambda text: found.append(f"{page.url}: CSP {text}"))
    page.context.add_init_script(RECORD_VIOLATIONS)

    def on_console(message) -> None:
        # The site has no favicon: Chromium asks for /favicon.ico on every page and logs its 404.
        if not message.location.get("url", "").endswith("/favicon.ico"):
            found.append(f"{page.url}: console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(f"{page.url}: page error: {error}"))
    return found


def visit(page: Page, problems: list[str], path: str) -> None:
    response = page.goto(path, wait_until="networkidle")
    assert response is not None and response.ok, f"{path}: {response and response.status}"
    assert "Content-Security-Policy" in {name.title() for name in response.headers}, path
    assert_clean(page, problems)


def assert_clean(page: Page, problems: list[str]) -> None:
    page.wait_for_load_state("networkidle")
    assert problems == [], "\n".join(problems)


def choose(page: Page, name: str) -> None:
    page.get_by_role("main").get_by_role("link", name=re.compile(rf"^{re.escape(name)}")).click()
    page.wait_for_load_state("networkidle")


def test_public_pages_and_the_booking_wizard_break_no_policy(page: Page, problems, demo_clinic):
    main = page.get_by_role("main")
    for path in ("/", "/services/", "/practitioners/", "/conditions/", "/discovery-call/"):
        visit(page, problems, path)
    service = Service.objects.get(slug="dry-needling-initial-assessment")
    visit(page, problems, f"/services/{service.slug}/")

    # The call-back form sent empty: the page again, with its field errors.
    visit(page, problems, "/discovery-call/")
    page.locator("#call-back-form").get_by_role("button").last.click()
    expect(main.get_by_text("This field is required.").first).to_be_visible()
    assert_clean(page, problems)

    # The wizard, step by step, to the details form; on a phone the Menu disclosure opens (no script needed).
    visit(page, problems, "/book/")
    if page.locator("details.site-menu summary").is_visible():
        page.locator("details.site-menu summary").click()
        expect(page.locator(".site-menu-links")).to_be_visible()
    choose(page, service.name)
    choose(page, "Riverside Pain & Needling Clinic — Westerville")
    expect(main.get_by_role("heading", name="When?")).to_be_visible()
    assert_clean(page, problems)
    times = main.get_by_role("region").get_by_role("link")
    if not times.count():
        page.get_by_role("navigation", name="Weeks").get_by_role("link", name="Later", exact=True).click()
    times.first.click()
    expect(page).to_have_url(re.compile(r"/book/details/\?"))
    expect(page.get_by_label("First name")).to_be_visible()
    assert_clean(page, problems)

    visit(page, problems, f"/waitlist/join/?service={service.slug}&location=westerville")
    expect(page.get_by_label("Email")).to_be_visible()


@pytest.fixture
def booked(demo_clinic) -> Appointment:
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    return AppointmentFactory(
        practitioner=Practitioner.objects.get(slug="maya-lindqvist"),
        location=Location.objects.get(slug="westerville"),
        service=Service.objects.get(slug="dry-needling-initial-assessment"),
        patient=PatientFactory(first_name="Grace", last_name="Hopper"),
        start=start,
        end=start + timedelta(minutes=45),
        blocked_until=start + timedelta(hours=1),
    )


def test_the_admin_works_for_reception_under_the_policy(page: Page, problems, booked):
    page.set_viewport_size(DESKTOP)
    visit(page, problems, "/admin/login/")
    page.get_by_label("Username").fill("reception")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Front desk")).to_be_visible()
    assert_clean(page, problems)

    # The change list: a search, the date hierarchy, and an action's confirmation page.
    visit(page, problems, "/admin/booking/appointment/?q=Hopper")
    expect(page.locator("#result_list")).to_contain_text("Hopper")
    page.locator("nav.toplinks a").first.click()
    assert_clean(page, problems)
    visit(page, problems, "/admin/booking/appointment/?q=Hopper")
    page.locator("input.action-select").first.check()
    page.locator("select[name=action]").select_option("cancel_with_reason_action")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_clean(page, problems)

    visit(page, problems, f"/admin/booking/appointment/{booked.pk}/change/")
    visit(page, problems, f"/admin/booking/appointment/{booked.pk}/history/")
    day = timezone.localtime(booked.start, booked.location.zone).date()
    # The calendar: htmx, its poll and the panel it opens, and the drag helper, all under the policy.
    visit(page, problems, f"/admin/reception/calendar/?location=westerville&date={day}")
    block = page.locator(".cal-block", has_text="Grace").first
    expect(block).to_be_visible()
    block.click()
    expect(page.locator("#calendar-panel").get_by_role("button", name="Cancel appointment")).to_be_visible()
    page.wait_for_timeout(3500)  # one poll of the live updates
    assert_clean(page, problems)
    visit(page, problems, f"/admin/reception/appointments/{booked.pk}/move/")
    visit(page, problems, f"/admin/reception/appointments/{booked.pk}/")
    visit(page, problems, "/admin/booking/appointment/add/")
    visit(page, problems, "/admin/discovery/discoverycallrequest/")
    visit(page, problems, "/admin/patients/patient/?q=Hopper")

    # select2 autocomplete on time off: open it, type, pick.
    visit(page, problems, "/admin/booking/timeoff/add/")
    page.locator("#id_practitioner + .select2").click()
    page.locator(".select2-search__field").fill("Maya")
    page.get_by_role("option", name=re.compile("Maya Lindqvist")).click()
    expect(page.locator("#id_practitioner + .select2")).to_contain_text("Maya Lindqvist")
    assert_clean(page, problems)


def test_the_schedule_works_for_a_practitioner_under_the_policy(page: Page, problems, booked):
    visit(page, problems, "/schedule/login/")
    page.get_by_label("Username").fill("maya.lindqvist")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/schedule/$"))
    assert_clean(page, problems)
    day = timezone.localtime(booked.start, booked.location.zone).date()
    for path in (f"/schedule/?date={day}", "/schedule/week/", f"/schedule/appointments/{booked.pk}/"):
        visit(page, problems, path)
    for path in ("/schedule/time-off/", "/schedule/feed/"):
        visit(page, problems, path)

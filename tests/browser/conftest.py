"""Browser tests: headless Debian Chromium, driven by Playwright, against pytest-django's live server.

Every test collected under tests/browser/ gets the `browser` marker (`-m "not browser"` leaves them out).
Without Chromium they are skipped, loudly, unless CI=true, where they fail.
"""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect, sync_playwright

# Sync Playwright runs an asyncio loop in this thread, so Django would refuse the tests' ORM calls as "async".
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

BROWSER_DIR = Path(__file__).resolve().parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
BROWSER_ZONE = "America/New_York"
DESKTOP = {"width": 1280, "height": 900}
# Fail in seconds rather than Playwright's 30 s defaults: every page here is local and small.
TIMEOUT_MS = 10_000
SKIP_PREFIX = "BROWSER TESTS SKIPPED"
# test_html_validity.py's skip without Java or vnu.jar, made as loud as a missing Chromium's.
NU_CHECKER_SKIP_PREFIX = "HTML VALIDITY TEST SKIPPED"
BLOCKING_IMPACTS = {"serious", "critical"}

expect.set_options(timeout=TIMEOUT_MS)
_axe = Axe()


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH", "").strip() or DEFAULT_CHROMIUM


def _missing_chromium_message(path: str) -> str:
    return (
        f"{SKIP_PREFIX}: {path} not found. "
        "Install Debian's chromium (sudo apt-get install chromium) and re-run make test."
    )


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _is_browser_test(item: pytest.Item) -> bool:
    # Conftest hooks see the whole session's items, not only this directory's.
    return item.path.is_relative_to(BROWSER_DIR)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    path = chromium_path()
    skip = None if Path(path).is_file() or in_ci() else pytest.mark.skip(reason=_missing_chromium_message(path))
    for item in items:
        if _is_browser_test(item):
            item.add_marker(pytest.mark.browser)
            if skip is not None:
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config):
    # The outermost wrapper round pytest's own summary: the warning comes last, just above the counts line.
    result = yield
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and SKIP_PREFIX in str(report.longrepr[2])
    ]
    if skipped:
        terminalreporter.write_sep("!", f"{SKIP_PREFIX} ({len(skipped)})", red=True, bold=True)
        terminalreporter.write_line(_missing_chromium_message(chromium_path()), red=True, bold=True)
        terminalreporter.write_sep("!", red=True, bold=True)
    unchecked = {
        str(report.longrepr[2]).removeprefix("Skipped: ")
        for report in terminalreporter.stats.get("skipped", [])
        if isinstance(report.longrepr, tuple) and NU_CHECKER_SKIP_PREFIX in str(report.longrepr[2])
    }
    for reason in sorted(unchecked):
        terminalreporter.write_sep("!", NU_CHECKER_SKIP_PREFIX, red=True, bold=True)
        terminalreporter.write_line(reason, red=True, bold=True)
        terminalreporter.write_sep("!", red=True, bold=True)
    return result


# While Playwright runs, its asyncio loop counts as running in this thread: asyncio.run() fails and Django
# hands out other connection objects. So the session's one Chromium stops right after the last browser test,
# not at the end of the session, before any other test that may follow (pytest-django runs non-db tests last).
_stop_playwright: list = []
_last_browser_test: list[str] = []


def _stop_chromium() -> None:
    while _stop_playwright:
        _stop_playwright.pop()()


def pytest_collection_finish(session: pytest.Session) -> None:
    _last_browser_test[:] = [item.nodeid for item in session.items if _is_browser_test(item)][-1:]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    try:
        return (yield)
    finally:
        if item.nodeid in _last_browser_test:
            _stop_chromium()


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not Path(path).is_file():
        if in_ci():
            pytest.fail(f"Chromium is required in CI: apt-get install chromium ({path} not found).", pytrace=False)
        pytest.skip(_missing_chromium_message(path))
    playwright = sync_playwright().start()
    _stop_playwright.append(playwright.stop)
    chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
    _stop_playwright.append(chromium.close)
    yield chromium
    _stop_chromium()


@pytest.fixture
def viewport() -> dict:
    """Phone-sized unless a test parametrizes `viewport` (e.g. with DESKTOP)."""
    return PHONE


@pytest.fixture
def page(browser, live_server, viewport):
    # A phone near the demo's Westerville clinic: the call-back page reads the browser's zone.
    context = browser.new_context(
        base_url=live_server.url,
        viewport=viewport,
        reduced_motion="reduce",
        service_workers="block",
        timezone_id=BROWSER_ZONE,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo_clinic(transactional_db):
    """The demo clinic, committed so the live server's thread sees it (the groups and consent
    text it needs are restored by tests/conftest.py's _rows_from_data_migrations)."""
    from demo.clinic import seed_demo_clinic

    seed_demo_clinic()


def book_maya_at_ten_next_week(screening=None):
    """Book (in the demo clinic) an initial assessment with Maya at 10:00 on a day she works,
    8 to 14 days ahead: outside the cancellation window and inside the booking horizon."""
    from datetime import time, timedelta

    from django.utils import timezone

    from booking.availability import available_slots
    from booking.services import book_appointment
    from clinic.models import Location, Practitioner, Service
    from patients.services import ScreeningAnswers
    from tests.factories import patient_details

    westerville = Location.objects.get(slug="westerville")
    service = Service.objects.get(slug="dry-needling-initial-assessment")
    maya = Practitioner.objects.get(slug="maya-lindqvist")
    today = timezone.localtime(timezone.now(), westerville.zone).date()
    slots = available_slots(
        service=service,
        location=westerville,
        practitioner=maya,
        first_day=today + timedelta(days=8),
        last_day=today + timedelta(days=14),
    )
    ten = next(slot for slot in slots if timezone.localtime(slot.start, westerville.zone).time() == time(10))
    return book_appointment(
        service=service,
        location=westerville,
        practitioner=maya,
        start=ten.start,
        patient_details=patient_details(),
        screening=screening or ScreeningAnswers(),
        consent_given=True,
    )


def assert_accessible(page) -> None:
    """Fail listing every serious or critical axe-core violation on the page as it is now."""
    violations = [
        violation for violation in _axe.run(page).response["violations"] if violation.get("impact") in BLOCKING_IMPACTS
    ]
    if not violations:
        return
    lines = [f"{len(violations)} serious/critical accessibility violation(s) on {page.url}:"]
    for violation in violations:
        nodes = violation["nodes"]
        targets = " | ".join(", ".join(map(str, node["target"])) for node in nodes[:3])
        more = f" (+{len(nodes) - 3} more)" if len(nodes) > 3 else ""
        why = " ".join(nodes[0].get("failureSummary", "").split()) if nodes else ""
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"    {len(nodes)} node(s): {targets}{more}")
        if why:
            lines.append(f"    first: {why}")
    pytest.fail("\n".join(lines), pytrace=False)

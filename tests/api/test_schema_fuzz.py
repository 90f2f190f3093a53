"""Schemathesis against /api/v1/openapi.json: every documented operation, fed schema-derived and
schema-breaking input, must answer as documented (no 5xx, a documented status, the documented
content type and body schema).

The schema is read from the Django app itself (its WSGI callable), and requests go in-process to
the same callable: no server. Each example is sent twice: as generated, then "anchored" to the
test clinic (real slugs, a free time, a real manage token, a valid phone number), because random
slugs and tokens only ever reach the "unknown" answers; the anchored request takes the rest of the
generated input (names, emails, free text, screening answers) deep into booking and call-back code.

Bounded and reproducible: derandomized Hypothesis, no example database, a fixed number of examples
per operation. The summary line at the end of the module gives the counts for the closing note:
    pytest tests/booking/test_api_schema_fuzz.py -p no:cacheprovider
"""

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from clinic.wsgi import application
from tests.api.document import document
from tests.helpers import Bookings

OPERATION_IDS = [
    operation["operationId"]
    for path_item in document()["paths"].values()
    for method, operation in path_item.items()
    if method in {"get", "post"}
]
# Explicitly including every operation also keeps GET /openapi.json, which schemathesis would
# otherwise leave out as the endpoint it read the schema from.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).include(operation_id=OPERATION_IDS)

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]
# For generated input only, where schemathesis knows whether it broke the schema on purpose.
# Not positive_data_acceptance: the document cannot say which slugs exist or which times are
# free, so a well-formed but unknown slug is rightly a 400 with a message, not a failure.
GENERATED_CHECKS = [
    *CHECKS,
    schemathesis.checks.negative_data_rejection,
    schemathesis.checks.unsupported_method,
]
EXAMPLES_PER_OPERATION = 30

SERVICES = ["dry-needling-initial", "acupuncture-follow-up", "free-discovery-call"]
LOCATIONS = ["westerville", "calgary"]
PRACTITIONERS = ["any", "maya-lindqvist", "sofia-marchetti"]


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    generated: int = 0
    anchored: int = 0
    statuses: Counter = field(default_factory=Counter)

    def count(self, response, *, anchored: bool) -> None:
        self.anchored += anchored
        self.generated += not anchored
        self.statuses[response.status_code] += 1

    def summary(self) -> str:
        checks = self.generated * len(GENERATED_CHECKS) + self.anchored * len(CHECKS)
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        return (
            f"schemathesis: {len(self.operations)} operations, {self.generated} generated and {self.anchored} "
            f"anchored requests, {checks} checks ({len(GENERATED_CHECKS)} on each generated, {len(CHECKS)} on "
            f"each anchored request), 0 failures; statuses {{{statuses}}}"
        )


@pytest.fixture(scope="module")
def tally(request):
    """Counts what was sent, for the summary line the closing note quotes (printed only when
    every operation passed, hence "0 failures")."""
    counts = Tally()
    yield counts
    if request.session.testsfailed == 0:
        plugins = request.config.pluginmanager
        with plugins.getplugin("capturemanager").global_and_fixture_disabled():
            plugins.getplugin("terminalreporter").write_line("\n" + counts.summary())


@pytest.fixture
def in_process_requests():
    """Keep the test's database connection open across requests. The WSGI handler closes it when
    each request finishes (close_old_connections), which would end the test's transaction; Django's
    test client disconnects the same two signals for the same reason."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


class TestClinic(Bookings):
    """The test clinic's real values, handed out in turn, and its bookings."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, **bookings):
        super().__init__(**bookings)
        self._turns = itertools.count()

    def turn(self) -> int:
        return next(self._turns)


@pytest.fixture
def clinic(in_process_requests, catalogue, open_all_week, booking_day, dry_needling, westerville, physio):
    return TestClinic(service=dry_needling, location=westerville, practitioner=physio, first_day=booking_day)


def _text(value, default: str) -> str:
    return value if isinstance(value, str) else default


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def anchored(case, clinic: TestClinic):
    """The generated case with its slugs, times, token and phone made real; None when the
    operation has nothing the test clinic could make real."""
    operation_id = case.operation.definition.raw["operationId"]
    n = clinic.turn()
    if operation_id == "listPractitioners":
        return case.operation.Case(query={"service": SERVICES[n % 3], "location": LOCATIONS[n % 2]})
    if operation_id == "getAvailability":
        first = clinic.first_day + timedelta(days=n % 5)
        query = {"service": SERVICES[n % 3], "location": LOCATIONS[n % 2], "practitioner": PRACTITIONERS[n % 3]}
        return case.operation.Case(
            query={**query, "start": first.isoformat(), "end": (first + timedelta(days=n % 7)).isoformat()}
        )
    if operation_id == "bookAppointment":
        body = _as_dict(case.body)
        patient = _as_dict(body.get("patient"))
        screening = _as_dict(body.get("screening"))
        return case.operation.Case(
            body={
                "service": "dry-needling-initial",
                "location": "westerville",
                "practitioner": PRACTITIONERS[n % 2],
                "start": clinic.next_start().isoformat(),
                "patient": {
                    "first_name": _text(patient.get("first_name"), "Ada"),
                    "last_name": _text(patient.get("last_name"), "Lovelace"),
                    "email": _text(patient.get("email"), f"ada{n}@example.com"),
                    "phone": "+1 614 555 0142",
                    "date_of_birth": "1980-01-17",
                },
                "screening": {
                    key: screening.get(key, False)
                    for key in ("pregnant", "blood_thinners", "bleeding_disorder", "needle_fear", "needled_before")
                }
                | {
                    "other_conditions": _text(screening.get("other_conditions"), ""),
                    "previous_needling_notes": _text(screening.get("previous_needling_notes"), ""),
                    "red_flags": screening.get("red_flags", []),
                },
                "consent": True,
            }
        )
    if operation_id in {"getAppointment", "cancelAppointment", "rescheduleAppointment"}:
        token = clinic.fresh().manage_token
        body = _as_dict(case.body)
        if operation_id == "getAppointment":
            return case.operation.Case(path_parameters={"manage_token": token})
        if operation_id == "cancelAppointment":
            return case.operation.Case(
                path_parameters={"manage_token": token}, body={"reason": _text(body.get("reason"), "")}
            )
        return case.operation.Case(
            path_parameters={"manage_token": token}, body={"start": clinic.next_start().isoformat()}
        )
    if operation_id == "requestDiscoveryCall":
        body = _as_dict(case.body)
        return case.operation.Case(
            body={
                "name": _text(body.get("name"), "Grace Hopper"),
                "phone": f"+1 614 555 {100 + n % 100:04d}",
                "email": _text(body.get("email"), f"grace{n}@example.com"),
                "best_time": ["morning", "afternoon", "evening"][n % 3],
                "concern": _text(body.get("concern"), ""),
                "conditions": ["sciatica"] if n % 2 else [],
                "heard_about": "other",
                "heard_about_other": _text(body.get("heard_about_other"), ""),
                "consent_to_contact": True,
            }
        )
    return None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    # The clinic is built once per operation and shared by its examples (one transaction).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_as_documented(case, clinic, tally):
    # Every example comes from one client address: without a fresh count, the call-back limit
    # (5 stored requests an hour) would turn every anchored request after the fifth into a 429,
    # and the storing code would go untested. The limit itself is tested in tests/discovery.
    cache.clear()
    tally.operations.add(case.operation.label)
    tally.count(case.call_and_validate(checks=GENERATED_CHECKS), anchored=False)
    real = anchored(case, clinic)
    if real is not None:
        tally.count(real.call_and_validate(checks=CHECKS), anchored=True)


def test_every_documented_operation_is_fuzzed():
    assert len(OPERATION_IDS) == 10
    assert sorted(operation.ok().definition.raw["operationId"] for operation in schema.get_all_operations()) == sorted(
        OPERATION_IDS
    )

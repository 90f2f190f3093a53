"""The v1 document as clients have it: tests/api/openapi-v1.json. The answers are checked
against the generated document, so without this nothing would notice the document itself
drifting (a required field dropped, a type widened). A deliberate change regenerates it:
UPDATE_OPENAPI_SNAPSHOT=1 make test ARGS="tests/api/test_document_snapshot.py", and the diff
goes in the commit for review."""

import json
import os
from pathlib import Path

import pytest

from tests.api.test_booking import API

SNAPSHOT = Path(__file__).with_name("openapi-v1.json")

pytestmark = pytest.mark.django_db


def test_the_served_document_is_the_v1_snapshot(client):
    served = client.get(f"{API}/openapi.json").json()
    if os.environ.get("UPDATE_OPENAPI_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(served, indent=2, sort_keys=True) + "\n")
    assert served == json.loads(SNAPSHOT.read_text())

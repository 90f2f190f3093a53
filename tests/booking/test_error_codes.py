"""Every refusal is one of BookingErrorCode, and each audience's mapper speaks only of those."""

import ast
from pathlib import Path

import pytest

from booking.services import BookingError, BookingErrorCode

ROOT = Path(__file__).resolve().parents[2]


def test_a_code_that_is_not_in_the_list_is_refused_at_once():
    with pytest.raises(ValueError):
        BookingError("no_such_reason", "Whatever")
    assert BookingError("busy", "Try again").code is BookingErrorCode.BUSY


def test_every_code_raised_anywhere_is_in_the_list_and_every_listed_code_is_raised():
    raised = set()
    for path in ROOT.glob("*/*.py"):
        if ".venv" in path.parts or path.parts[-2] in {"tests", "node_modules"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in {"BookingError", "__init__"} and node.args and isinstance(node.args[0], ast.Constant):
                raised.add(node.args[0].value)  # BookingError("code", ...), a subclass's super().__init__
            if name == "DiscoveryCallError":
                raised |= {keyword.value.value for keyword in node.keywords if keyword.arg == "code"}
    assert raised == set(BookingErrorCode)


def test_the_api_and_reception_map_only_listed_codes():
    from api.protocol import _BOOKING_ERROR_STATUS
    from reception.phone_booking import MESSAGES_FOR_RECEPTION

    assert set(_BOOKING_ERROR_STATUS) <= set(BookingErrorCode)
    assert set(MESSAGES_FOR_RECEPTION) <= set(BookingErrorCode)

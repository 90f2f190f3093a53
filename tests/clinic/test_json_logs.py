"""LOG_FORMAT=json: one JSON object per line, and booking links still never reach the logs."""

import importlib.util
import io
import json
import logging
import logging.config
from pathlib import Path

import pytest
from django.conf import settings

TOKEN = "q7J0mZ1xYk3bLr8Vn2Pd5Wc9Ts4Ha6Ue1Gf0Io3KjA"
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "clinic" / "settings.py"


def settings_module_with(monkeypatch, **environ):
    """clinic/settings.py read afresh under `environ`, as a new process would read it."""
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("settings_under_test", SETTINGS_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def json_log_stream(monkeypatch):
    logging_config = settings_module_with(monkeypatch, LOG_FORMAT="json").LOGGING
    stream = io.StringIO()
    config = {**logging_config}
    config["handlers"] = {"console": {**logging_config["handlers"]["console"], "stream": stream}}
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


def records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_line_is_a_json_object_with_time_level_logger_and_message(json_log_stream):
    logging.getLogger("booking.notifications").info("Confirmation email sent for appointment %s", "K7Q-4M2P")
    (record,) = records(json_log_stream)
    assert record["message"] == "Confirmation email sent for appointment K7Q-4M2P"
    assert (record["level"], record["logger"]) == ("INFO", "booking.notifications")
    assert record["timestamp"].endswith("+00:00")
    assert isinstance(record["process"], int)


@pytest.mark.parametrize("logger_name", ["django.request", "django.server", "booking", "schedule", "waitlist"])
def test_tokens_in_paths_are_redacted_in_json(json_log_stream, logger_name):
    logging.getLogger(logger_name).warning("Not Found: %s", f"/api/v1/appointments/{TOKEN}/reschedule")
    logging.getLogger(logger_name).warning(f'"GET /schedule/feed/{TOKEN}.ics HTTP/1.1" 200 5120')
    logging.getLogger(logger_name).warning("Not Found: %s", f"/waitlist/offers/{TOKEN}/")
    assert TOKEN not in json_log_stream.getvalue()
    assert [record["message"] for record in records(json_log_stream)] == [
        "Not Found: /api/v1/appointments/[token]/reschedule",
        '"GET /schedule/feed/[token].ics HTTP/1.1" 200 5120',
        "Not Found: /waitlist/offers/[token]/",
    ]


def test_a_404_for_a_booking_link_logs_no_token_and_no_request_object(client, db, json_log_stream):
    """Django passes the request along with its log record; printed, it would show the path."""
    client.get(f"/appointments/{TOKEN}/")
    client.post(f"/api/v1/appointments/{TOKEN}/cancel", "{}", content_type="application/json")
    client.get(f"/waitlist/{TOKEN}/")
    assert TOKEN not in json_log_stream.getvalue()
    logged = records(json_log_stream)
    assert {(record["message"], record["status_code"]) for record in logged} == {
        ("Not Found: /appointments/[token]/", 404),
        ("Not Found: /api/v1/appointments/[token]/cancel", 404),
        ("Not Found: /waitlist/[token]/", 404),
    }
    assert not any("request" in record for record in logged)


def test_an_exception_is_one_record_with_its_traceback(json_log_stream):
    try:
        raise RuntimeError("the worker lost its database connection")
    except RuntimeError:
        logging.getLogger("booking.notifications").exception("Reminder email for appointment %s failed", "K7Q-4M2P")
    (record,) = records(json_log_stream)
    assert record["level"] == "ERROR"
    assert "RuntimeError: the worker lost its database connection" in record["exc_info"]


def test_plain_is_the_default(monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    assert settings_module_with(monkeypatch).LOGGING["handlers"]["console"]["formatter"] == "plain"


def test_an_unknown_format_stops_start_up_naming_the_variable(monkeypatch):
    with pytest.raises(SystemExit, match=r"^Configuration error: LOG_FORMAT must be plain or json; got 'xml'\.$"):
        settings_module_with(monkeypatch, LOG_FORMAT="xml")

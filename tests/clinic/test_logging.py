"""Booking links are credentials: they never reach the logs."""

import io
import logging
import logging.config

import pytest
from django.conf import settings

TOKEN = "q7J0mZ1xYk3bLr8Vn2Pd5Wc9Ts4Ha6Ue1Gf0Io3KjA"


@pytest.fixture
def log_stream():
    stream = io.StringIO()
    config = {**settings.LOGGING}
    config["handlers"] = {"console": {**config["handlers"]["console"], "stream": stream}}
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.parametrize("logger_name", ["django.request", "django.server", "booking"])
def test_tokens_in_paths_are_redacted_by_every_logger(log_stream, logger_name):
    logging.getLogger(logger_name).warning("Not Found: %s", f"/api/v1/appointments/{TOKEN}/reschedule")
    logging.getLogger(logger_name).warning(f'"GET /appointments/{TOKEN}/ HTTP/1.1" 404 179')
    output = log_stream.getvalue()
    assert TOKEN not in output
    assert output.count("/appointments/[token]") == 2


def test_a_404_for_a_booking_link_logs_no_token(client, db, log_stream):
    client.get(f"/appointments/{TOKEN}/")
    client.post(f"/api/v1/appointments/{TOKEN}/cancel", "{}", content_type="application/json")
    output = log_stream.getvalue()
    assert "Not Found" in output
    assert TOKEN not in output


@pytest.mark.parametrize("logger_name", ["django.request", "django.server", "schedule"])
def test_calendar_feed_tokens_are_redacted_by_every_logger(log_stream, logger_name):
    logging.getLogger(logger_name).warning("Not Found: %s", f"/schedule/feed/{TOKEN}.ics")
    logging.getLogger(logger_name).warning(f'"GET /schedule/feed/{TOKEN}.ics HTTP/1.1" 200 5120')
    output = log_stream.getvalue()
    assert TOKEN not in output
    assert output.count("/schedule/feed/[token].ics") == 2


def test_a_refused_calendar_feed_logs_no_token(client, db, log_stream):
    """An old link still polled by a calendar app is a 404 every few hours: logged, without its token."""
    client.get(f"/schedule/feed/{TOKEN}.ics")
    output = log_stream.getvalue()
    assert "Not Found: /schedule/feed/[token].ics" in output
    assert TOKEN not in output


def test_the_feed_settings_page_path_is_left_alone(log_stream):
    logging.getLogger("django.server").info('"GET /schedule/feed/ HTTP/1.1" 200 4096')
    assert '"GET /schedule/feed/ HTTP/1.1"' in log_stream.getvalue()


def test_waiting_list_links_log_no_token(client, db, log_stream):
    """A place on the waiting list and an offered time are opened by their link alone."""
    client.get(f"/waitlist/{TOKEN}/")
    client.get(f"/waitlist/offers/{TOKEN}/")
    output = log_stream.getvalue()
    assert "Not Found: /waitlist/[token]/" in output
    assert "Not Found: /waitlist/offers/[token]/" in output
    assert TOKEN not in output

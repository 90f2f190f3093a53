"""Log hygiene and format, for Django (settings.LOGGING) and gunicorn (clinic/gunicorn_config.py).

The tokens in private links are credentials and must not reach logs:

- a booking's manage link: /appointments/<token>/... on the site and under /api/v1/;
- a practitioner's calendar feed: /schedule/feed/<token>.ics, which also opens patients' names;
- a place on the waiting list and an offered time: /waitlist/<token>/, /waitlist/offers/<token>/.
"""

import logging
import re
import threading
import time

TOKEN_IN_PATH = re.compile(r"(/appointments/|/schedule/feed/|/waitlist/(?:offers/)?)[A-Za-z0-9_\-]{20,}")


class RedactBookingTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_PATH.sub(r"\1[token]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


class OncePerMinute(logging.Filter):
    """Pass a logger's first record of each message per minute (per process); the next one passed
    says how many were held back. django-redis logs a traceback for every failed cache command:
    while Redis is down that is several per request, and one a minute says as much. Keyed by the
    message before formatting, so for loggers with fixed messages it holds a few entries."""

    SECONDS = 60
    HELD_BACK = " ({} more like it held back since the last one logged)"

    def __init__(self, name: str = "", clock=time.monotonic):
        super().__init__(name)
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, int]] = {}  # message -> (when passed, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        key, now = f"{record.name}:{record.msg}", self._clock()
        with self._lock:
            passed_at, held_back = self._last.get(key, (float("-inf"), 0))
            if now - passed_at < self.SECONDS:
                self._last[key] = (passed_at, held_back + 1)
                return False
            self._last[key] = (now, 0)
        if held_back:
            record.msg = record.getMessage() + self.HELD_BACK.format(held_back)
            record.args = None
        return True


def _json_formatter(**options):
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    # Django attaches the request to its log records as `request` (and runserver its
    # `server_time`); the JSON formatter would print every such extra, and a request prints as
    # its path, token included, so those two are left out.
    return JsonFormatter(reserved_attrs=[*RESERVED_ATTRS, "request", "server_time"], **options)


# LOG_FORMAT: plain for people, json (one object per line) for a log collector.
FORMATTERS = {
    "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    "json": {
        "()": _json_formatter,
        "fmt": "%(levelname)s %(name)s %(process)d %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": True,  # ISO 8601 in UTC
    },
}
FILTERS = {
    "redact_tokens": {"()": RedactBookingTokens},
    "once_per_minute": {"()": OncePerMinute},
    "database_outage": {"()": "clinic.outage.OutageLogFilter"},
}
# Loggers whose messages repeat on every request while something is wrong, once a minute is
# enough: django-redis's "Exception ignored" on every failed cache command (clinic/settings.py,
# REDIS_CACHE), and the rate limits' warning about a missing client address.
CACHE_FAILURES_LOGGER = "django_redis.cache"
REPETITIVE_LOGGERS = (CACHE_FAILURES_LOGGER, "clinic.throttling")


def console_handler(log_format: str) -> dict:
    return {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "formatter": log_format,
        "filters": ["redact_tokens"],
    }


def gunicorn_log_config(log_format: str) -> dict:
    """gunicorn's logconfig_dict: its own lines (starting, workers, timeouts) to stderr in the
    site's format. No access log: its paths would carry private links' tokens."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": FORMATTERS,
        "filters": FILTERS,
        "handlers": {"console": console_handler(log_format)},
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }

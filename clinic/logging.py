"""Log hygiene and format, for Django (settings.LOGGING) and gunicorn (clinic/gunicorn_config.py).

The tokens in private links are credentials and must not reach logs:

- a booking's manage link: /appointments/<token>/... on the site and under /api/v1/;
- a practitioner's calendar feed: /schedule/feed/<token>.ics, which also opens patients' names;
- a place on the waiting list and an offered time: /waitlist/<token>/, /waitlist/offers/<token>/.
"""

import logging
import re

TOKEN_IN_PATH = re.compile(r"(/appointments/|/schedule/feed/|/waitlist/(?:offers/)?)[A-Za-z0-9_\-]{20,}")


class RedactBookingTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_PATH.sub(r"\1[token]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
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
FILTERS = {"redact_tokens": {"()": RedactBookingTokens}}


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

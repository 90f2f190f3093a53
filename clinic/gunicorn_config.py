"""gunicorn's settings file for `make serve` (scripts/dev.py gunicorn_command: -c python:clinic.gunicorn_config).

Only logging: gunicorn's own lines in LOG_FORMAT, as Django's are (plain by default, or json).
"""

import os

from clinic.logging import FORMATTERS, gunicorn_log_config

LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
if LOG_FORMAT not in FORMATTERS:
    raise SystemExit(f"Configuration error: LOG_FORMAT must be plain or json; got {LOG_FORMAT!r}.")
logconfig_dict = gunicorn_log_config(LOG_FORMAT)

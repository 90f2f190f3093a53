"""gunicorn's settings file for `make serve` (scripts/dev.py gunicorn_command: -c python:clinic.gunicorn_config).

Only logging: gunicorn's own lines in LOG_FORMAT, as Django's are (plain by default, or json).
"""

import os

from clinic.logging import gunicorn_log_config

logconfig_dict = gunicorn_log_config(os.environ.get("LOG_FORMAT", "plain"))

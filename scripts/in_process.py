"""Django set up as production runs it (DEBUG off, throwaway secrets, the per-process cache), on
DATABASE_URL, for the scripts that measure a page in one process with the test client
(measure_pages.py, profile_availability.py)."""

import os
import secrets
import sys
from pathlib import Path


def setup_production_like() -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ALLOWED_HOSTS": "testserver",
            "SITE_URL": "http://testserver",
            "DEFAULT_FROM_EMAIL": "measure@localhost",
            "CLINIC_EMAIL": "measure@localhost",
            "CACHE_LOCAL_MEMORY": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DB_CONN_MAX_AGE": "600",
            "STAFF_OTP_REQUIRED": "0",  # the pages are asked for as a logged-in, verified desk
        }
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()

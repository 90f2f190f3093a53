"""Test settings: production settings with test-only values filled in.

Only what a test run cannot have from the environment is set here; everything
else is the production configuration, so the suite exercises what ships.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnop")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SITE_URL", "http://testserver")
os.environ.setdefault("DEFAULT_FROM_EMAIL", "clinic@example.com")
os.environ.setdefault("CLINIC_EMAIL", "reception@example.com")
# One test process: its own in-memory cache (the Redis path is covered in tests/clinic/test_settings.py).
os.environ.setdefault("CACHE_LOCAL_MEMORY", "1")

from clinic.settings import *  # noqa: F403

# Pages render {% static %} without a collectstatic run; the manifest storage is
# exercised by `manage.py check --deploy` and the production server instead.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Serve static files straight from the apps' folders (no collectstatic in tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

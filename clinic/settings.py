"""Settings, read strictly from the environment.

Production is the default: DEBUG is off unless DEBUG=1, and then SECRET_KEY,
ALLOWED_HOSTS, SITE_URL and DATABASE_URL must be set. A missing or malformed
value stops start-up with one line naming the variable (see `_fail`), so a
misconfigured server never starts half-working.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django

BASE_DIR = Path(__file__).resolve().parent.parent

_REQUIRED = object()


def _fail(name: str, problem: str) -> None:
    # SystemExit with a string prints exactly that line and exits 1: no traceback
    # for an operator to scroll through.
    raise SystemExit(f"Configuration error: {name} {problem}")


def env_str(name: str, default=_REQUIRED) -> str:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        if default is _REQUIRED:
            _fail(name, "is required and not set.")
        return default
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    _fail(name, f"must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        _fail(name, f"must be a whole number; got {value!r}.")


def env_list(name: str, default=_REQUIRED) -> list[str]:
    raw = env_str(name, default=None)
    if raw is None:
        if default is _REQUIRED:
            _fail(name, "is required and not set (comma-separated).")
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

if DEBUG:
    SECRET_KEY = env_str("SECRET_KEY", default="dev-only-insecure-key-never-use-in-production")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 32:
        _fail("SECRET_KEY", "must be at least 32 characters in production.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else _REQUIRED)

SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else _REQUIRED).rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.netloc:
    _fail("SITE_URL", f"must be an absolute http(s) URL such as https://clinic.example; got {SITE_URL!r}.")
CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]

CLINIC_NAME = env_str("CLINIC_NAME", default="Riverside Pain & Needling Clinic")
# Shown wherever we tell a patient with red-flag symptoms to get urgent care (112 in India, 999 in the UK).
EMERGENCY_NUMBER = env_str("EMERGENCY_NUMBER", default="911")

_database_url = env_str("DATABASE_URL", default=None)
if _database_url is None:
    _fail("DATABASE_URL", "is required: `make run` / `make test` start an embedded PostgreSQL and set it for you.")
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))
except Exception:  # the parser raises several types; the operator needs only the variable's name
    _fail("DATABASE_URL", "is not a valid database URL (postgres://user:password@host:port/name).")
if _database["ENGINE"] != "django.db.backends.postgresql":
    _fail(
        "DATABASE_URL", "must point at PostgreSQL (postgres://...): the booking invariants are PostgreSQL constraints."
    )
DATABASES = {"default": _database}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "simple_history",
    "django_ratelimit",
    "clinic",
    "booking",
    "patients",
    "discovery",
    "schedule",
    "waitlist",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "clinic.urls"
# Practitioners log in on their own schedule pages; reception and admins use the admin's login.
LOGIN_URL = "schedule:login"
LOGIN_REDIRECT_URL = "schedule:day"
WSGI_APPLICATION = "clinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.context_processors.clinic",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Everything is stored in UTC; pages convert to the location's own zone.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Booking rules (minutes / days / hours), the same for the web, the API and the admin.
BOOKING_MIN_NOTICE_MINUTES = env_int("BOOKING_MIN_NOTICE_MINUTES", default=120)
BOOKING_HORIZON_DAYS = env_int("BOOKING_HORIZON_DAYS", default=60)
BOOKING_SLOT_STEP_MINUTES = env_int("BOOKING_SLOT_STEP_MINUTES", default=15)
BOOKING_CANCELLATION_WINDOW_HOURS = env_int("BOOKING_CANCELLATION_WINDOW_HOURS", default=24)
if not 5 <= BOOKING_SLOT_STEP_MINUTES <= 60 or 60 % BOOKING_SLOT_STEP_MINUTES:
    _fail("BOOKING_SLOT_STEP_MINUTES", "must divide an hour: 5, 10, 15, 20, 30 or 60.")
# The reminder email goes out this many hours before the start, on the location's wall
# clock: 24 is "the day before at the same time", also across a clock change.
REMINDER_HOURS_BEFORE = env_int("REMINDER_HOURS_BEFORE", default=24)
if not 1 <= REMINDER_HOURS_BEFORE <= 168:
    _fail("REMINDER_HOURS_BEFORE", f"must be between 1 and 168 (a week); got {REMINDER_HOURS_BEFORE}.")

PHONENUMBER_DEFAULT_REGION = env_str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DEFAULT_FORMAT = "E164"

# The shared cache holds availability answers and rate-limit counters. Several app
# processes must share one (Redis, REDIS_URL), or each counts its own limits: so
# production needs REDIS_URL, unless CACHE_LOCAL_MEMORY=1 says this is one process
# (as `make run` and the tests are).
REDIS_URL = env_str("REDIS_URL", default=None)
CACHE_LOCAL_MEMORY = env_bool("CACHE_LOCAL_MEMORY", default=DEBUG)
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        _fail("REDIS_URL", "must be a redis://, rediss:// or unix:// URL (it is not echoed: it may hold a password).")
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
elif CACHE_LOCAL_MEMORY:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # django-ratelimit refuses a per-process cache; with one process it counts correctly.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
else:
    _fail(
        "REDIS_URL",
        "is required in production: rate limits and cached availability must be shared by all app processes "
        "(or set CACHE_LOCAL_MEMORY=1 for a single-process server).",
    )
# Behind a load balancer the client's address is in a header the balancer sets, e.g.
# HTTP_X_REAL_IP; unset, REMOTE_ADDR is used.
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY", default=None)

# Email: the console in development, SMTP in production unless told otherwise.
# The variables are the classic EMAIL_* names; Django 6.1 configures them as MAILERS.
_email_backend = env_str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
_email_options = {}
if _email_backend.endswith("smtp.EmailBackend"):
    _email_options = {
        "host": env_str("EMAIL_HOST", default="localhost"),
        "port": env_int("EMAIL_PORT", default=587),
        "username": env_str("EMAIL_HOST_USER", default=""),
        "password": env_str("EMAIL_HOST_PASSWORD", default=""),
        "use_tls": env_bool("EMAIL_USE_TLS", default=True),
        "timeout": env_int("EMAIL_TIMEOUT", default=20),
    }
elif _email_backend.endswith("filebased.EmailBackend"):
    _email_options = {"file_path": env_str("EMAIL_FILE_PATH")}
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
else:  # Django 5.2 on Python 3.11
    EMAIL_BACKEND = _email_backend
    _classic_names = {
        "host": "EMAIL_HOST",
        "port": "EMAIL_PORT",
        "username": "EMAIL_HOST_USER",
        "password": "EMAIL_HOST_PASSWORD",
        "use_tls": "EMAIL_USE_TLS",
        "timeout": "EMAIL_TIMEOUT",
        "file_path": "EMAIL_FILE_PATH",
    }
    globals().update({_classic_names[option]: value for option, value in _email_options.items()})
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", default="clinic@localhost" if DEBUG else _REQUIRED)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The clinic's own inbox: new discovery-call requests are announced there.
CLINIC_EMAIL = env_str("CLINIC_EMAIL", default="reception@localhost" if DEBUG else _REQUIRED)

# Flash messages can mention what a patient told us (e.g. a fear of needles): keep them
# server-side in the session, never in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and _site.scheme == "https":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_tokens": {"()": "clinic.logging.RedactBookingTokens"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": sys.stderr,
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    # Django's request and dev-server loggers print paths: through the same redacting handler.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

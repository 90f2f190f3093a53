"""Settings, read strictly from the environment.

Production is the default: DEBUG is off unless DEBUG=1, and then SECRET_KEY,
ALLOWED_HOSTS, SITE_URL and DATABASE_URL must be set. A missing or malformed
value stops start-up with one line naming the variable (see `_fail`), so a
misconfigured server never starts half-working.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import dj_database_url

from clinic import logging as log_hygiene

BASE_DIR = Path(__file__).resolve().parent.parent

_REQUIRED = object()


def _fail(name: str, problem: str) -> NoReturn:
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
# The availability lookups as server-side prepared statements (clinic/prepared.py); off behind a
# pooler in transaction mode, which does not keep a session's statements.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)

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
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clinic",
    "booking",
    "patients",
    "discovery",
    "schedule",
    "waitlist",
    "reception",
    "privacy",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "clinic.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, with the API's own policy
    "clinic.middleware.PermissionsPolicyMiddleware",
    "clinic.search_engines.NoIndexMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "clinic.middleware.StaffSessionLimitMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.staff_otp.StaffOTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.token_lookups.TokenLookupLimitMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as its documentation asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
# Practitioners log in on their own schedule pages; reception and admins use the admin's login.
LOGIN_URL = "schedule:login"
LOGIN_REDIRECT_URL = "schedule:day"
WSGI_APPLICATION = "clinic.wsgi.application"

# Brute-force protection on both logins (the admin's and /schedule/login/), by django-axes.
# Its backend goes first: it refuses a locked-out username+address before a password is checked.
AUTHENTICATION_BACKENDS = [
    "clinic.staff_auth.AccountLockoutBackend",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 5 wrong passwords for one username from one address lock that pair out for 15 minutes;
# another person at the same desk (another username) can still log in. Failures are kept in
# the database, shared by every app process and visible to the owner in the admin.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "clinic.staff_auth.locked_out"
# The client's address as the rate limits read it (RATELIMIT_IP_META_KEY behind a balancer).
AXES_CLIENT_IP_CALLABLE = "clinic.staff_auth.client_ip"
AXES_USERNAME_CALLABLE = "clinic.staff_auth.username_as_typed"
# Every failure is kept (axes's failure log) for the per-account ceiling below.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Per account, from any address: this many wrong passwords within the window pause the login
# for the window's length, or until reception or an admin unlocks it (clinic/staff_auth.py).
ACCOUNT_LOCKOUT_FAILURES = env_int("ACCOUNT_LOCKOUT_FAILURES", default=20)
if not 6 <= ACCOUNT_LOCKOUT_FAILURES <= 1000:
    _fail(
        "ACCOUNT_LOCKOUT_FAILURES",
        f"must be between 6 (above the per-address 5) and 1000; got {ACCOUNT_LOCKOUT_FAILURES}.",
    )
ACCOUNT_LOCKOUT_WINDOW = timedelta(hours=1)
# A staff user with a confirmed TOTP device must give a token before the admin opens;
# STAFF_OTP_REQUIRED=1 makes a device compulsory for every staff user.
STAFF_OTP_REQUIRED = env_bool("STAFF_OTP_REQUIRED", default=False)
OTP_TOTP_ISSUER = CLINIC_NAME

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
# How long a booking, move or cancellation waits for another's row lock before it answers
# "busy, try again" (booking.services.busy_when_locked_out) rather than hold a worker.
BOOKING_LOCK_TIMEOUT_MS = env_int("BOOKING_LOCK_TIMEOUT_MS", default=5000)
if not 100 <= BOOKING_LOCK_TIMEOUT_MS <= 60000:
    _fail("BOOKING_LOCK_TIMEOUT_MS", "must be between 100 and 60000 (milliseconds).")
# Set on every connection, so no writer can forget it and it costs no round trip: the admin's
# saves, the worker's claims and `migrate` (which then fails fast rather than queue every
# request behind a lock it waits for) are bounded too.
_database_options = DATABASES["default"].setdefault("OPTIONS", {})
_database_options["options"] = (
    f"{_database_options.get('options', '')} -c lock_timeout={BOOKING_LOCK_TIMEOUT_MS}".strip()
)
if not 5 <= BOOKING_SLOT_STEP_MINUTES <= 60 or 60 % BOOKING_SLOT_STEP_MINUTES:
    _fail("BOOKING_SLOT_STEP_MINUTES", "must divide an hour: 5, 10, 15, 20, 30 or 60.")
# Staff (reception booking for a caller or at the desk, moving appointments) book under their
# own rules, never the patients': from the grid time now falls in (a walk-in at 12:37 is booked
# at 12:30), up to this many days ahead.
STAFF_BOOKING_HORIZON_DAYS = env_int("STAFF_BOOKING_HORIZON_DAYS", default=365)
if not BOOKING_HORIZON_DAYS <= STAFF_BOOKING_HORIZON_DAYS <= 3660:
    _fail(
        "STAFF_BOOKING_HORIZON_DAYS",
        f"must be between BOOKING_HORIZON_DAYS ({BOOKING_HORIZON_DAYS}) and 3660; got {STAFF_BOOKING_HORIZON_DAYS}.",
    )
# How staff pages write a time of day: "12" (2:30 PM, as North American clinics read it) or
# "24" (14:30). The calendar, the week, Book for a caller and the practitioner's pages all use it.
CLOCK_FORMAT = env_str("CLOCK_FORMAT", default="12")
if CLOCK_FORMAT not in {"12", "24"}:
    _fail("CLOCK_FORMAT", f"must be 12 or 24; got {CLOCK_FORMAT!r}.")
# The reminder email goes out this many hours before the start, on the location's wall
# clock: 24 is "the day before at the same time", also across a clock change.
REMINDER_HOURS_BEFORE = env_int("REMINDER_HOURS_BEFORE", default=24)
if not 1 <= REMINDER_HOURS_BEFORE <= 168:
    _fail("REMINDER_HOURS_BEFORE", f"must be between 1 and 168 (a week); got {REMINDER_HOURS_BEFORE}.")
# A moved appointment's notice waits until it has stayed put this long: two moves minutes
# apart (a drag, then a better time) send one notice, for the final time.
# An email handed to the mail server but not confirmed sent within this long (the worker was
# killed, the database went away) is sent again, with the same Message-ID (clinic/outbox.py).
EMAIL_SEND_LEASE_SECONDS = env_int("EMAIL_SEND_LEASE_SECONDS", default=600)
if not 5 <= EMAIL_SEND_LEASE_SECONDS <= 86400:
    _fail("EMAIL_SEND_LEASE_SECONDS", f"must be between 5 and 86400 (a day); got {EMAIL_SEND_LEASE_SECONDS}.")
CHANGE_NOTICE_SETTLE_SECONDS = env_int("CHANGE_NOTICE_SETTLE_SECONDS", default=180)
if not 0 <= CHANGE_NOTICE_SETTLE_SECONDS <= 3600:
    _fail("CHANGE_NOTICE_SETTLE_SECONDS", f"must be between 0 and 3600 (an hour); got {CHANGE_NOTICE_SETTLE_SECONDS}.")

PHONENUMBER_DEFAULT_REGION = env_str("PHONENUMBER_DEFAULT_REGION", default="US")
PHONENUMBER_DEFAULT_FORMAT = "E164"

# The shared cache holds availability answers and rate-limit counters. Several app
# processes must share one (Redis, REDIS_URL), or each counts its own limits: so
# production needs REDIS_URL, unless CACHE_LOCAL_MEMORY=1 says this is one process
# (as `make run` and the tests are).
REDIS_URL = env_str("REDIS_URL", default=None)
# When Redis is down or slow the site keeps booking: a failed cache read is a miss (availability
# is computed afresh), a failed write is skipped, and the rate limits let requests through
# (RATELIMIT_FAIL_OPEN) rather than refuse every booking; staff logins' lockout is in the
# database. Failures are logged (django_redis, at most one a minute per process: clinic/logging.py),
# and /healthz says "cache unavailable".
REDIS_CACHE = {
    "BACKEND": "django_redis.cache.RedisCache",
    "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
RATELIMIT_FAIL_OPEN = True
CACHE_LOCAL_MEMORY = env_bool("CACHE_LOCAL_MEMORY", default=DEBUG)
if REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        _fail("REDIS_URL", "must be a redis://, rediss:// or unix:// URL (it is not echoed: it may hold a password).")
    CACHES = {"default": REDIS_CACHE | {"LOCATION": REDIS_URL}}
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
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": _email_options}}
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
# Manage, waiting-list and calendar-feed links carry their owner's only credential in the path:
# "same-origin" sends no Referer at all to another site (not even our origin, which would tell
# it a visitor came from a pain clinic); our own pages still get the full one.
SECURE_REFERRER_POLICY = "same-origin"
# Everything is served from our own origin (Bootstrap included, no CDN), and there is no inline
# script or style anywhere: CSS and JS live in static files. data: is for the SVG icons Bootstrap's
# CSS embeds (select arrows, checkboxes, the menu button). On in DEBUG too, so `make run` shows a
# violation in the browser's console long before production does.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Only staff and practitioners log in. A session ends after STAFF_SESSION_IDLE_MINUTES without a
# request, and at the latest STAFF_SESSION_MAX_HOURS after login however busy: SESSION_COOKIE_AGE
# is the idle time, and clinic.middleware.StaffSessionLimitMiddleware moves it on and ends the day.
STAFF_SESSION_IDLE_MINUTES = env_int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env_int("STAFF_SESSION_MAX_HOURS", default=10)
if not 1 <= STAFF_SESSION_MAX_HOURS <= 24:
    _fail("STAFF_SESSION_MAX_HOURS", f"must be between 1 and 24; got {STAFF_SESSION_MAX_HOURS}.")
if not 5 <= STAFF_SESSION_IDLE_MINUTES <= STAFF_SESSION_MAX_HOURS * 60:
    _fail(
        "STAFF_SESSION_IDLE_MINUTES",
        f"must be between 5 and STAFF_SESSION_MAX_HOURS in minutes; got {STAFF_SESSION_IDLE_MINUTES}.",
    )
SESSION_COOKIE_AGE = STAFF_SESSION_IDLE_MINUTES * 60

# Trust X-Forwarded-Proto only when a proxy in front sets it and replaces any value a client sent:
# otherwise anyone could claim a plain-HTTP request was HTTPS. Behind a TLS-terminating load
# balancer, set TRUST_X_FORWARDED_PROTO=1 (without it, SECURE_SSL_REDIRECT would redirect forever).
if env_bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Secure cookies and HSTS only over https: `make run` is plain http on 127.0.0.1.
if not DEBUG and _site.scheme == "https":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # A load balancer's health check speaks plain HTTP to the instance: answer it, not redirect it.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# LOG_FORMAT=json writes one JSON object per line (for a log collector); plain is for people.
# Both go through the token-redacting filter (clinic/logging.py; gunicorn's own lines too).
LOG_FORMAT = env_str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in log_hygiene.FORMATTERS:
    _fail("LOG_FORMAT", f"must be plain or json; got {LOG_FORMAT!r}.")


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": log_hygiene.FORMATTERS,
    "filters": log_hygiene.FILTERS,
    "handlers": {"console": log_hygiene.console_handler(LOG_FORMAT)},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="INFO")},
    # Django's request and dev-server loggers print paths: through the same redacting handler.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # A database outage: one line a minute, not a traceback per request (clinic/outage.py).
        "django.request": {"filters": ["database_outage"]},  # then on to "django"
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        **{name: {"filters": ["once_per_minute"]} for name in log_hygiene.REPETITIVE_LOGGERS},
    },
}

"""ProdReady settings: one module, every production knob from the environment.

With no configuration at all the app runs in development mode: DEBUG on, SQLite in ./var, email to
the console, Celery on kombu's filesystem transport (no server needed). As soon as any production
setting is given (SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL), DEBUG is off unless asked for,
and with DEBUG off SECRET_KEY and ALLOWED_HOSTS are required: the process refuses to start without them.
"""

import sys
from pathlib import Path

from celery.schedules import crontab

from config.env import ConfigurationError, database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PRODREADY_VAR_DIR") or BASE_DIR / "var")

# The test suite runs with DEBUG off, as production does, but needs no secrets.
TESTING = "pytest" in sys.modules
CONFIGURED = any(env_str(name) for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"))
DEBUG = env_bool("DEBUG", not CONFIGURED and not TESTING)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ConfigurationError("SECRET_KEY is required when DEBUG is off (set DEBUG=1 for development)")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG or TESTING else []
)
if not ALLOWED_HOSTS:
    raise ConfigurationError("ALLOWED_HOSTS is required when DEBUG is off (comma-separated host names)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# The address people reach the app at, for links in emails.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "template_partials",
    "pilots",
    "metrics",
    "exceptions",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pilots.middleware.workspace_timezone",
    "pilots.middleware.vary_on_htmx",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "pilots.context_processors.workspaces",
            ],
            "builtins": ["template_partials.templatetags.partials", "pilots.templatetags.ui"],
        },
    }
]

DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": database_from_url(DATABASE_URL, base_dir=BASE_DIR)
    if DATABASE_URL
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, worker, beat) share the file: wait for the write lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    if TESTING:
        # A file, not Django's in-memory default: the browser tests' live server answers requests in
        # threads, and an in-memory database would hand all of them (and the test) one connection,
        # whose transaction state they then share; under load that hung `make test`. With a file,
        # each thread has its own connection, as web and worker do in `make run`.
        DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
        DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA synchronous=OFF; PRAGMA journal_mode=WAL"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# Security headers that only make sense behind HTTPS are on when DEBUG is off, unless told otherwise.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Email: the console unless an SMTP host is configured.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ProdReady <prodready@localhost>")

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport in ./var (no server).
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
# The cache holds the API's per-key rate counters: shared through Redis when there is one.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
if CELERY_BROKER_URL == "filesystem://":
    CELERY_FS_DIR = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FS_DIR / "queue"),
        "data_folder_out": str(CELERY_FS_DIR / "queue"),
        "control_folder": str(CELERY_FS_DIR / "control"),
        "processed_folder": str(CELERY_FS_DIR / "processed"),
        "store_processed": False,
        "polling_interval": 0.25,
    }
    for folder in ("queue", "control", "processed"):
        (CELERY_FS_DIR / folder).mkdir(parents=True, exist_ok=True)
else:
    # Bounded waits: a request never hangs on an unreachable broker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 2, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "recompute-metrics-from-cases": {
        "task": "metrics.tasks.recompute_metrics",
        "schedule": 900.0,
    },
    "notify-late-escalations": {
        "task": "exceptions.tasks.notify_late_escalations",
        "schedule": 300.0,
    },
    "refresh-rule-suggestions": {
        "task": "exceptions.tasks.refresh_suggestions",
        "schedule": 3600.0,
    },
    "retry-due-webhook-deliveries": {
        "task": "pilots.tasks.deliver_due_webhooks",
        "schedule": 60.0,
    },
    "purge-expired-idempotency-records": {
        "task": "pilots.tasks.purge_idempotency_records",
        "schedule": 3600.0,
    },
    # issue 8: recompute readiness still marked dirty (a lost message, a broker that was down), and
    # nightly every pilot, since checks with a time window change without any write.
    "sweep-dirty-readiness": {
        "task": "pilots.tasks.sweep_readiness",
        "schedule": 30.0,
    },
    "recompute-all-readiness-nightly": {
        "task": "pilots.tasks.recompute_all_readiness",
        "schedule": crontab(hour=2, minute=30),
    },
    # issue 9: the portfolio's week for the trend, then the leaders' digest (Monday morning, UTC).
    "record-portfolio-weeks": {
        "task": "pilots.tasks.record_portfolio_weeks",
        "schedule": crontab(day_of_week="mon", hour=5, minute=0),
    },
    "send-portfolio-digests": {
        "task": "pilots.tasks.send_portfolio_digests",
        "schedule": crontab(day_of_week="mon", hour=6, minute=0),
    },
    "resend-unsent-gate-request-emails": {
        "task": "pilots.tasks.send_unsent_gate_request_emails",
        "schedule": 300.0,
    },
}

LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ConfigurationError(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Case uploads: stored under VAR_DIR/uploads (a volume shared by web and worker in production).
UPLOAD_DIR = VAR_DIR / "uploads"
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 512 * 1024 * 1024, minimum=1024)
# Webhook endpoints inside the network (loopback, private, link-local) are refused unless allowed.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
# The integration API: requests per minute per key (429 with Retry-After beyond it).
API_RATE_LIMIT_PER_MINUTE = env_int("API_RATE_LIMIT_PER_MINUTE", 600, minimum=1)
# Step 3: how long a reviewer's claim on an escalated case holds before others may take it.
REVIEW_CLAIM_MINUTES = env_int("REVIEW_CLAIM_MINUTES", 30, minimum=1)
# Issue 8: a write's readiness recompute waits this long, so a burst of writes ends in one recompute.
READINESS_DEBOUNCE_SECONDS = env_int("READINESS_DEBOUNCE_MS", 750, minimum=0) / 1000
# Issue 9: the portfolio dashboard calls a pilot stuck after this many days without a gate decision, or
# with a gate request waiting on its owner this many days.
PORTFOLIO_STUCK_DAYS = env_int("PORTFOLIO_STUCK_DAYS", 30, minimum=1)
PORTFOLIO_WAITING_DAYS = env_int("PORTFOLIO_WAITING_DAYS", 7, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # larger uploads stream to a temporary file, never into memory
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Product knobs.
GATE_DECISION_DAYS = env_int("GATE_DECISION_DAYS", 14, minimum=1)
PAGE_SIZE = 25

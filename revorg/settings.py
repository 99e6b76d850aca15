"""Twelve-factor settings: everything that differs between machines comes from the environment.

See DESIGN.md section 6 for the variables and their defaults.
"""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Optional `.env`: KEY=VALUE lines; the real environment always wins."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEV_SECRET_KEY = "django-insecure-revorg-dev-key-do-not-use-in-production"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or DEV_SECRET_KEY


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "revorg",
    "members",
    "territories",
    "capacities",
    "allocation",
    "crm_sync",
    "jobs",
    "book",
    "replay",
    "analytics",
    "geo",
    "planning",
    "notifications",
    "transitions",
    "reassignments",
    "sla",
    "governance",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "revorg.middleware.PageContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "revorg.middleware.WorkspaceMiddleware",
    "revorg.middleware.ViewerTimezoneMiddleware",
    "revorg.middleware.RequestParametersMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "revorg.urls"
WSGI_APPLICATION = "revorg.wsgi.application"

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
                "revorg.context_processors.workspace",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
_default_db = dj_database_url.parse(
    DATABASE_URL,
    conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    conn_health_checks=env_bool("DATABASE_HEALTH_CHECKS", True),
)
# Covering indexes (INCLUDE) are a Postgres speed-up (book.models); SQLite, the demo's
# database, builds them without their extra columns, which is all it needs.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if _default_db["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", False):
    # psycopg 3 pool inside each process; persistent connections and a pool are exclusive.
    _default_db["CONN_MAX_AGE"] = 0
    _default_db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN", "2")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX", "8")),
    }
if _default_db["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Lets revorg.rawsql.hot_cursor prepare the allocation path's statements (turn off behind
    # a pooler that cannot keep them). The ORM's client-side cursors never prepare, whatever
    # the threshold.
    _default_db.setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth and i18n --------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# django-axes checks every password login (the UI's /login/ and the admin's) before Django
# does: after LOGIN_FAILURE_LIMIT failures for one username, or from one IP address, logins
# are refused for LOGIN_COOLOFF_MINUTES, even with the right password. A success resets.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT") or "5")
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_COOLOFF_MINUTES") or "15"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "revorg.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "revorg.security.client_ip"
AXES_VERBOSE = False
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT") or "0")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "ui:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# npm packages (package.json) are served under static/npm/… — no CDN, works offline.
STATICFILES_DIRS = [BASE_DIR / "static", ("npm", BASE_DIR / "node_modules")]
# Finders let the app serve assets before (or without) collectstatic, e.g. in tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- request limits -------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("MAX_REQUEST_BODY_BYTES", str(1024 * 1024)))
# CSV imports (members, territories, named accounts) are checked whole before one write: bounded.
CSV_IMPORT_MAX_BYTES = int(os.environ.get("CSV_IMPORT_MAX_BYTES", str(DATA_UPLOAD_MAX_MEMORY_SIZE)))
CSV_IMPORT_MAX_ROWS = int(os.environ.get("CSV_IMPORT_MAX_ROWS", "5000"))

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "revorg.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["revorg.permissions.WorkspaceAccess"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "revorg.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "revorg.schema.AutoSchema",
    "EXCEPTION_HANDLER": "revorg.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["revorg.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": os.environ.get("API_KEY_THROTTLE_RATE", "6000/min")},
    # JSON in, JSON out: nesting is bounded, and no Accept header can pick another renderer.
    # Bodies are JSON only (CSV uploads name their multipart parser on their own view).
    "DEFAULT_PARSER_CLASSES": ["revorg.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "revorg.parsers.JsonOnlyNegotiation",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "revorg API",
    "DESCRIPTION": "Allocate leads, accounts, contacts and opportunities to the right owner.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "revorg.schema.error_responses",
    ],
    # One name for the CRM choice set that members, connections and records share.
    "ENUM_NAME_OVERRIDES": {
        "TransitionOpenDealsEnum": "transitions.models.OpenDealPolicy",
        "ReassignmentOpenDealsEnum": "reassignments.models.OpenDeals",
        "CrmProviderEnum": "crm_sync.models.CrmProvider",
        "AccountStatusEnum": "book.models.AccountStatus",
        "AllocationStatusEnum": "allocation.models.AllocationStatus",
        "JobStatusEnum": "jobs.models.JobStatus",
        "PlanStatusEnum": "territories.models.PlanStatus",
        "AllocationStateEnum": "allocation.selectors.AllocationState",
        "TypeEnum": "allocation.models.RecordType",  # a record's type (generated clients)
        "ReassignmentRequestStatusEnum": "reassignments.models.RequestStatus",
        "EventTypeEnum": "notifications.events.EVENT_TYPES",
        "DeliveryStatusEnum": "notifications.models.DeliveryStatus",
        "WorkspaceRoleEnum": "revorg.models.Role",
        "RoleEnum": "territories.models.SlotRole",  # the name clients have used for slots
    },
    # Served from our own static files: nothing outside the machine is reachable (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Content-Security-Policy (django-csp) ------------------------------------------------------
# No inline script anywhere: pages pass data through json_script and data attributes, and
# every script is a static file. Inline *style* stays allowed for the meters' computed widths
# (style cannot run code); images may be data: URIs (the API docs' icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- cache ----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# crm_sync: CRM calls on their own queue; the sweeper re-queues write-backs left pending.
CELERY_TASK_ROUTES = {"crm_sync.tasks.*": {"queue": "crm"}}
CELERY_BEAT_SCHEDULE = {
    "crm-writeback-sweep": {"task": "crm_sync.tasks.writeback_sweep", "schedule": 60.0},
    # Idempotency keys replay for 24 h; older rows only take space.
    "allocation-idempotency-purge": {
        "task": "allocation.tasks.idempotency_purge",
        "schedule": 3600.0,
    },
    "jobs-sweep": {"task": "jobs.tasks.job_sweep_task", "schedule": 60.0},
    # transitions: scheduled plan activations whose time came; overlaps that ended.
    "transitions-activations-due": {
        "task": "transitions.tasks.activations_due_task",
        "schedule": float(os.environ.get("TRANSITIONS_DUE_INTERVAL_SECONDS", "60")),
    },
    "transitions-overlays-expire": {
        "task": "transitions.tasks.overlays_expire_task",
        "schedule": float(os.environ.get("TRANSITIONS_OVERLAY_INTERVAL_SECONDS", "3600")),
    },
    # Approved reassignment requests run at their effective date.
    "reassignments-execute-due": {
        "task": "reassignments.tasks.execute_due_task",
        "schedule": 60.0,
    },
    # SLA clocks: start, remind, act on breach.
    "sla-sweep": {"task": "sla.tasks.sla_sweep_task", "schedule": 60.0},
    # notifications: webhook retries left without a queued drain, the digest, the report.
    "notifications-webhook-sweep": {
        "task": "notifications.tasks.webhook_sweep",
        "schedule": 60.0,
    },
    "notifications-digest": {
        "task": "notifications.tasks.digest_daily",
        "schedule": crontab(minute=0, hour=int(os.environ.get("DIGEST_HOUR_UTC", "7"))),
    },
    "notifications-exception-report": {
        "task": "notifications.tasks.exception_report_weekly",
        "schedule": crontab(minute=30, hour=7, day_of_week="mon"),
    },
}
# CRM endpoint URLs may name hosts that resolve to private/loopback addresses (local fakes,
# an on-premises proxy); off by default so a connection cannot reach the internal network.
# The same rule guards webhook receiver URLs: OUTBOUND_ALLOW_PRIVATE_HOSTS is the general
# name, CRM_ALLOW_PRIVATE_HOSTS (older) still works.
CRM_ALLOW_PRIVATE_HOSTS = env_bool(
    "OUTBOUND_ALLOW_PRIVATE_HOSTS", env_bool("CRM_ALLOW_PRIVATE_HOSTS", False)
)
# jobs: a chunk claimed (or queued) longer ago than this is re-queued by the sweeper; keep it
# above the task time limit so a live chunk is never taken twice.
JOBS_CHUNK_LEASE_SECONDS = int(os.environ.get("JOBS_CHUNK_LEASE_SECONDS", "600"))
# Demo mode (no broker): "thread" runs a job in a background thread after the request.
JOBS_EAGER_MODE = os.environ.get("JOBS_EAGER_MODE", "thread")
# book: accounts per re-evaluation chunk; the largest CSV upload accepted.
BOOK_CHUNK_SIZE = int(os.environ.get("BOOK_CHUNK_SIZE", "5000"))
# A replay (sequential) commits its state and its moves every N history rows.
REPLAY_CHECKPOINT_ROWS = int(os.environ.get("REPLAY_CHECKPOINT_ROWS", "5000"))
# …and hands over to a new task after this long (below the chunk task's 280 s soft limit).
REPLAY_TASK_SECONDS = float(os.environ.get("REPLAY_TASK_SECONDS", "200"))
# The map (geo/): a book of more accounts is read from the region summary a job keeps, made
# again when a job changed the book or after this many seconds.
GEO_LIVE_MAX_ACCOUNTS = int(os.environ.get("GEO_LIVE_MAX_ACCOUNTS", "50000"))
GEO_SNAPSHOT_MAX_AGE = int(os.environ.get("GEO_SNAPSHOT_MAX_AGE", "600"))
BOOK_IMPORT_MAX_BYTES = int(os.environ.get("BOOK_IMPORT_MAX_BYTES", str(1024 * 1024)))
CRM_BOOK_BACKOFF_SECONDS = float(os.environ.get("CRM_BOOK_BACKOFF_SECONDS", "0.5"))

# notifications: webhook retries (exponential from BASE, capped at MAX, for WINDOW seconds),
# each attempt's read timeout, a drain's batch and its concurrent requests.
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "30"))
WEBHOOK_RETRY_MAX_SECONDS = float(os.environ.get("WEBHOOK_RETRY_MAX_SECONDS", "14400"))
WEBHOOK_RETRY_WINDOW_SECONDS = float(os.environ.get("WEBHOOK_RETRY_WINDOW_SECONDS", "86400"))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_BATCH_SIZE = int(os.environ.get("WEBHOOK_BATCH_SIZE", "200"))
WEBHOOK_CONCURRENCY = int(os.environ.get("WEBHOOK_CONCURRENCY", "16"))
# Without a broker: "thread" delivers in a background thread, "inline" in the committing one.
WEBHOOK_EAGER_MODE = os.environ.get("WEBHOOK_EAGER_MODE", "thread")

# --- e-mail ---------------------------------------------------------------------------------
# SMTP from the environment; the console backend (messages printed) under DEBUG by default.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = int(os.environ.get("EMAIL_PORT") or "25")
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "revorg <noreply@localhost>"

# --- secrets at rest ------------------------------------------------------------------------
FIELD_ENCRYPTION_KEY = (
    os.environ.get("FIELD_ENCRYPTION_KEY")
    or base64.urlsafe_b64encode(
        hashlib.sha256(("revorg-field-encryption:" + SECRET_KEY).encode()).digest()
    ).decode()
)

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- transport security -------------------------------------------------------------------
# Secure by default whenever DEBUG is off (HTTPS only, secure cookies, HSTS); each switch can
# be set from the environment. `make run` (DEBUG=1, plain http) gets the development values.
SESSION_COOKIE_HTTPONLY = env_bool("SESSION_COOKIE_HTTPONLY", True)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_HTTPONLY = False  # htmx and the page scripts send the token they read
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers and the compose health check probe over plain http inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or ("0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a TLS-terminating proxy: "HTTP_X_FORWARDED_PROTO,https" (the header the proxy sets,
# and its value for https). Unset by default: trusting it without such a proxy lets any client
# claim https.
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", "")
SECURE_PROXY_SSL_HEADER = tuple(_proxy_ssl_header) if len(_proxy_ssl_header) == 2 else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

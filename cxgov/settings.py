"""cxgov settings, read from the environment only.

Defaults make a first local run work (SQLite, eager Celery, DEBUG on). With DEBUG off
the settings refuse to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

import json
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


# Governance settings read as a list or a JSON object: a wrong value must stop the start with
# a message naming the variable, not surface later as a traceback in a scan.
def env_increasing_days(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """The env var `name` as len(default) increasing positive whole numbers ("7,14,21")."""
    expected = (
        f"{name} must be {len(default)} increasing positive whole numbers of days, "
        f"e.g. {','.join(map(str, default))}; got {env.str(name, default='')!r}."
    )
    try:
        days = tuple(env.list(name, cast=int, default=list(default)))
    except ValueError:
        raise ImproperlyConfigured(expected) from None
    if len(days) != len(default) or days[0] <= 0 or any(a >= b for a, b in pairwise(days)):
        raise ImproperlyConfigured(expected)
    return days


def env_overrides(name: str, defaults: dict[str, int]) -> dict[str, int]:
    """`defaults` with the JSON object in env var `name` over them: known names, whole numbers 0 or more."""
    example = json.dumps(dict([next(iter(defaults.items()))]))
    expected = f"{name} must be a JSON object of whole numbers (0 or more) by name, e.g. {example}"
    try:
        overrides = env.json(name, default={})
    except ValueError:  # json.JSONDecodeError
        raise ImproperlyConfigured(f"{expected}; it is not JSON.") from None
    if not isinstance(overrides, dict):
        raise ImproperlyConfigured(f"{expected}; got {type(overrides).__name__}.")
    wrong = [key for key, value in overrides.items() if type(value) is not int or value < 0]
    if wrong:
        raise ImproperlyConfigured(f"{expected}; wrong value for {', '.join(wrong)}.")
    # A misspelt name would otherwise be ignored without a word.
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ImproperlyConfigured(f"{name}: unknown {', '.join(unknown)}; the names are {', '.join(defaults)}.")
    return defaults | overrides


DEBUG = env.bool("DEBUG", default=True)

_INSECURE_DEV_KEY = "insecure-local-development-key-never-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=_INSECURE_DEV_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])

if not DEBUG:
    if SECRET_KEY == _INSECURE_DEV_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("Set SECRET_KEY (at least 50 random characters) when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set ALLOWED_HOSTS when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "import_export",
    "programs",
    "metrics",
    "accountability",
    "notifications",
    "dashboard",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "cxgov.api.middleware.ChunkedBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: it turns an axes lockout raised by authentication into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cxgov.urls"
WSGI_APPLICATION = "cxgov.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: CONN_MAX_AGE=0 costs about 3x on list throughput.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60 if not DEBUG else 0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Signing in (SPEC §5): passwords with a lockout; OpenID Connect when configured ---
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# 5 failed passwords in a row for one account from one address lock that pair out for 15
# minutes, on /accounts/login/ and /admin/login/ alike. A success resets the count; tries
# during the lockout do not extend it, so the page can say when it lifts.
AXES_FAILURE_LIMIT = env.int("CXGOV_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CXGOV_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "programs.lockout.lockout_response"
# Behind N reverse proxies, the client's address is the Nth from the right of X-Forwarded-For.
CXGOV_TRUSTED_PROXIES = env.int("CXGOV_TRUSTED_PROXIES", default=0)
AXES_CLIENT_IP_CALLABLE = "programs.lockout.client_address"
# Unknown API keys: after this many from one address within the window (seconds), that
# address gets 429 for any key until the window ends.
CXGOV_UNKNOWN_KEY_LIMIT = env.int("CXGOV_UNKNOWN_KEY_LIMIT", default=10)
CXGOV_UNKNOWN_KEY_WINDOW = env.int("CXGOV_UNKNOWN_KEY_WINDOW", default=60)

# OpenID Connect (mozilla-django-oidc), on when OIDC_RP_CLIENT_ID is set. Users are matched
# by email; memberships come from the claim OIDC_ROLES_CLAIM, whose values read
# "<organization slug>:<role>" (or are mapped to that by OIDC_GROUP_MAP, a JSON object).
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid email profile groups")
OIDC_USE_PKCE = True
OIDC_PROVIDER_NAME = env("OIDC_PROVIDER_NAME", default="your organization's sign-in")
OIDC_ROLES_CLAIM = env("OIDC_ROLES_CLAIM", default="groups")
OIDC_GROUP_MAP = env.json("OIDC_GROUP_MAP", default={})
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/?oidc=refused"
if OIDC_ENABLED:
    missing = [
        name
        for name in (
            "OIDC_OP_AUTHORIZATION_ENDPOINT",
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
        )
        if not vars()[name]
    ]
    if missing:
        raise ImproperlyConfigured(f"OIDC_RP_CLIENT_ID is set: set {', '.join(missing)} too.")
    AUTHENTICATION_BACKENDS.append("programs.oidc.OrganizationOIDCBackend")

# --- Request limits: bodies over this answer 413 (a bulk of 10,000 items fits).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000

# --- Security (production) ---
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# --- Email: console by default, SMTP from the environment ---
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="cxgov <cxgov@localhost>")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# --- Celery: eager in-process without REDIS_URL; real broker, worker and beat with it ---
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
# acks_late alone still loses a task whose worker child is killed.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
# Time limits must stay below the visibility timeout, or a slow task is redelivered.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often a worker sweeps unacked messages of dead workers back into the queue
    # (kombu defaults: every 10 s, scanning on every 10th sweep).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
CELERY_RESULT_EXPIRES = 86400
CXGOV_SCAN_HOUR = env.int("CXGOV_SCAN_HOUR", default=5)
CXGOV_SCAN_MINUTE = env.int("CXGOV_SCAN_MINUTE", default=0)
# One scan per organization at a time: the Redis lock expires after TTL seconds unless its
# holder renews it (a dead worker's lock frees itself); a second scan waits up to WAIT seconds.
CXGOV_SCAN_LOCK_TTL = env.int("CXGOV_SCAN_LOCK_TTL", default=60)
CXGOV_SCAN_LOCK_WAIT = env.float("CXGOV_SCAN_LOCK_WAIT", default=30.0)
CXGOV_SCAN_SOFT_TIME_LIMIT = env.int("CXGOV_SCAN_SOFT_TIME_LIMIT", default=300)
CXGOV_SCAN_TIME_LIMIT = env.int("CXGOV_SCAN_TIME_LIMIT", default=330)
# Seconds slept between scan phases: a fault-injection hook for the worker-kill test; keep 0.
CXGOV_SCAN_PHASE_DELAY = env.float("CXGOV_SCAN_PHASE_DELAY", default=0.0)

# --- REST framework ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "programs.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "cxgov.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "cxgov.api.schema.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["cxgov.api.parsers.StrictJSONParser"],
    # Every answer under /api/ is JSON (SPEC §5); the interactive docs are /api/docs/.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "cxgov.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["cxgov.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("CXGOV_API_KEY_THROTTLE", default="6000/minute")},
    "DATE_INPUT_FORMATS": ["%Y-%m-%d"],
    "COERCE_DECIMAL_TO_STRING": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "cxgov API",
    "DESCRIPTION": "Governance tracker for customer-experience transformation programs.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations are grouped by resource (people, programs, measurements...), not all under "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1/",
    # One named enum per vocabulary (several models have a `status` or a `level`).
    "ENUM_NAME_OVERRIDES": {
        "ProgramStatusEnum": "programs.choices.ProgramStatus",
        "StageStatusEnum": "programs.choices.StageStatus",
        "InitiativeStatusEnum": "programs.choices.InitiativeStatus",
        "MetricStatusEnum": "metrics.choices.MetricStatus",
        "MetricLevelEnum": "metrics.choices.Level",
        "MetricKindEnum": "metrics.choices.Kind",
        "SessionStatusEnum": "accountability.choices.SessionStatus",
        "ActionStatusEnum": "accountability.choices.ActionStatus",
        "FlagStatusEnum": "accountability.choices.FlagStatus",
        "FlagKindEnum": "accountability.choices.FlagKind",
        "ScanStatusEnum": "accountability.choices.ScanStatus",
        "RiskLevelEnum": "accountability.choices.RiskLevel",
        "DeliveryStatusEnum": "notifications.choices.DeliveryStatus",
    },
}

# --- Governance rules: thresholds and risk weights (the spec's defaults) ---
CXGOV_RISK_WEIGHTS = env_overrides(
    "CXGOV_RISK_WEIGHTS",
    {
        "program_paused": 35,
        "horizon_shortened": 20,
        "short_horizon": 15,
        "early_phase_12": 10,
        "early_phase_24": 5,
        "sponsor_absent_50": 20,
        "sponsor_absent_75": 10,
        "forums_cancelled": 15,
        "champion_weak_not_officer": 15,
        "champion_weak_time": 10,
        "champion_turnover": 10,
        "budget_cut": 15,
        "metrics_negotiated_each": 5,
        "metrics_negotiated_max": 20,
        "work_stalled": 10,
        "commitment_declining": 10,
        "results_expected_early": 10,
        "commitment_breached": 25,
        "sponsor_delegating": 10,
    },
)

# Webhook targets in private, loopback and link-local ranges are refused unless allowed.
CXGOV_WEBHOOK_ALLOW_PRIVATE = env.bool("CXGOV_WEBHOOK_ALLOW_PRIVATE", default=False)
CXGOV_WEBHOOK_MAX_ATTEMPTS = env.int("CXGOV_WEBHOOK_MAX_ATTEMPTS", default=8)
CXGOV_WEBHOOK_DISABLE_AFTER_FAILURES = env.int("CXGOV_WEBHOOK_DISABLE_AFTER_FAILURES", default=3)
# Retry n waits min(base * 2**(n-1), max) seconds; each HTTP attempt times out after TIMEOUT seconds.
CXGOV_WEBHOOK_RETRY_BASE_SECONDS = env.int("CXGOV_WEBHOOK_RETRY_BASE_SECONDS", default=30)
CXGOV_WEBHOOK_RETRY_MAX_SECONDS = env.int("CXGOV_WEBHOOK_RETRY_MAX_SECONDS", default=3600)
CXGOV_WEBHOOK_TIMEOUT = env.float("CXGOV_WEBHOOK_TIMEOUT", default=5.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # axes announces itself at every start; its lockouts (warnings) still show.
        "axes": {"level": "WARNING"},
        # WeasyPrint logs each step of each board pack at INFO.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        # In-process (eager) tasks would log a line per task on the console.
        "celery.app.trace": {"level": "INFO" if REDIS_URL else "WARNING"},
    },
}

# A change's reason is the person's own words (a target loosened "in the forum", a pause
# explained): kept whole in history, not cut at simple-history's default 100 characters
# (PostgreSQL refused longer ones with a 500).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- Reports: calendar feeds and the board pack (issue 14) ---
# Calendar events of forum sessions last this long (sessions have a start, no end).
CALENDAR_SESSION_MINUTES = env.int("CXGOV_CALENDAR_SESSION_MINUTES", default=60)
# The portfolio board pack is emailed to each organization's board_recipients on this day of
# the month (1-28), once per month and recipient.
BOARD_PACK_DAY = env.int("CXGOV_BOARD_PACK_DAY", default=1)

# The API's lists also answer ?format=csv and ?format=xlsx, streamed (docs/spreadsheets.md).
CXGOV_API_SPREADSHEET_RENDERERS = [
    "reports.spreadsheets.renderers.CSVRenderer",
    "reports.spreadsheets.renderers.XLSXRenderer",
]

# Admin spreadsheet imports (docs/spreadsheets.md): uploads over this size are refused (413).
CXGOV_IMPORT_MAX_BYTES = env.int("CXGOV_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)

# The escalation ladder (SPEC §4): days open after which an unacknowledged high or critical
# flag climbs to the owner's manager, the sponsor, the board contact.
CXGOV_ESCALATION_DAYS = env_increasing_days("CXGOV_ESCALATION_DAYS", (7, 14, 21))

# Nudges before flags (SPEC §4): how many days ahead each rule warns the person who must act.
CXGOV_NUDGE_LEAD_DAYS = env_overrides(
    "CXGOV_NUDGE_LEAD_DAYS",
    {
        "metric_stale": 5,
        "initiative_stalled": 7,
        "action_due": 3,
        "forum_lapsed": 14,
        "attendance_missing": 2,
    },
)

"""Kehu settings, read from environment variables only.

Two modes, chosen by ``KEHU_ENV``:

* ``development`` (the default for ``manage.py``, ``make test`` and ``kehu serve --dev``):
  debug pages, a generated secret key kept in ``var/``, localhost only.
* ``production`` (the default for ``kehu serve``): every required setting must be given,
  and a wrong or missing one stops start-up with a message that names it.

See ``docs/operators.md`` for the full list.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", BASE_DIR / "var"))

KEHU_ENV = os.environ.get("KEHU_ENV", "development").strip().lower()
if KEHU_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"KEHU_ENV must be 'development' or 'production', not {KEHU_ENV!r}.")
PRODUCTION = KEHU_ENV == "production"


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _dev_secret_key() -> str:
    """A per-checkout secret for development, generated once and kept in var/."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = False if PRODUCTION else _env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if PRODUCTION:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY is required when KEHU_ENV=production.")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak: use at least 50 random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
elif not SECRET_KEY:
    SECRET_KEY = _dev_secret_key()

ALLOWED_HOSTS = _env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is required when KEHU_ENV=production (comma-separated host names)."
    )
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "kehu.core",
    "kehu.org",
    "kehu.customers",
    "kehu.leads",
    "kehu.activities",
    "kehu.grading",
    "kehu.occasions",
    "kehu.cadence",
    "kehu.messaging",
    "kehu.incentives",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kehu.core.middleware.RequestContextMiddleware",
    # Axes goes last: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kehu.urls"
WSGI_APPLICATION = "kehu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kehu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.core.context_processors.kehu",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a valid database URL ({exc}); "
            "use e.g. postgres://user:password@host:5432/kehu or sqlite:////path/kehu.sqlite3."
        ) from exc
    if _db.get("ENGINE") not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfigured(
            "DATABASE_URL must point at PostgreSQL (postgres://…) or SQLite (sqlite:///…)."
        )
    if _db.get("NAME") in {None, "", ":memory:"}:
        raise ImproperlyConfigured(
            "DATABASE_URL names no database: give one, e.g. postgres://user@host:5432/kehu "
            "or sqlite:////path/kehu.sqlite3."
        )
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "kehu.sqlite3")}

if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE transactions take the write lock
    # at BEGIN so two writers queue on busy_timeout instead of failing mid-transaction.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    # A file, not memory, so tests that start a real server see the same database.
    _db.setdefault("TEST", {})["NAME"] = os.environ.get(
        "KEHU_TEST_SQLITE", str(VAR_DIR / "test-kehu.sqlite3")
    )
else:
    # Prepared statements only where the code asks for one (the registration insert,
    # kehu.core.inserts): no ORM query ever reaches this threshold. Set
    # KEHU_PG_PREPARE=false behind a pooler that cannot keep prepared statements
    # (PgBouncer before 1.21 in transaction mode).
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = (
        2**31 - 1 if _env_bool("KEHU_PG_PREPARE", True) else None
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "org.Staff"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failed logins (django-axes, state kept in the database so it
# holds across processes and machines).
AXES_FAILURE_LIMIT = int(os.environ.get("KEHU_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KEHU_LOGIN_COOLOFF_MINUTES", "15")))
# By username, not by address: a whole sales floor often shares one public IP, and one
# careless person must not lock out the office. Hence axes.W006 is silenced below.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kehu" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except Exception as exc:
    raise ImproperlyConfigured(
        f"TIME_ZONE {TIME_ZONE!r} is not a known time zone (e.g. Asia/Shanghai)."
    ) from exc
USE_I18N = True
USE_TZ = True

# --- static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "kehu" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- request limits -------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- security (production) ------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = 60 * 60 * 12

# --- cache ----------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kehu.org.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "kehu.core.api.pagination.KehuPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kehu.core.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kehu.core.api.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ]
SPECTACULAR_SETTINGS = {
    "TITLE": "Kehu API",
    "DESCRIPTION": (
        "Kehu (客户) customer management. Authenticate with `Authorization: Token <key>` "
        "(create one on your profile page or with `kehu token USERNAME`) or a browser "
        "session. Every 4xx answers "
        '`{"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}}}` '
        "in the request's language (Accept-Language: zh-Hans or en)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from drf-spectacular-sidecar, served by us: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind" or a "stage": name each choice set after its owner.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "kehu.customers.choices.CustomerKind",
        "StageEnum": "kehu.customers.choices.Stage",
        "CompletenessStageEnum": "kehu.customers.choices.CompletenessStage",
        "RegistrationKindEnum": "kehu.leads.choices.RegistrationKind",
        "RegistrationInputKindEnum": "kehu.leads.api.serializers.API_KINDS",
        "ActivityKindEnum": "kehu.activities.choices.ActivityKind",
        "RelationKindEnum": "kehu.customers.choices.RelationKind",
        "MessageKindEnum": "kehu.messaging.choices.TemplateKind",
        "MessageStatusEnum": "kehu.messaging.choices.MessageStatus",
        "MessageChannelEnum": "kehu.messaging.choices.MessageChannel",
        "TriggerEventEnum": "kehu.messaging.choices.TriggerEvent",
        "BroadcastStatusEnum": "kehu.messaging.choices.BroadcastStatus",
        "LifecycleKindEnum": "kehu.occasions.choices.LifecycleKind",
    },
}

# --- background tasks -----------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "messages", "imports", "reports"],
    }
}
KEHU_WORKER_HEARTBEAT_SECONDS = int(os.environ.get("KEHU_WORKER_HEARTBEAT_SECONDS", "5"))
KEHU_WORKER_STALE_SECONDS = int(os.environ.get("KEHU_WORKER_STALE_SECONDS", "30"))

# --- logging --------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Kehu -----------------------------------------------------------------------------
# The benchmark's bare limit view (/bench/bare-register/) is mounted only when set.
KEHU_BENCH = _env_bool("KEHU_BENCH", False)
KEHU_DEMO_PASSWORD = os.environ.get("KEHU_DEMO_PASSWORD", "kehu-demo-2026")

# --- messaging (docs/messaging.md) -------------------------------------------------------
# Without KEHU_SMS_URL, SMS messages stay in the outbox as "held" (never dropped).
KEHU_SMS_URL = os.environ.get("KEHU_SMS_URL", "").strip()
KEHU_SMS_TOKEN = os.environ.get("KEHU_SMS_TOKEN", "")
KEHU_SMS_SENDER_ID = os.environ.get("KEHU_SMS_SENDER_ID", "")
KEHU_SMS_TIMEOUT = float(os.environ.get("KEHU_SMS_TIMEOUT", "10"))
KEHU_SMS_RETRIES = int(os.environ.get("KEHU_SMS_RETRIES", "2"))
KEHU_SMS_BACKOFF = float(os.environ.get("KEHU_SMS_BACKOFF", "0.5"))
# A message left "sending" this long (its worker died mid-send) is sent again, with the
# same idempotency key; keep it above the gateway timeout × (retries + 1).
KEHU_MESSAGING_SENDING_STALE_SECONDS = int(
    os.environ.get("KEHU_MESSAGING_SENDING_STALE_SECONDS", "120")
)
KEHU_MESSAGING_MAX_ATTEMPTS = int(os.environ.get("KEHU_MESSAGING_MAX_ATTEMPTS", "5"))
KEHU_MESSAGING_PROMO_DAILY_LIMIT = int(os.environ.get("KEHU_MESSAGING_PROMO_DAILY_LIMIT", "2"))

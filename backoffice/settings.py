"""Settings, driven by the environment (django-environ).

With no environment at all the project runs embedded: a SQLite file under var/,
Celery tasks executed in-process and e-mail written to files under var/mail/.
Set DATABASE_URL, REDIS_URL and EMAIL_URL to run on PostgreSQL, Redis workers and SMTP.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("RETAGUARDA_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# The embedded default generates nothing secret into the repo: without a key, one is made
# per machine and kept under var/ (never committed).
_secret = env.str("DJANGO_SECRET_KEY", default="")
if not _secret:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        from django.core.management.utils import get_random_secret_key

        _key_file.write_text(get_random_secret_key())
    _secret = _key_file.read_text().strip()
SECRET_KEY = _secret
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "unfold.contrib.simple_history",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "import_export",
    "django_celery_beat",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "backoffice",
    "inventory",
    "crm",
    "orders",
    "logistics",
    "finance",
]

MIDDLEWARE = [
    # Webhook paths leave here for the short WEBHOOK_MIDDLEWARE chain (below).
    "backoffice.middleware.WebhookChainMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Staff two-factor authentication: keeps an admin session without its code out.
    "backoffice.two_factor.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# The store's and the carriers' webhooks are signed machine-to-machine POSTs: no
# session, user, CSRF token, messages or admin login. Requests under these paths run
# through WEBHOOK_MIDDLEWARE only (backoffice/middleware.py; 4-6 % of an order's Python).
# Only middleware without view/exception/template-response hooks can go here.
WEBHOOK_PATH_PREFIXES = ["/api/webhooks/", "/api/logistics/tracking/"]
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
]

# Staff logins: django-axes locks a username+IP pair after repeated failures, so a
# leaked user list cannot be brute-forced through the admin login page. A manager
# unlocks early by deleting the attempt in the admin (Axes > Access attempts) or with
# `manage.py axes_reset_username <user>`. Behind a reverse proxy, set
# AXES_IPWARE_PROXY_COUNT so the client address comes from X-Forwarded-For.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no "AXES: BEGIN" banner on every manage.py call
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0) or None

# Staff two-factor authentication (backoffice/two_factor.py, django-otp): after the
# password, a staff user with an authenticator app types its 6-digit code or a backup code
# on a second page. With STAFF_2FA_REQUIRED every staff user must set one up before the
# admin opens; docker-compose.yml turns it on, the embedded demo (`make run`) leaves it off.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
# The device admin lets a superuser delete a lost phone's device, not read its secret.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

ROOT_URLCONF = "backoffice.urls"
WSGI_APPLICATION = "backoffice.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'retaguarda.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded demo serves several threads from one file: wait for the write lock.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", _("Portuguese (Brazil)")), ("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Redis, cache, Celery ---------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# Without a broker, tasks run in-process (the embedded demo); with one, on workers.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long a task taken but not acknowledged (acks_late) stays invisible before Redis
# hands it to another worker; keep it above the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Synced into django_celery_beat's tables by the DatabaseScheduler at beat start.
CELERY_BEAT_SCHEDULE = {
    "crm-notification-sweep": {"task": "crm.notification_sweep", "schedule": 60.0},
    "crm-rfm-compute": {"task": "crm.rfm_compute", "schedule": 6 * 3600.0},
    "logistics-delay-watch": {"task": "logistics.delay_watch", "schedule": 3600.0},
    "logistics-tracking-poll": {"task": "logistics.tracking_poll", "schedule": 2 * 3600.0},
    "logistics-webhook-sweep": {"task": "logistics.outbound_webhook_sweep", "schedule": 120.0},
    # The previous month's management report, generated and e-mailed to the managers.
    "finance-management-report": {
        "task": "finance.management_report_generate",
        "schedule": crontab(day_of_month="1", hour="6", minute="0"),
        "kwargs": {"email": True},
    },
    # The daily sales rollup the management report reads (finance.services.daily_rollup):
    # yesterday and any day a late change made stale, before the report's 06:00 run.
    "finance-daily-rollup": {
        "task": "finance.daily_rollup_nightly",
        "schedule": crontab(hour="2", minute="30"),
    },
}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- E-mail -------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Retaguarda <loja@example.com>")
STORE_NAME = env.str("STORE_NAME", default="Loja Demo")
# The account's name in the staff's authenticator apps.
OTP_TOTP_ISSUER = f"Retaguarda ({STORE_NAME})"
# Orders: a customer's first order above this total waits for review (risk hold).
ORDERS_RISK_FIRST_ORDER_TOTAL = env.str("ORDERS_RISK_FIRST_ORDER_TOTAL", default="3000.00")
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# Finance: NF-e emission provider (finance/fiscal.py); the local one is never authorized.
FISCAL_EMISSION_PROVIDER = env.str(
    "FISCAL_EMISSION_PROVIDER", default="finance.fiscal.LocalEmissionProvider"
)

# --- Store platforms (orders/clients.py) ----------------------------------------------------
# Nuvemshop webhooks are notices only; the order is fetched with this client (dotted path).
# orders.clients.RecordedNuvemshopClient serves recorded responses from
# NUVEMSHOP_RECORDINGS_DIR/orders/<id>.json (tests, demos).
NUVEMSHOP_CLIENT = env.str("NUVEMSHOP_CLIENT", default="orders.clients.HttpNuvemshopClient")
NUVEMSHOP_API_BASE_URL = env.str("NUVEMSHOP_API_BASE_URL", default="https://api.tiendanube.com/v1")
NUVEMSHOP_USER_AGENT = env.str("NUVEMSHOP_USER_AGENT", default="")
NUVEMSHOP_RECORDINGS_DIR = env.str("NUVEMSHOP_RECORDINGS_DIR", default="")
STORE_LOGO_URL = env.str("STORE_LOGO_URL", default="")
STORE_URL = env.str("STORE_URL", default="")  # the shop front, for "buy again" links
STORE_REVIEW_URL = env.str("STORE_REVIEW_URL", default="")  # where promoters write a review

# --- After-sales (crm) --------------------------------------------------------------------
NOTIFICATION_SWEEP_AFTER_MINUTES = env.int("NOTIFICATION_SWEEP_AFTER_MINUTES", default=5)
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
# In a burst, new e-mails after the first of each window (per process) are sent by one
# sweep at the window's end instead of one Celery publish each; 0 = one publish each.
NOTIFICATION_ENQUEUE_WINDOW_SECONDS = env.float("NOTIFICATION_ENQUEUE_WINDOW_SECONDS", default=1.0)
# The sweep hands rows to the workers in tasks of NOTIFICATION_SEND_TASK_ROWS (one Celery
# message each); a task claims, sends and marks them in chunks of
# NOTIFICATION_SEND_BATCH_SIZE, each chunk one commit: the most a crashed worker can
# send twice (docs/after-sales.md).
NOTIFICATION_SEND_TASK_ROWS = env.int("NOTIFICATION_SEND_TASK_ROWS", default=100)
NOTIFICATION_SEND_BATCH_SIZE = env.int("NOTIFICATION_SEND_BATCH_SIZE", default=20)
SURVEY_DELAY_DAYS = env.int("SURVEY_DELAY_DAYS", default=7)
SURVEY_TOKEN_MAX_AGE_DAYS = env.int("SURVEY_TOKEN_MAX_AGE_DAYS", default=30)
REPURCHASE_LEAD_DAYS = env.int("REPURCHASE_LEAD_DAYS", default=5)
# False: marketing e-mail goes unless the customer unsubscribed; True: only to opted-in.
MARKETING_REQUIRES_OPT_IN = env.bool("MARKETING_REQUIRES_OPT_IN", default=False)
TICKET_SLA_HOURS = {"low": 72, "normal": 24, "high": 8, "urgent": 2}

# --- Logistics -----------------------------------------------------------------------------
# A shipment in transit with no carrier scan for this many days raises a delay alert.
TRACKING_STALE_DAYS = env.int("TRACKING_STALE_DAYS", default=5)
OUTBOUND_WEBHOOK_MAX_ATTEMPTS = env.int("OUTBOUND_WEBHOOK_MAX_ATTEMPTS", default=8)
OUTBOUND_WEBHOOK_TIMEOUT = env.int("OUTBOUND_WEBHOOK_TIMEOUT", default=10)
# First retry after about this many seconds, doubling (with jitter) up to an hour.
OUTBOUND_WEBHOOK_RETRY_BACKOFF = env.int("OUTBOUND_WEBHOOK_RETRY_BACKOFF", default=30)

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        # DRF's session authentication, minus staff sessions that owe a 2FA code
        "backoffice.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.DjangoModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "backoffice.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Retaguarda API",
    "DESCRIPTION": "Orders, products and stock of the Retaguarda back office.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Admin theme --------------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "Retaguarda",
    "SITE_HEADER": "Retaguarda",
    "SITE_SYMBOL": "storefront",
    "SHOW_LANGUAGES": True,
    "DASHBOARD_CALLBACK": "backoffice.dashboard.dashboard_callback",
    # The user menu: the password and the two-factor authentication pages.
    "ACCOUNT": {
        "navigation": [
            {"title": _("Change password"), "link": reverse_lazy("admin:password_change")},
            {"title": _("Two-factor authentication"), "link": reverse_lazy("staff_2fa:setup")},
        ]
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"

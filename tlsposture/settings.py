"""Settings, read from the environment (see the table in README.md).

Defaults give an embedded single-machine install (SQLite under TLSPOSTURE_DATA_DIR);
DATABASE_URL and CELERY_BROKER_URL scale it out.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from tlsposture.env import (
    env_bool,
    env_duration,
    env_float,
    env_int,
    env_json_object,
    env_list,
    env_str,
)
from tlsposture.schedule import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("TLSPOSTURE_DATA_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment, or set DEBUG=1 for local use."
        )
    # Only for DEBUG: a per-process key, so nothing signed survives a restart.
    from django.core.management.utils import get_random_secret_key

    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "common",
    "inventory",
    "checker",
    "posture",
    "notifications",
    "dashboard",
    # /metrics and the read-only JSON API: the top layer, beside the dashboard.
    "api",
    # The project package: run_scheduler and the schedule span every app above.
    "tlsposture",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout into the "locked out" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tlsposture.urls"
WSGI_APPLICATION = "tlsposture.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'tlsposture.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writer threads of the checker and the web process share one file: wait, do not fail.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 30)
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # Every transaction takes the write lock when it begins, waiting up to `timeout` for it.
    # A deferred one reads first and then asks for the lock: when another process wrote in
    # between, SQLite cannot wait (its snapshot is stale) and answers "database is locked" at
    # once — an evaluation lost mid-way (issue 13).
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username or client address before a password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with OpenID Connect: on when OIDC_ISSUER is set (README "Access",
# tlsposture/oidc.py; tlsposture/checks.py refuses an incomplete or unsafe setup).
OIDC_ISSUER = env_str("OIDC_ISSUER").strip().rstrip("/")
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID").strip()
# The NAME of the variable that holds the client secret: a TLSPOSTURE_CRED_… name.
OIDC_CLIENT_SECRET_ENV = env_str("OIDC_CLIENT_SECRET_ENV").strip()
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile").strip()
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM").strip()
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username").strip()
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256").strip()
# The provider's TLS is verified against the system store, or this PEM bundle.
OIDC_VERIFY_SSL = env_str("OIDC_CA_BUNDLE").strip() or True
OIDC_TIMEOUT = 10
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_AUTHENTICATE_CLASS = "tlsposture.oidc.SignInView"
OIDC_CALLBACK_CLASS = "tlsposture.oidc.CallbackView"
LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"
# Local (username and password) logins; off leaves single sign-on as the only way in.
PASSWORD_LOGIN = env_bool("TLSPOSTURE_PASSWORD_LOGIN", True)
if OIDC_ISSUER:
    AUTHENTICATION_BACKENDS.append("tlsposture.oidc.TeamsFromClaims")
if not PASSWORD_LOGIN:
    AUTHENTICATION_BACKENDS.remove("django.contrib.auth.backends.ModelBackend")

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# DEBUG serves from the source tree; production serves what collectstatic gathered.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Security: production defaults are strict; a TLS-terminating proxy is declared explicitly.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS")
# Addresses of proxies in front of the web service whose X-Forwarded-For is believed when
# telling client addresses apart (login throttling); IPs or networks, comma-separated.
TRUSTED_PROXIES = env_list("TLSPOSTURE_TRUSTED_PROXIES")

# Login throttling (django-axes): failures are counted per username and, separately, per
# client address; at the limit that username or address is locked out for the cool-off
# time. Staff lift a lockout in the admin (Axes › Access attempts: delete the rows).
AXES_FAILURE_LIMIT = env_int("TLSPOSTURE_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(seconds=env_duration("TLSPOSTURE_LOGIN_LOCKOUT", "15m"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "tlsposture.client_address.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Content-Security-Policy (django-csp): only this site's own scripts and styles, no inline
# script, style or handler; HTMX's inline indicator style is switched off in base.html.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Cache: per process by default. Several web processes need a shared one (e.g.
# redis://127.0.0.1:6379/1) so that "check now" pressed twice starts one check.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("CACHE_URL must be a redis:// or rediss:// URL")
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }

# E-mail
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "tlsposture@localhost")
# Absolute base for links in e-mails and reports, e.g. https://tlsposture.example.com
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# Celery: optional. Without a broker, commands and run_scheduler do the same work in-process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
# Outcomes live in SyncRun/CheckRun rows; a result backend would only duplicate them.
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Prefetch per queue, so a zone's "check now" never waits behind a round (the module says why).
CELERY_WORKER_CONSUMER = "tlsposture.worker_prefetch:Consumer"
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = "tlsposture"
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
# Redis hands a message nobody acknowledged to another worker after visibility_timeout:
# it must outlast the hard time limit, or a slow but healthy task would run twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 10 * 60,
    **env_json_object("CELERY_BROKER_TRANSPORT_OPTIONS"),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A lost broker connection gives acks_late messages back anyway: stop their tasks rather
# than finish them a second time next to the redelivered copy.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# Workers log through LOGGING below (botocore held at WARNING), not Celery's own setup.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = "UTC"
# What runs how often: one table (tlsposture/schedule.py) for beat and run_scheduler.
CELERY_BEAT_SCHEDULE = beat_schedule()

# Checker defaults (see docs/design.md "Checker rules").
TLSPOSTURE = {
    "CONNECT_TIMEOUT": env_float("TLSPOSTURE_CONNECT_TIMEOUT", 5.0),
    "READ_TIMEOUT": env_float("TLSPOSTURE_READ_TIMEOUT", 10.0),
    "TARGET_DEADLINE": env_float("TLSPOSTURE_TARGET_DEADLINE", 60.0),
    "MAX_HANDSHAKES": env_int("TLSPOSTURE_MAX_HANDSHAKES", 12),
    # The most checks at once per process; below it the limit adapts (checker/concurrency.py).
    "WORKERS": env_int("TLSPOSTURE_WORKERS", 256),
    "PER_HOST_LIMIT": env_int("TLSPOSTURE_PER_HOST_LIMIT", 2),
    "CA_BUNDLE": env_str("TLSPOSTURE_CA_BUNDLE"),
    # Per-provider defaults, between the account's bundle and CA_BUNDLE in precedence.
    "CA_BUNDLE_AWS": env_str("TLSPOSTURE_CA_BUNDLE_AWS"),
    "CA_BUNDLE_ALIYUN": env_str("TLSPOSTURE_CA_BUNDLE_ALIYUN"),
    # RDS Proxy endpoints present ACM certificates (Amazon Trust Services roots), not RDS
    # CA ones: their own bundle. Empty: Amazon Root CA 1–4 from the system store or certifi.
    "CA_BUNDLE_AWS_PROXY": env_str("TLSPOSTURE_CA_BUNDLE_AWS_PROXY"),
    # Fernet keys (comma-separated, newest first) for stored checker passwords; rotatable.
    "SECRET_KEYS": env_list("TLSPOSTURE_SECRET_KEYS"),
    # Credential variables beyond TLSPOSTURE_CRED_*: names or globs (common/credential_names.py).
    "CRED_ALLOW": env_list("TLSPOSTURE_CRED_ALLOW"),
    "STALE_AFTER_HOURS": env_int("TLSPOSTURE_STALE_AFTER_HOURS", 26),
    # The cloud tag whose value is an endpoint's environment (prod, staging …): the
    # worklist, the filters and the exports show and filter by it. Empty: none.
    "ENVIRONMENT_TAG": env_str("TLSPOSTURE_ENVIRONMENT_TAG", "env"),
    # How long client connections seen by checks count as evidence (checker/client_evidence.py):
    # long enough that a batch job connecting once a night is caught by a nightly check.
    "CLIENT_WINDOW_DAYS": env_int("TLSPOSTURE_CLIENT_WINDOW_DAYS", 30),
    "EXPIRY_THRESHOLDS_DAYS": [int(d) for d in env_list("TLSPOSTURE_EXPIRY_THRESHOLDS", "90,30,7")],
    # Where non-staff users may send digests besides their own address
    # (notifications/recipients.py).
    "DIGEST_ALLOWED_DOMAINS": env_list("TLSPOSTURE_DIGEST_ALLOWED_DOMAINS"),
    # Chat and webhook targets of digests that non-staff users may choose: URL prefixes
    # (notifications/channels.py). Empty: only staff add such targets.
    "DIGEST_ALLOWED_WEBHOOKS": env_list("TLSPOSTURE_DIGEST_ALLOWED_WEBHOOKS"),
    # Seconds a chat or webhook target has to answer a digest (connect, then read).
    "WEBHOOK_TIMEOUT": env_float("TLSPOSTURE_WEBHOOK_TIMEOUT", 10.0),
    # Bearer token Prometheus scrapes /metrics with; empty: /metrics answers 404.
    "METRICS_TOKEN": env_str("TLSPOSTURE_METRICS_TOKEN"),
    # Cloud API clients of both providers (inventory sync): attempts per call including
    # retries, and socket timeouts.
    "CLOUD_API_ATTEMPTS": env_int("TLSPOSTURE_CLOUD_API_ATTEMPTS", 5),
    "CLOUD_API_CONNECT_TIMEOUT": env_float("TLSPOSTURE_CLOUD_API_CONNECT_TIMEOUT", 5.0),
    "CLOUD_API_READ_TIMEOUT": env_float("TLSPOSTURE_CLOUD_API_READ_TIMEOUT", 30.0),
    # Alibaba has no batch calls: threads per region for the three per-instance calls.
    "ALIYUN_INSTANCE_WORKERS": env_int("TLSPOSTURE_ALIYUN_INSTANCE_WORKERS", 4),
    # Queued checks: endpoints per task (one zone each). A task ends with its slowest check,
    # so a batch must be large enough to keep a worker's concurrency busy at real RTTs,
    # and small enough that even all of it hung (200 / 16 at once × 60 s = 13 min) stays
    # under the soft time limit; a redelivered batch redoes only what has no observation.
    "CHECK_BATCH_SIZE": env_int("TLSPOSTURE_CHECK_BATCH_SIZE", 200),
    # A sync or check run still `running` after this was left by a dead process: the
    # janitor closes it as failed. Longer than any task may run (the hard time limit).
    "RUN_ABANDONED_AFTER": env_duration(
        "TLSPOSTURE_RUN_ABANDONED_AFTER", f"{2 * CELERY_TASK_TIME_LIMIT}s"
    ),
}

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "discard": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # botocore logs request bodies at DEBUG; never let credentials reach a log line.
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # Its start-up banner in every command's output; failures and lockouts still log.
        "axes.apps": {"level": "WARNING"},
        # Apprise puts webhook URLs, which hold their secret, into its log lines and errors:
        # nothing of it reaches a log; notifications/channels.py records a redacted reason.
        "apprise": {"handlers": ["discard"], "propagate": False, "level": "WARNING"},
    },
}

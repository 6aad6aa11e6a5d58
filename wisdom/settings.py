"""wisdom settings: every value is read here, once, from the environment (see .env.example)."""

from datetime import timedelta
from pathlib import Path

from wisdom.env import MAKE_A_SECRET, SettingError, StrictEnv
from wisdom.logging_config import logging_config
from wisdom.openapi_description import OPENAPI_SETTINGS

BASE_DIR = Path(__file__).resolve().parent.parent

env = StrictEnv()
# The process environment wins over the file. WISDOM_ENV_FILE names another file than ./.env (tests use it).
ENV_FILE = Path(env.str("WISDOM_ENV_FILE", default="") or BASE_DIR / ".env")
if env.str("WISDOM_ENV_FILE", default="") and not ENV_FILE.exists():
    raise SettingError(f"Setting WISDOM_ENV_FILE names {ENV_FILE}, which does not exist")
if ENV_FILE.is_file():
    env.read_env(ENV_FILE)

# --- Core ---------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Secrets: unset or empty falls back to the default (none in production); a comment, a placeholder
# or whitespace stops start-up (see wisdom.env.secret_problem).
SECRET_KEY = env.secret(
    "DJANGO_SECRET_KEY",
    what=f"32+ random characters, e.g. from {MAKE_A_SECRET}",
    default="dev-only-insecure-secret-key-change-me-0123456789" if DEBUG else None,
)
if len(SECRET_KEY) < 32:
    raise SettingError(f"Setting DJANGO_SECRET_KEY must be at least 32 characters long, e.g. from {MAKE_A_SECRET}")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
BASE_URL = env.str("BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
FRONTEND_BASE_URL = env.str("FRONTEND_BASE_URL", default="").rstrip("/")

INSTALLED_APPS = [
    "accounts.admin_apps.AdminConfig",  # django.contrib.admin with failed-login limits on its login form
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "rest_framework_api_key",  # before accounts, whose admin replaces its key admin with the per-user one
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "post_office",
    "accounts",
    "personal",
    "invites",
    "mail",
]

MIDDLEWARE = [
    "wisdom.middleware.RequestContextMiddleware",
    "wisdom.health.HealthCheckMiddleware",
    "wisdom.middleware.BodySizeLimitMiddleware",
    "wisdom.middleware.TrailingSlashMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wisdom.urls"
WSGI_APPLICATION = "wisdom.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
APPEND_SLASH = False  # routes accept an optional trailing slash themselves; no redirects

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wisdom.context_processors.product",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Database and cache -------------------------------------------------------------------
# Production shares one database and one cache between its processes; the embedded stores (a SQLite
# file, a per-process cache that lets each worker count throttles apart) need an explicit opt-in there.
EMBEDDED_STORES = env.bool("WISDOM_EMBEDDED_STORES", default=False)
if not DEBUG and not EMBEDDED_STORES:
    for _name, _what in (("DATABASE_URL", "a postgres:// URL"), ("CACHE_URL", "a redis:// URL")):
        if not env.str(_name, default="").strip():
            raise SettingError(
                f"Setting {_name} is required when DJANGO_DEBUG is off: set {_what}, or set "
                "WISDOM_EMBEDDED_STORES=true to run on the SQLite file and a per-process cache"
            )

# SQLite: a file with WAL, writers queued; PostgreSQL: a per-process pool (DATABASE_POOL_MAX_SIZE and the rest in
# wisdom/env.py, StrictEnv.database).
DATABASES = {
    "default": env.database(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        sqlite_test_file=env.str("DJANGO_TEST_SQLITE_FILE", default=str(BASE_DIR / ".test-db.sqlite3")),
    )
}

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://wisdom")}
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="wisdom")
# The longest a Redis connect or reply may take: a down or hung Redis then costs one request this much,
# and throttles fail open (wisdom/cache.py). Without it redis-py waits forever.
CACHE_SOCKET_TIMEOUT_SECONDS = env.positive_number("CACHE_SOCKET_TIMEOUT_SECONDS", default=0.5)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "wisdom.redis_cache.RedisCache"  # one client per pool, an increment in one command
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": CACHE_SOCKET_TIMEOUT_SECONDS, "socket_timeout": CACHE_SOCKET_TIMEOUT_SECONDS}
    )

# --- Authentication and passwords ---------------------------------------------------------
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
# auth.W004 asks for unique=True on the email; it is unique in any spelling via User.email_key instead.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
PASSWORD_HASHERS = [
    "accounts.hashers.ThreadedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Argon2 runs on this many OS threads per worker process (accounts/hashers.py): ~100 MiB and ~0.1 s of a core each.
PASSWORD_HASHING_THREADS = int(env.positive_number("PASSWORD_HASHING_THREADS", default=2))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Service-to-service keys accepted in X-Service-Key; comma-separated so a key can be rotated.
AGENTS_SERVICE_API_KEYS = env.secret_list(
    "AGENTS_SERVICE_API_KEY", what=f"comma-separated random keys, e.g. from {MAKE_A_SECRET}"
)

JWT_ACCESS_TOKEN_MINUTES = env.positive_int("JWT_ACCESS_TOKEN_MINUTES", default=30)
JWT_REFRESH_TOKEN_DAYS = env.positive_int("JWT_REFRESH_TOKEN_DAYS", default=7)

SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.secret("JWT_SIGNING_KEY", what=f"a random key, e.g. from {MAKE_A_SECRET}", default=SECRET_KEY),
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=JWT_REFRESH_TOKEN_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "CHECK_USER_IS_ACTIVE": True,
}

# Failed logins (the API's and the admin's, counted together in the cache) allowed in each window: per
# client address and email, so nobody can lock an account's owner out from elsewhere; and per client address.
LOGIN_FAILURE_LIMIT = env.positive_int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_LIMIT_PER_ADDRESS = env.positive_int("LOGIN_FAILURE_LIMIT_PER_ADDRESS", default=50)
LOGIN_FAILURE_WINDOW_SECONDS = env.positive_int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)

# Password reset links (Django's PasswordResetTokenGenerator): valid this many seconds, once, and only until
# the password changes. Reset emails per address (any address, with or without an account) in a window; more
# are answered the same 202 but not sent.
PASSWORD_RESET_TIMEOUT = env.positive_int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
PASSWORD_RESET_EMAIL_LIMIT = env.positive_int("PASSWORD_RESET_EMAIL_LIMIT", default=3)
PASSWORD_RESET_EMAIL_WINDOW_SECONDS = env.positive_int("PASSWORD_RESET_EMAIL_WINDOW_SECONDS", default=60 * 60)
# Asks waiting for the worker (it turns them into emails): past this many (the worker is down), asks are ignored.
PASSWORD_RESET_ASKS_MAX = env.positive_int("PASSWORD_RESET_ASKS_MAX", default=10_000)

# --- Email --------------------------------------------------------------------------------
# Requests only queue email, in the database and in the transaction of the change that causes it
# (django-post-office's outbox); `python manage.py mail_worker` sends it. EMAIL_URL is django-environ's:
# smtp://user:password@host:587, smtp+tls://..., smtp+ssl://..., consolemail://. Only the worker needs it.
PRODUCT_NAME = env.str("PRODUCT_NAME", default="Intuno Personal")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{PRODUCT_NAME} <noreply@localhost>")
_email_url = env.str("EMAIL_URL", default="consolemail://" if DEBUG else "").strip()
EMAIL_CONFIGURED = bool(_email_url)  # the URL itself holds a password: it is no setting of its own
_email = env.email_settings(_email_url)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
if _email_url and EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    EMAIL_BACKEND = "mail.backends.AbortableSmtpBackend"  # Django's, abortable: each send has a deadline
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
# The longest any SMTP connect or reply may take; past it the attempt fails and is retried.
EMAIL_TIMEOUT = env.positive_number("EMAIL_TIMEOUT_SECONDS", default=10)
# The longest one email's whole send may take (connect, greeting, TLS, login, the message), however a slow server
# spreads it out; the worker's claim on an email lasts this plus a margin, so no other worker takes it meanwhile.
MAIL_SEND_DEADLINE_SECONDS = env.positive_number("MAIL_SEND_DEADLINE_SECONDS", default=60)
# Retries: the first after MAIL_RETRY_FIRST_SECONDS, each gap twice the last, at most MAIL_RETRY_MAX_SECONDS;
# an email not sent MAIL_GIVE_UP_SECONDS after it was queued is marked failed (visible in the admin).
MAIL_RETRY_FIRST_SECONDS = env.positive_number("MAIL_RETRY_FIRST_SECONDS", default=15)
MAIL_RETRY_MAX_SECONDS = env.positive_number("MAIL_RETRY_MAX_SECONDS", default=10 * 60)
MAIL_GIVE_UP_SECONDS = env.positive_number("MAIL_GIVE_UP_SECONDS", default=24 * 60 * 60)
MAIL_WORKER_POLL_SECONDS = env.positive_number("MAIL_WORKER_POLL_SECONDS", default=2)
# An invite's email is sent again at most once in this many seconds.
INVITE_RESEND_INTERVAL_SECONDS = env.int("INVITE_RESEND_INTERVAL_SECONDS", default=60)
POST_OFFICE = {"LOG_LEVEL": 2, "MAX_RETRIES": 0}  # retries are mail_worker's (mail/services.py)

# --- REST framework and OpenAPI -----------------------------------------------------------
# Every login attempt per client address, failed or not: each costs a deliberately slow password hash.
THROTTLE_RATE_LOGIN = env.str("THROTTLE_RATE_LOGIN", default="10/min")
THROTTLE_RATE_INVITES = env.str("THROTTLE_RATE_INVITES", default="30/min")
# Password reset requests and confirmations together, per client address.
THROTTLE_RATE_PASSWORD_RESET = env.str("THROTTLE_RATE_PASSWORD_RESET", default="10/hour")

REST_FRAMEWORK = {
    # The first whose credential is present decides alone: X-Service-Key; else Authorization: Bearer; else
    # X-API-Key (a person's key, read only without a bearer token).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ServiceKeyAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.VersionedJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.IsPerson"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["wisdom.parsers.StrictJSONParser"],
    # Escaped output: whatever an upstream answer holds (even a lone surrogate) renders, never a 500.
    "UNICODE_JSON": False,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wisdom.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": THROTTLE_RATE_LOGIN,
        "invites_ip": THROTTLE_RATE_INVITES,
        "password_reset_ip": THROTTLE_RATE_PASSWORD_RESET,
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# drf-spectacular's settings are fixed: beside the description they carry.
SPECTACULAR_SETTINGS = OPENAPI_SETTINGS

# --- Agents service (upstream) ------------------------------------------------------------
INTUNO_AGENTS_BASE_URL = env.str("INTUNO_AGENTS_BASE_URL", default="http://127.0.0.1:8001").rstrip("/")
# No default in production: without it every proxied call would be the agents service's 401.
INTUNO_AGENTS_API_KEY = env.secret(
    "INTUNO_AGENTS_API_KEY",
    what="the X-API-Key the agents service expects",
    default="dev-agents-key" if DEBUG else None,
)
INTUNO_AGENTS_TIMEOUT_SECONDS = env.positive_number("INTUNO_AGENTS_TIMEOUT_SECONDS", default=30)
INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS = env.positive_number("INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS", default=60)
INTUNO_AGENTS_CONNECT_TIMEOUT_SECONDS = env.positive_number("INTUNO_AGENTS_CONNECT_TIMEOUT_SECONDS", default=3.05)
INTUNO_AGENTS_POOL_SIZE = env.int("INTUNO_AGENTS_POOL_SIZE", default=64)
# What is read of one answer (uncompressed: only identity encoding is accepted); more is a 502.
INTUNO_AGENTS_MAX_RESPONSE_BYTES = env.int("INTUNO_AGENTS_MAX_RESPONSE_BYTES", default=4 * 1024 * 1024)
# A chat streamed (Accept: text/event-stream): a keep-alive comment to the client after this much upstream
# silence, and the stream's whole life at most. Between two upstream events: INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS.
# One upstream event is at most INTUNO_AGENTS_MAX_RESPONSE_BYTES (a done event carries the whole reply).
PERSONAL_STREAM_KEEPALIVE_SECONDS = env.positive_number("PERSONAL_STREAM_KEEPALIVE_SECONDS", default=15)
PERSONAL_STREAM_MAX_SECONDS = env.positive_number("PERSONAL_STREAM_MAX_SECONDS", default=300)
# Open streams one worker process relays at most; past it a stream is refused at once (503 with Retry-After),
# never queued. Sized for the gevent worker: 2 workers admit 6,000 per replica, >= 3,000 however they spread.
PERSONAL_STREAM_CAPACITY = env.int("PERSONAL_STREAM_CAPACITY", default=3000)
if PERSONAL_STREAM_CAPACITY < 1:
    raise SettingError("Setting PERSONAL_STREAM_CAPACITY must be at least 1")
# A stream's place in its user's count (the shared cache) is a lease this long, renewed while the stream relays
# (every third of it, at the latest with a keep-alive): a worker killed mid-stream frees its places after it.
PERSONAL_STREAM_LEASE_SECONDS = env.positive_number("PERSONAL_STREAM_LEASE_SECONDS", default=60)
if PERSONAL_STREAM_LEASE_SECONDS < 2 * PERSONAL_STREAM_KEEPALIVE_SECONDS:
    raise SettingError("Setting PERSONAL_STREAM_LEASE_SECONDS must be at least twice PERSONAL_STREAM_KEEPALIVE_SECONDS")

# --- Plans --------------------------------------------------------------------------------
# None means no cap: set the variable to an empty value.
PERSONAL_FREE_TIER_ENTITY_CAP = env.optional_positive_int("PERSONAL_FREE_TIER_ENTITY_CAP", default=1)
PERSONAL_PRO_TIER_ENTITY_CAP = env.optional_positive_int("PERSONAL_PRO_TIER_ENTITY_CAP", default=3)
PERSONAL_ENTERPRISE_TIER_ENTITY_CAP = env.optional_positive_int("PERSONAL_ENTERPRISE_TIER_ENTITY_CAP", default=None)
# Messages per user, per rolling minute and per rolling day, counted in the shared cache (streamed or not).
PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE = env.optional_positive_int("PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE", default=10)
PERSONAL_FREE_TIER_MESSAGES_PER_DAY = env.optional_positive_int("PERSONAL_FREE_TIER_MESSAGES_PER_DAY", default=200)
PERSONAL_PRO_TIER_MESSAGES_PER_MINUTE = env.optional_positive_int("PERSONAL_PRO_TIER_MESSAGES_PER_MINUTE", default=30)
PERSONAL_PRO_TIER_MESSAGES_PER_DAY = env.optional_positive_int("PERSONAL_PRO_TIER_MESSAGES_PER_DAY", default=2000)
PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_MINUTE = env.optional_positive_int(
    "PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_MINUTE", default=None
)
PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_DAY = env.optional_positive_int(
    "PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_DAY", default=None
)
# Streamed chats open at once per user, across every process and replica (counted in the shared cache).
PERSONAL_FREE_TIER_CONCURRENT_STREAMS = env.optional_positive_int("PERSONAL_FREE_TIER_CONCURRENT_STREAMS", default=2)
PERSONAL_PRO_TIER_CONCURRENT_STREAMS = env.optional_positive_int("PERSONAL_PRO_TIER_CONCURRENT_STREAMS", default=5)
PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS = env.optional_positive_int(
    "PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS", default=None
)
for _var, _limit in (
    ("PERSONAL_FREE_TIER_CONCURRENT_STREAMS", PERSONAL_FREE_TIER_CONCURRENT_STREAMS),
    ("PERSONAL_PRO_TIER_CONCURRENT_STREAMS", PERSONAL_PRO_TIER_CONCURRENT_STREAMS),
    ("PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS", PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS),
):
    if (_limit or 0) > 1000:  # on a cache other than Redis each place is a key of its own (personal/stream_places.py)
        raise SettingError(f"Setting {_var} must be at most 1000 (empty: no limit)")

# --- HTTP: limits, CORS, security ---------------------------------------------------------
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES

# Under DJANGO_DEBUG (`make run`) the usual local frontend dev servers (Vite, Next.js and the like) may call in;
# without it only the origins set here may. Setting the variable replaces the development list.
DEV_FRONTEND_ORIGINS = [f"http://{host}:{port}" for port in (5173, 4173, 3000) for host in ("localhost", "127.0.0.1")]
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=DEV_FRONTEND_ORIGINS if DEBUG else [])
CORS_ALLOW_HEADERS = ("authorization", "content-type", "x-request-id", "idempotency-key")
CORS_EXPOSE_HEADERS = ("x-request-id", "retry-after", "ratelimit", "ratelimit-policy", "idempotency-replayed")

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)  # false only for plain-http test servers
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Logging ------------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise SettingError("Setting LOG_FORMAT must be 'text' or 'json'")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()

LOGGING_CONFIG = "wisdom.logging.configure"
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

# --- Operations ---------------------------------------------------------------------------
# Who may read /metrics (wisdom/metrics/): the peer and every X-Forwarded-For address must be in one of these
# networks (comma-separated; empty: nobody), else 404. The default is loopback and the private ranges, where a
# scraper runs; the nginx in front (deploy/nginx) never routes /metrics.
METRICS_ALLOWED_IPS = env.ip_networks(
    "METRICS_ALLOWED_IPS", default="127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
)

# --- Background work (`manage.py worker`) -------------------------------------------------------------------
# The worker sends the email outbox, deletes accounts and builds data exports, then waits this long for more
# (MAIL_WORKER_POLL_SECONDS, from when it only sent email, is the default).
WORKER_POLL_SECONDS = env.positive_number("WORKER_POLL_SECONDS", default=MAIL_WORKER_POLL_SECONDS)
# A claimed deletion or export is left to its worker this long, renewed at every step; a worker that died lets
# it go then. Every step is one upstream call (at most INTUNO_AGENTS_TIMEOUT_SECONDS), so the lease outlasts two.
WORKER_LEASE_SECONDS = env.positive_number("WORKER_LEASE_SECONDS", default=120)
if WORKER_LEASE_SECONDS <= 2 * INTUNO_AGENTS_TIMEOUT_SECONDS:
    raise SettingError("Setting WORKER_LEASE_SECONDS must be more than twice INTUNO_AGENTS_TIMEOUT_SECONDS.")
# A failed attempt is retried after JOB_RETRY_FIRST_SECONDS, each gap twice the last, at most JOB_RETRY_MAX_SECONDS.
JOB_RETRY_FIRST_SECONDS = env.positive_number("JOB_RETRY_FIRST_SECONDS", default=15)
JOB_RETRY_MAX_SECONDS = env.positive_number("JOB_RETRY_MAX_SECONDS", default=60 * 60)
# A deletion is marked failed (visible in the admin, where staff retry it) after this many failed attempts.
ACCOUNT_DELETION_MAX_ATTEMPTS = env.positive_int("ACCOUNT_DELETION_MAX_ATTEMPTS", default=50)
# Data exports: failed after EXPORT_MAX_ATTEMPTS; one build takes at most EXPORT_DEADLINE_SECONDS and makes at
# most EXPORT_MAX_BYTES of JSON; a ready one is downloadable EXPORT_DOWNLOAD_DAYS; EXPORT_DAILY_LIMIT asked per
# person per 24 hours (one pending at a time).
EXPORT_MAX_ATTEMPTS = env.positive_int("EXPORT_MAX_ATTEMPTS", default=5)
EXPORT_DEADLINE_SECONDS = env.positive_number("EXPORT_DEADLINE_SECONDS", default=10 * 60)
EXPORT_MAX_BYTES = env.positive_int("EXPORT_MAX_BYTES", default=64 * 1024 * 1024)
EXPORT_DOWNLOAD_DAYS = env.positive_int("EXPORT_DOWNLOAD_DAYS", default=7)
EXPORT_DAILY_LIMIT = env.positive_int("EXPORT_DAILY_LIMIT", default=3)

"""A django-environ `Env` that refuses a missing or malformed value with a one-line `SettingError` naming it."""

import ipaddress

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true", "on", "ok", "y", "yes", "1"}
_FALSE = {"false", "off", "n", "no", "0", ""}

# A secret containing one of these (any case) is a template's text left in place, not a key.
PLACEHOLDER_MARKERS = (
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "replace_me",
    "required",
    "placeholder",
    "example",
    "<",
    ">",
)
# What an EMAIL_URL can set (EMAIL_FILE_PATH is the file backend's folder, filemail://).
# Django's own default for each EMAIL_* setting an EMAIL_URL gives (django.conf.global_settings, which a test
# compares): written out because importing django.conf here would load asyncio, and with it concurrent.futures'
# threads, in gunicorn's master before a gevent worker patches them.
EMAIL_URL_SETTINGS = {
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "localhost",
    "EMAIL_PORT": 25,
    "EMAIL_HOST_USER": "",
    "EMAIL_HOST_PASSWORD": "",
    "EMAIL_USE_TLS": False,
    "EMAIL_USE_SSL": False,
    "EMAIL_FILE_PATH": None,
}
MAKE_A_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_problem(value: str) -> str | None:
    """Why `value` cannot be a real key (never quoting it: it may be one), or None when it can be."""
    if not value.strip():
        return "is blank"
    if value.lstrip().startswith("#"):
        return "starts with '#': a comment, not a key (in .env, comments go on their own line)"
    if any(c.isspace() for c in value):
        return "contains whitespace"
    lowered = value.lower()
    for marker in PLACEHOLDER_MARKERS:
        if marker in lowered:
            return f"looks like a placeholder (it contains {marker!r})"
    return None


class SettingError(ImproperlyConfigured):
    """A setting stops start-up; the message is one line that names the variable and says what to do."""


class StrictEnv(environ.Env):
    """Like `environ.Env`, but `DJANGO_DEBUG=maybe` or `X=abc` as an int stops start-up."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except SettingError:
            raise
        except ImproperlyConfigured:  # django-environ's "Set the X environment variable"
            raise SettingError(f"Setting {var} is required but not set: see .env.example") from None
        except (ValueError, TypeError, KeyError) as e:
            raise SettingError(f"Setting {var} is malformed: {e}") from None

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in _TRUE | _FALSE:
                raise ValueError(f"{value!r} is not a boolean (use true or false)")
            return lowered in _TRUE
        return super().parse_value(value, cast)

    def db_url(self, var, default=environ.Env.NOTSET, engine=None):
        try:
            return super().db_url(var, default=default, engine=engine)
        except SettingError:
            raise
        except Exception as e:  # django-environ raises several types for a bad URL
            raise SettingError(f"Setting {var} is malformed: {e}") from None

    db = db_url

    def cache_url(self, var=environ.Env.DEFAULT_CACHE_ENV, default=environ.Env.NOTSET, backend=None):
        try:
            return super().cache_url(var, default=default, backend=backend)
        except SettingError:
            raise
        except Exception as e:
            raise SettingError(f"Setting {var} is malformed: {e}") from None

    cache = cache_url

    def email_settings(self, url: str, *, var: str = "EMAIL_URL") -> dict:
        """Django's EMAIL_* settings as `url` gives them (django-environ's parsing), Django's default for each the
        URL leaves out or when it is empty."""
        try:
            given = self.email_url_config(url) if url else {}
        except Exception as e:  # django-environ raises several types for a bad URL
            raise SettingError(f"Setting {var} is malformed: {e}") from None
        return {
            name: default if given.get(name) is None else given[name] for name, default in EMAIL_URL_SETTINGS.items()
        }

    def secret(self, var: str, *, what: str, default: str | None = None) -> str:
        """A key: unset or empty means `default` (required when None); a comment, a placeholder or
        whitespace is refused. `what` tells the reader what to set."""
        raw = self.get_value(var, default="")
        if raw == "":
            if default is None:
                raise SettingError(f"Setting {var} is required when DJANGO_DEBUG is off: set {what}")
            return default
        if problem := secret_problem(raw):
            raise SettingError(f"Setting {var} {problem}: set {what}")
        return raw

    def secret_list(self, var: str, *, what: str) -> tuple[str, ...]:
        """Comma-separated keys (spaces around commas allowed); empty means none; each is checked as a secret."""
        raw = self.get_value(var, default="")
        keys = tuple(key.strip() for key in raw.split(",") if key.strip())
        if raw and not keys:
            raise SettingError(f"Setting {var} is blank: set {what}, or leave it empty")
        for key in keys:
            if problem := secret_problem(key):
                raise SettingError(f"Setting {var} has a key that {problem}: set {what}")
        return keys

    def optional_positive_int(self, var: str, default: int | None) -> int | None:
        """An integer >= 0; `default` when unset; None when set but empty (meaning: no limit)."""
        raw = self.ENVIRON.get(var)
        if raw is None:
            return default
        raw = raw.strip()
        if raw == "":
            return None
        try:
            value = int(raw)
        except ValueError:
            raise SettingError(f"Setting {var} is malformed: {raw!r} is not an integer") from None
        if value < 0:
            raise SettingError(f"Setting {var} must not be negative")
        return value

    def positive_int(self, var: str, default: int) -> int:
        value = self.int(var, default=default)
        if value <= 0:
            raise SettingError(f"Setting {var} must be greater than zero")
        return value

    def positive_number(self, var: str, default: float) -> float:
        value = self.float(var, default=default)
        if value <= 0:
            raise SettingError(f"Setting {var} must be greater than zero")
        return value

    def ip_networks(self, var: str, default: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Comma-separated networks (an address alone is a network of one); empty: none."""
        try:
            return tuple(
                ipaddress.ip_network(part.strip()) for part in self.str(var, default=default).split(",") if part.strip()
            )
        except ValueError as e:
            raise SettingError(f"Setting {var} is malformed: {e}") from None

    def database(self, var: str, default: str, *, sqlite_test_file: str) -> dict:
        """Django's DATABASES entry for the URL in `var`: a SQLite file or PostgreSQL, nothing else."""
        db = self.db(var, default=default)
        if db.get("ENGINE") == "django.db.backends.sqlite3":
            # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers queue
            # instead of failing with "database is locked"; WAL lets readers go on meanwhile.
            db.setdefault("OPTIONS", {}).update(
                {
                    "transaction_mode": "IMMEDIATE",
                    "timeout": 20,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                }
            )
            db.setdefault("TEST", {})["NAME"] = sqlite_test_file
            # Kept open by each thread (wisdom.db.connection_release keeps it across upstream waits too): a file
            # handle that nothing else waits for, where opening one costs more than the rest of a request's
            # database work.
            db["CONN_MAX_AGE"] = None
        elif db.get("ENGINE") == "django.db.backends.postgresql":
            # A per-process pool: requests borrow a connection and hand it back while they wait on
            # the agents service, so workers x requests never maps 1:1 onto PostgreSQL connections.
            pool_max_size = self.int("DATABASE_POOL_MAX_SIZE", default=8)
            if pool_max_size > 0:
                db["CONN_MAX_AGE"] = 0
                db.setdefault("OPTIONS", {})["pool"] = {
                    "min_size": self.int("DATABASE_POOL_MIN_SIZE", default=1),
                    "max_size": pool_max_size,
                    "timeout": self.float("DATABASE_POOL_TIMEOUT_SECONDS", default=10.0),
                }
            else:
                db["CONN_MAX_AGE"] = self.int("DATABASE_CONN_MAX_AGE", default=0)
        else:
            raise SettingError(f"Setting {var} must be a postgres:// or sqlite:// URL")
        return db

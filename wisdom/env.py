"""A django-environ `Env` that refuses a missing or malformed value with a one-line `SettingError` naming it."""

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

"""Log filters and the JSON formatter: request ids on every line, secrets in no field of any line."""

import functools
import logging
import logging.config
import re
import sys
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from wisdom import request_context

# A JWT, a bearer credential, or a password/key/token field written as key=value or "key": "value".
_JWT = re.compile(r"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
_SECRET_FIELD = re.compile(
    r"(?i)((?:password|passwd|secret|token|api[_-]?key|service[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)([^\s\"',&}]+)"
)
_PASSWORD_HASH = re.compile(r"\b(argon2|pbkdf2_sha256|pbkdf2_sha1|scrypt|md5)\$[^\s\"']+")
_INVITE_TOKEN_PATH = re.compile(r"/invites/[^/\s?#]+/(preview|redeem)")
# A personal API key (accounts.models.ApiKey), wherever it appears: `<8 letters or digits>.<32 more>`.
_API_KEY = re.compile(r"\b[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}\b")
# A field (an extra's or a dict's key) whose whole value is a secret.
_SECRET_NAME = re.compile(r"(?i)password|passwd|secret|token|api[_-]?key|service[_-]?key|authorization|cookie")
# What every LogRecord has; everything else on a record is an extra field (Django's `request`, `status_code`...).
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
REDACTED = "[redacted]"
_MAX_DEPTH = 8  # deeper (or self-containing) structures are written as redacted text
# Each substitution, in order, behind literals (lower case) one of which every match of its pattern holds: text
# without any is not scanned. No replacement adds a literal, so a later check on the text as it came still holds.
_SUBSTITUTIONS = (
    (("eyj",), _JWT, "[redacted-jwt]"),
    (("bearer",), _BEARER, r"\1[redacted]"),
    ((":", "="), _SECRET_FIELD, r"\1[redacted]"),
    (("$",), _PASSWORD_HASH, r"\1$[redacted]"),
    ((".",), _API_KEY, "[redacted-api-key]"),
    (("/invites/",), _INVITE_TOKEN_PATH, r"/invites/[token]/\1"),  # e.g. "Internal Server Error: /invites/<token>/.."
)


def configure(config: dict) -> None:
    """LOGGING_CONFIG: dictConfig, plus Python warnings routed into logging (one format for all lines)."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def redact_text(text: str) -> str:
    lowered = text.lower()
    for literals, pattern, replacement in _SUBSTITUTIONS:
        for literal in literals:  # a loop, not any(): this runs for every field of every line
            if literal in lowered:
                text = pattern.sub(replacement, text)
                break
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, "[redacted]")
    return text


def _configured_secrets() -> tuple[str, ...]:
    # gunicorn's master logs without Django: importing django.conf there would load asyncio (and
    # concurrent.futures' threads) and leave a lazy settings object that a gevent worker's patching trips on.
    if "django.conf" not in sys.modules:
        return ()
    try:
        return _secrets_from_settings()
    except ImproperlyConfigured:  # a process logging before Django's settings load
        return ()


@functools.cache
def _secrets_from_settings() -> tuple[str, ...]:
    from django.conf import settings  # read lazily: filters are built while settings load
    from django.core.signals import setting_changed

    setting_changed.connect(_forget_secrets, dispatch_uid="wisdom.logging.forget_secrets")

    secrets = [
        settings.SECRET_KEY,
        settings.SIMPLE_JWT["SIGNING_KEY"],
        settings.INTUNO_AGENTS_API_KEY,
        *settings.AGENTS_SERVICE_API_KEYS,
        getattr(settings, "EMAIL_HOST_PASSWORD", ""),
    ]
    return tuple({s for s in secrets if s and len(s) >= 6})


def _forget_secrets(**kwargs) -> None:
    _secrets_from_settings.cache_clear()


def redact_path(path: str) -> str:
    """Invite tokens are bearer secrets: keep them out of every log line."""
    return _INVITE_TOKEN_PATH.sub(r"/invites/[token]/\1", path) if "/invites/" in path else path


def redact_request(request) -> str:
    """A request as Django writes it (`<WSGIRequest: GET '/path?a=..'>`), with every query value masked: a page's
    address may carry a secret (/personal/invite?token=..., /personal/reset-password?uid=..&token=...)."""
    path, _, query = request.get_full_path().partition("?")
    if query:
        path += "?" + urlencode([(name, REDACTED) for name, _ in parse_qsl(query, keep_blank_values=True)], safe="[]")
    return f"<{type(request).__name__}: {request.method} {redact_text(redact_path(path))!r}>"


def redact_value(value: Any, name: str = "", depth: int = 0) -> Any:
    """An extra field's value with no secret left: strings redacted, containers item by item, a field named like a
    secret (password, token...) masked whole, a request written without its query values, anything else as text."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if name and _SECRET_NAME.search(name):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if depth < _MAX_DEPTH and isinstance(value, Mapping):
        return {str(key): redact_value(item, str(key), depth + 1) for key, item in value.items()}
    if depth < _MAX_DEPTH and isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth=depth + 1) for item in value]
    if hasattr(value, "get_full_path") and hasattr(value, "method"):  # an HttpRequest
        return redact_request(value)
    try:
        return redact_text(str(value))
    except Exception:  # a broken __str__ must not lose the line
        return f"<{type(value).__name__}>"


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_context.current_request_id()
        return True


class RedactSecretsFilter(logging.Filter):
    """Every field of the record: the message with its arguments, the traceback (even one another handler already
    formatted), the stack, and every extra field (Django's loggers attach the request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not lose the line
            message = str(record.msg)
        record.msg, record.args = redact_text(message), None
        if record.exc_info:
            record.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES:
                setattr(record, name, redact_value(value, name))
        record.__dict__.pop("message", None)  # an earlier handler's formatted message; formatters make it again
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, and any extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)

"""Log filters and the JSON formatter: request ids on every line, secrets on none."""

import functools
import logging
import logging.config
import re

from django.core.signals import setting_changed
from django.dispatch import receiver
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


def configure(config: dict) -> None:
    """LOGGING_CONFIG: dictConfig, plus Python warnings routed into logging (one format for all lines)."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def redact_text(text: str) -> str:
    text = _JWT.sub("[redacted-jwt]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    text = _SECRET_FIELD.sub(r"\1[redacted]", text)
    text = _PASSWORD_HASH.sub(r"\1$[redacted]", text)
    text = _API_KEY.sub("[redacted-api-key]", text)
    text = redact_path(text)  # e.g. Django's "Internal Server Error: /invites/<token>/redeem"
    for secret in _configured_secrets():
        text = text.replace(secret, "[redacted]")
    return text


@functools.cache
def _configured_secrets() -> tuple[str, ...]:
    from django.conf import settings  # read lazily: filters are built while settings load

    secrets = [
        settings.SECRET_KEY,
        settings.SIMPLE_JWT["SIGNING_KEY"],
        settings.INTUNO_AGENTS_API_KEY,
        *settings.AGENTS_SERVICE_API_KEYS,
        getattr(settings, "EMAIL_HOST_PASSWORD", ""),
    ]
    return tuple({s for s in secrets if s and len(s) >= 6})


@receiver(setting_changed)
def _forget_secrets(**kwargs) -> None:
    _configured_secrets.cache_clear()


def redact_path(path: str) -> str:
    """Invite tokens are bearer secrets: keep them out of every log line."""
    return _INVITE_TOKEN_PATH.sub(r"/invites/[token]/\1", path)


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_context.current_request_id()
        return True


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not lose the line
            message = str(record.msg)
        redacted = redact_text(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(_JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, and any extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s", *args, **kwargs)

"""settings.LOGGING, built without importing Django: gunicorn's master reads the settings before a gevent worker
patches the standard library, and Django's signals would load asyncio (and concurrent.futures' threads) there."""


def logging_config(*, log_format: str, level: str) -> dict:
    """settings.LOGGING: every line through the request-id and redacting filters, as text or JSON."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_context": {"()": "wisdom.logging.RequestContextFilter"},
            "redact": {"()": "wisdom.logging.RedactSecretsFilter"},
        },
        "formatters": {
            "text": {
                "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s",
            },
            "json": {
                "()": "wisdom.logging.JsonFormatter",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_context", "redact"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # the access line comes from wisdom.access; Django's own would repeat it
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "WARNING"},
            # SQL with its parameters (password hashes, tokens) at DEBUG: never written, whatever LOG_LEVEL says
            "django.db.backends": {"level": "INFO"},
            # Python warnings become log records too, so with LOG_FORMAT=json every line parses.
            "py.warnings": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        },
    }

"""gunicorn for wisdom: threaded workers, because most of a request's life is spent waiting on the
agents service (a chat can take a minute) and a waiting thread costs little memory and no CPU.

Sizing: WEB_CONCURRENCY processes x GUNICORN_THREADS threads = requests in flight per replica.
Database connections are pooled per process (DATABASE_POOL_MAX_SIZE) and released while a request
waits upstream, so PostgreSQL sees at most WEB_CONCURRENCY x DATABASE_POOL_MAX_SIZE per replica.
"""

import importlib
import os
import sys

from django.core.exceptions import ImproperlyConfigured


def _settings_error() -> str | None:
    """Loads the settings in the master once, so a bad one stops gunicorn with one line before it binds.
    Leaves no trace (wisdom modules, variables read from .env): workers, also those --reload forks, load afresh."""
    modules, environment = set(sys.modules), dict(os.environ)
    try:
        importlib.import_module(os.environ.get("DJANGO_SETTINGS_MODULE", "wisdom.settings"))
    except ImproperlyConfigured as e:
        return str(e)
    finally:
        for name in set(sys.modules) - modules:
            if name == "wisdom" or name.startswith("wisdom."):
                del sys.modules[name]
        os.environ.clear()
        os.environ.update(environment)
    return None


if (_error := _settings_error()) is not None:
    print(f"wisdom: {_error}", file=sys.stderr)
    sys.exit(2)

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Each worker can hold every slow chat by itself: connections are not spread evenly between
# workers, and a request queued behind busy threads waits a whole chat (see bench/NOTES.md).
threads = int(os.environ.get("GUNICORN_THREADS", "150"))
# Above the chat time-out (INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS, 60 s), so a slow chat is answered
# with wisdom's own 504 rather than the worker being killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "90"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
# gunicorn's largest bounded request line: a 255-character name and a 512-character cursor, both
# percent-encoded, must fit (gunicorn's default 4094 bytes would answer them with an HTML 414).
limit_request_line = 8190
accesslog = None  # wisdom writes one access line per request itself, with its request id
errorlog = "-"
logger_class = "wisdom.gunicorn_logger.GunicornLogger"  # JSON lines when LOG_FORMAT=json, no second access line
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108  heartbeat files off a possibly slow container disk


def pre_request(worker, req):
    """A request wisdom refuses before reading its body (413, 411: wisdom.middleware.body_refusal) leaves
    that body on the socket. gunicorn ignores an application's `Connection: close`, so the connection is
    marked here: the answer then says `Connection: close` and gunicorn closes it, instead of announcing
    keep-alive and reading the client's next request out of the unread body."""
    from django.conf import settings

    from wisdom.middleware import body_refusal

    headers = dict(req.headers)  # upper-case names; gunicorn itself refuses a repeated Content-Length
    refusal = body_refusal(
        content_length=headers.get("CONTENT-LENGTH"),
        transfer_encoding=headers.get("TRANSFER-ENCODING"),
        limit=settings.REQUEST_BODY_MAX_BYTES,
    )
    if refusal is not None:
        req.force_close()

"""gunicorn for wisdom: gevent workers, because most of a request's life is spent waiting on the agents service
(a chat can take a minute, a streamed one five) and a waiting greenlet costs a few kilobytes and no OS thread, so
one worker holds thousands of streams while /healthz, /readyz and every other route stay answered (README,
"Serving model"; bench/NOTES.md for the measurement against threads). The worker is
wisdom.gunicorn_worker.DrainingGeventWorker, named here as a string: gunicorn imports it in the master, and this
file imports nothing that would start a thread or load concurrent.futures before a worker patches the standard
library (gunicorn issue #3482).

Sizing: WEB_CONCURRENCY processes x GUNICORN_WORKER_CONNECTIONS connections = requests in flight per replica.
Database connections are pooled per process (DATABASE_POOL_MAX_SIZE) and released while a request waits
upstream, so PostgreSQL sees at most WEB_CONCURRENCY x DATABASE_POOL_MAX_SIZE per replica.

Stopping (SIGTERM, a deploy): the worker stops accepting at once (it serves what already reached its listening
socket, then closes it, so new connections are refused and a proxy retries them on another replica), /readyz
answers 503, and the requests it holds finish within graceful_timeout (at least the chat time-out plus a margin);
an open stream ends with its `done`, or with an `error` event a few seconds before that deadline. SIGHUP starts
new workers on the same socket and stops the old ones the same way.

Metrics: every worker writes to PROMETHEUS_MULTIPROC_DIR (a fresh temporary directory unless set), emptied when
the master starts, so a scrape of any worker reports the whole replica (wisdom/metrics/).
"""

import importlib
import os
import resource
import shutil
import sys
import tempfile

from django.core.exceptions import ImproperlyConfigured

GRACEFUL_MARGIN_SECONDS = 10  # beyond the chat time-out: the answer's own way back, and a stream's last event


def _load_settings() -> tuple[str | None, float]:
    """Loads the settings in the master once, so a bad one stops gunicorn with one line before it binds;
    returns (that line or None, the chat time-out). Leaves no trace (wisdom modules, variables read from .env):
    workers, also those --reload forks, load afresh."""
    modules, environment = set(sys.modules), dict(os.environ)
    try:
        loaded = importlib.import_module(os.environ.get("DJANGO_SETTINGS_MODULE", "wisdom.settings"))
        return None, float(loaded.INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS)
    except ImproperlyConfigured as e:
        return str(e), 0.0
    finally:
        for name in set(sys.modules) - modules:
            if name == "wisdom" or name.startswith("wisdom."):
                del sys.modules[name]
        os.environ.clear()
        os.environ.update(environment)


_error, _chat_timeout = _load_settings()
if _error is not None:
    print(f"wisdom: {_error}", file=sys.stderr)
    sys.exit(2)

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "wisdom.gunicorn_worker.DrainingGeventWorker"
# Each worker can hold every open stream by itself: connections are not spread evenly between workers. Above
# PERSONAL_STREAM_CAPACITY (streams per worker), so other routes always find a connection left.
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "4000"))
# Above the chat time-out (INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS, 60 s), so a slow chat is answered
# with wisdom's own 504 rather than the worker being killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "90"))
# A SIGTERM lets every request in flight finish: a chat may take its whole time-out (default 60 s + 10 s);
# a stream still open 5 s before the end gets its last event then (wisdom/gunicorn_worker.py).
_least_graceful = int(_chat_timeout) + GRACEFUL_MARGIN_SECONDS
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", str(_least_graceful)))
if graceful_timeout < _least_graceful:
    print(
        f"wisdom: GUNICORN_GRACEFUL_TIMEOUT ({graceful_timeout}) must be at least the chat time-out "
        f"(INTUNO_AGENTS_CHAT_TIMEOUT_SECONDS, {_chat_timeout:g}) plus {GRACEFUL_MARGIN_SECONDS}, else a deploy "
        "cuts chats off",
        file=sys.stderr,
    )
    sys.exit(2)
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


def post_worker_init(worker):
    """A worker builds its agents client once it has loaded the application, not in its first chat: loading the
    client's CA certificates takes about 100 ms."""
    from personal.client import agents_client

    agents_client()


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


# --- open files: an open stream holds two descriptors in its worker (its client, and upstream) ---------------
_files_needed = 2 * worker_connections + 1024
_soft_files, _hard_files = resource.getrlimit(resource.RLIMIT_NOFILE)
if _soft_files != resource.RLIM_INFINITY and _soft_files < _files_needed:
    _raised = _files_needed if _hard_files == resource.RLIM_INFINITY else min(_files_needed, _hard_files)
    resource.setrlimit(resource.RLIMIT_NOFILE, (_raised, _hard_files))  # the workers inherit it
    if _raised < _files_needed:
        print(
            f"wisdom: the open-file limit ({_hard_files}) is below the {_files_needed} that "
            f"GUNICORN_WORKER_CONNECTIONS={worker_connections} needs; raise the container's nofile limit",
            file=sys.stderr,
        )


# --- one control socket per instance, or none --------------------------------------------------------------
# gunicorn's default is one path per user (~/.gunicorn/gunicorn.ctl): a second master on the host would take it
# over, and stopping either would remove it. Off unless GUNICORN_CONTROL_SOCKET names this instance's own path.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True


# --- metrics: one directory of samples per replica (prometheus_client's multiprocess mode) ------------------

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Set before any worker imports prometheus_client. A reload (SIGHUP) reads this file again and keeps it.
    _shm = "/dev/shm"  # noqa: S108  memory-backed where there is one: samples are written on every request
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="wisdom-metrics-", dir=_shm if os.path.isdir(_shm) else None
    )
    os.environ["WISDOM_METRICS_DIR_IS_TEMPORARY"] = "1"


def on_starting(server):
    """A master starts with no samples: those of an earlier run (the same directory) would be added to its own."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.unlink(os.path.join(directory, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # its gauges (in flight, pool) no longer count


def on_exit(server):
    if os.environ.get("WISDOM_METRICS_DIR_IS_TEMPORARY") == "1":
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

"""Prometheus metrics: what an operator alerts on. Served at /metrics (wisdom/health.py) to METRICS_ALLOWED_IPS only.

Under gunicorn every worker process writes its samples to files in PROMETHEUS_MULTIPROC_DIR (set and cleaned by
gunicorn.conf.py before any worker imports this), and a scrape of any worker reads them all: the numbers are the
replica's. Without that variable (runserver, tests in one process) the samples live in this process.

No label ever carries request data: routes are URL templates ("personal/entities/<name>"), upstream operations
are the contract's paths with every name replaced ("POST /entities/{name}/chat"), and refusal kinds are error codes.
"""

import ipaddress
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_save
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from rest_framework.exceptions import NotFound

from wisdom.errors import json_error

logger = logging.getLogger(__name__)

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
UNMATCHED = "unmatched"  # no route resolved: an unknown path, or a request refused before resolution
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
EVENT_STREAM = "text/event-stream"
POOL_SAMPLE_SECONDS = 5.0

# Seconds; a chat may take up to its time-out (60 s by default), so the buckets reach past it.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 90)

HTTP_REQUESTS = Counter(
    "wisdom_http_requests", "Requests answered, by method, route template and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "wisdom_http_request_duration_seconds",
    "Time to answer (to the first byte of a stream), by method, route template and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge("wisdom_http_requests_in_flight", "Requests being answered now.", multiprocess_mode="livesum")
OPEN_STREAMS = Gauge(
    "wisdom_http_open_streams", "text/event-stream answers still streaming.", multiprocess_mode="livesum"
)

UPSTREAM_CALLS = Counter(
    "wisdom_upstream_requests",
    "Calls to the agents service, by operation and outcome (ok, 4xx, 5xx, timeout, unreachable; client_gone, stopped).",
    ["operation", "outcome"],
)
UPSTREAM_LATENCY = Histogram(
    "wisdom_upstream_request_duration_seconds",
    "Time of one call to the agents service (a streamed chat: to its end), by operation and outcome.",
    ["operation", "outcome"],
    buckets=LATENCY_BUCKETS,
)

POOL_CONNECTIONS = Gauge(
    "wisdom_db_pool_connections",
    "Pooled database connections by state (in_use, idle), summed over the replica's processes.",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_MAX = Gauge(
    "wisdom_db_pool_max_connections", "The most connections the replica's pools may open.", multiprocess_mode="livesum"
)
POOL_WAITING = Gauge(
    "wisdom_db_pool_waiting_requests", "Requests waiting for a pooled connection now.", multiprocess_mode="livesum"
)
POOL_REQUESTS = Counter("wisdom_db_pool_requests", "Connections asked of the pool.")
POOL_WAITS = Counter("wisdom_db_pool_waits", "Connections asked of the pool that had to wait for one.")
POOL_WAIT_SECONDS = Counter("wisdom_db_pool_wait_seconds", "Time spent waiting for a pooled connection.")
POOL_TIMEOUTS = Counter(
    "wisdom_db_pool_timeouts", "Waits for a pooled connection that gave up (DATABASE_POOL_TIMEOUT_SECONDS): a 503."
)

REFUSALS = Counter(
    "wisdom_refusals",
    "Requests refused with 429, or 503 for a capacity, by kind (the error's code: throttled, a quota, ...).",
    ["kind"],
)
INVITE_REDEMPTIONS = Counter("wisdom_invite_redemptions", "Invites redeemed (committed sign-ups).")


# --- requests --------------------------------------------------------------------------------------------


def observe_request(request: HttpRequest, get_response: Callable[[HttpRequest], HttpResponse]) -> HttpResponse:
    """Answers the request through `get_response`, counting it: in flight meanwhile, then count and latency by
    route template and status. A text/event-stream answer is counted as an open stream until it is closed, and
    tells a buffering proxy (nginx) to pass it through as it comes (X-Accel-Buffering: no)."""
    started = time.perf_counter()
    HTTP_IN_FLIGHT.inc()
    try:
        response = get_response(request)
    finally:
        HTTP_IN_FLIGHT.dec()
    labels = (_method(request.method), route_label(request), str(response.status_code))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_LATENCY.labels(*labels).observe(time.perf_counter() - started)
    if response.streaming and response.get("Content-Type", "").startswith(EVENT_STREAM):
        response.setdefault("X-Accel-Buffering", "no")
        response.streaming_content = _CountedStream(response.streaming_content)
    return response


def _method(method: str | None) -> str:
    return method if method in KNOWN_METHODS else "other"


_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def route_label(request: HttpRequest) -> str:
    """The URL template that served the request, never its path: "personal/entities/<name>"."""
    probe = getattr(request, "probe_route", None)
    if probe is not None:
        return probe
    match = getattr(request, "resolver_match", None)
    if match is None or match.url_name == "not-found":
        return UNMATCHED
    # path() routes read "invites/<str:token>/redeem"; a router's regex routes "^personal/entities/(?P<name>[^/.]+)$"
    route = _NAMED_GROUP.sub(r"<\1>", match.route).replace("^", "").replace("$", "")
    return re.sub(r"<\w+:(\w+)>", r"<\1>", route) or "/"


class _CountedStream:
    """An open stream until the server closes it (at its end or when the client goes)."""

    def __init__(self, content: Iterable[bytes]):
        self._content = content
        self._iterator = iter(content)
        self._open = True
        OPEN_STREAMS.inc()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return next(self._iterator)

    def close(self) -> None:
        if self._open:
            self._open = False
            OPEN_STREAMS.dec()
            close = getattr(self._content, "close", None)
            if close is not None:
                close()


# --- the agents service -------------------------------------------------------------------------------------

_PATH_QUERY = re.compile(r"[?#].*$")


def upstream_operation(method: str, path: str) -> str:
    """'POST /entities/ada/chat' -> 'POST /entities/{name}/chat': the contract's paths alternate a collection
    and one of its members, and every member (a name, which a user chose) is replaced."""
    segments = _PATH_QUERY.sub("", path).strip("/").split("/")
    template = "/".join("{name}" if i % 2 else segment for i, segment in enumerate(segments))
    return f"{_method(method)} /{template}"


CLIENT_GONE_OUTCOME = "client_gone"  # a streamed chat whose client left before its end
STOPPED_OUTCOME = "stopped"  # a streamed chat still open when its server's drain ended (a deploy)


def upstream_outcome(error: BaseException | None) -> str:
    """ok; 4xx (the caller's request refused, or rate-limited); timeout; unreachable; else 5xx (upstream failed,
    refused this server's key, or sent an answer that could not be used). A stream may also end client_gone."""
    if error is None:
        return "ok"
    status = getattr(error, "status_code", 502)
    if status == 504:
        return "timeout"
    if status < 500:
        return "4xx"
    if getattr(error, "default_code", None) == "agents_unreachable" or _caused_by_connection_error(error):
        return "unreachable"
    return "5xx"


def _caused_by_connection_error(error: BaseException) -> bool:
    return isinstance(error.__cause__, requests.ConnectionError | ConnectionError)


def record_upstream_call(method: str, path: str, *, outcome: str, seconds: float) -> None:
    """Counts one call to the agents service (a streamed chat when it ends) by operation and outcome."""
    labels = (upstream_operation(method, path), outcome)
    UPSTREAM_CALLS.labels(*labels).inc()
    UPSTREAM_LATENCY.labels(*labels).observe(seconds)


# --- refusals and redemptions -------------------------------------------------------------------------------


def observe_refusal(error: BaseException) -> None:
    """Counts a 429 by its kind, the error's code (e.g. throttled, entity_quota_exceeded); and a 503 that names a
    `code` in its body (a capacity reached, e.g. stream_capacity_reached; the database's 503 names none)."""
    status = getattr(error, "status_code", None)
    if status == 429 or (status == 503 and "code" in (getattr(error, "extra", None) or {})):
        REFUSALS.labels(str(getattr(type(error), "default_code", "throttled"))).inc()


def _redemption_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        transaction.on_commit(INVITE_REDEMPTIONS.inc)  # only a sign-up that committed is a redemption


# By label, so the project package imports no app (wisdom/tests/test_architecture.py).
post_save.connect(_redemption_saved, sender="invites.InviteRedemption", dispatch_uid="wisdom.metrics.redemptions")


# --- the database pool ---------------------------------------------------------------------------------------

_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()


def _connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    pool = getattr(connection, "pool", None)
    if pool is None or _pools.get(connection.alias) is pool:
        return
    with _pools_lock:
        first = not _pools
        _pools[connection.alias] = pool
    if first:
        threading.Thread(target=_sample_pools_forever, name="wisdom-metrics-pool", daemon=True).start()


connection_created.connect(_connection_created, dispatch_uid="wisdom.metrics.pools")


def _sample_pools_forever() -> None:
    while True:
        try:
            sample_pools()
        except Exception:  # a sampler must never take its process down
            logger.exception("metrics: sampling the database pool failed")
        time.sleep(POOL_SAMPLE_SECONDS)


def sample_pools() -> None:
    """This process's pools now: connections in use and idle, waiters, and the counters since the last sample."""
    with _pools_lock:
        pools = list(_pools.values())
    in_use = idle = most = waiting = 0
    for pool in pools:
        stats = pool.pop_stats()  # gauges as they are; counters since the last call, then reset
        in_use += stats.get("pool_size", 0) - stats.get("pool_available", 0)
        idle += stats.get("pool_available", 0)
        most += stats.get("pool_max", 0)
        waiting += stats.get("requests_waiting", 0)
        POOL_REQUESTS.inc(stats.get("requests_num", 0))
        POOL_WAITS.inc(stats.get("requests_queued", 0))
        POOL_WAIT_SECONDS.inc(stats.get("requests_wait_ms", 0) / 1000)
        POOL_TIMEOUTS.inc(stats.get("requests_errors", 0))
    if pools:
        POOL_CONNECTIONS.labels("in_use").set(in_use)
        POOL_CONNECTIONS.labels("idle").set(idle)
        POOL_MAX.set(most)
        POOL_WAITING.set(waiting)


# --- the /metrics answer ---------------------------------------------------------------------------------------


def client_allowed(request: HttpRequest, allowed: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """The peer and every address it forwards for must be allowed: a scraper calls a replica directly, while a
    client that reached it through a proxy shows up in X-Forwarded-For (and the proxy does not route /metrics)."""
    networks = tuple(allowed)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    addresses = [request.META.get("REMOTE_ADDR", ""), *(part.strip() for part in forwarded.split(",") if forwarded)]
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if not any(ip in network for network in networks):
            return False
    return True


def metrics_text() -> bytes:
    sample_pools()
    if MULTIPROCESS:
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format to METRICS_ALLOWED_IPS; anyone else gets the same 404 as an unknown path."""
    if not client_allowed(request, settings.METRICS_ALLOWED_IPS):
        return json_error(404, NotFound.default_detail)
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_PLAIN_0_0_4)

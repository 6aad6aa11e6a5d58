"""Every metric wisdom exports, defined once; no label ever carries request data."""

import os

from prometheus_client import Counter, Gauge, Histogram

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

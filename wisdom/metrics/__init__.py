"""Prometheus metrics: what an operator alerts on. Served at /metrics (wisdom/health.py) to METRICS_ALLOWED_IPS only.

Under gunicorn every worker process writes its samples to files in PROMETHEUS_MULTIPROC_DIR (set and cleaned by
gunicorn.conf.py before any worker imports this), and a scrape of any worker reads them all: the numbers are the
replica's. Without that variable (runserver, tests in one process) the samples live in this process.

No label ever carries request data: routes are URL templates ("personal/entities/<name>"), upstream operations
are the contract's paths with every name replaced ("POST /entities/{name}/chat"), and refusal kinds are error codes.
"""

from wisdom.metrics import pool, refusals  # noqa: F401  their signal receivers are connected on import
from wisdom.metrics.refusals import observe_refusal
from wisdom.metrics.requests import observe_request
from wisdom.metrics.upstream import (
    CLIENT_GONE_OUTCOME,
    STOPPED_OUTCOME,
    record_upstream_call,
    upstream_operation,
    upstream_outcome,
)
from wisdom.metrics.view import client_allowed, metrics_view

__all__ = [
    "CLIENT_GONE_OUTCOME",
    "STOPPED_OUTCOME",
    "client_allowed",
    "metrics_view",
    "observe_refusal",
    "observe_request",
    "record_upstream_call",
    "upstream_operation",
    "upstream_outcome",
]

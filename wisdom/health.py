"""Liveness (/healthz, no I/O), readiness (/readyz: database, and the cache when shared), and /metrics.

A replica that is stopping (gunicorn sent its worker SIGTERM: see gunicorn.conf.py) is unready (503) at once,
while it finishes the requests it holds. Otherwise only the database makes a replica unready (503): when it does
not answer ("failed"), or while a migration of this release is unapplied ("unmigrated"). The cache
holds throttle counts, which fail open without it, so a cache that is down is reported as "degraded" and the
replica stays in rotation.

Served by a middleware ahead of the host check: probes (Docker's HEALTHCHECK, a load balancer) and
Prometheus call by IP address, which DJANGO_ALLOWED_HOSTS rightly does not list.
"""

import logging
import threading

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import MethodNotAllowed

from wisdom import draining
from wisdom.cache import cache_ping
from wisdom.errors import json_error
from wisdom.metrics import metrics_view

logger = logging.getLogger(__name__)

_migrations_applied = threading.Event()  # once every migration is applied, no release un-applies one


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    if draining.stopping():
        return JsonResponse({"status": "stopping", "checks": {}}, status=503)
    database = _database_check()
    database_ok = database == "ok"
    checks = {"database": database}
    if _cache_is_shared():
        checks["cache"] = "ok" if cache_ping() else "degraded"
    if not database_ok:
        overall = "unavailable"
    else:
        overall = "ok" if all(result == "ok" for result in checks.values()) else "degraded"
    return JsonResponse({"status": overall, "checks": checks}, status=200 if database_ok else 503)


def forget_migrations_applied() -> None:
    """Check the migrations again on the next /readyz (tests; the result is otherwise kept once true)."""
    _migrations_applied.clear()


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok" if _migrations_are_applied() else "unmigrated"
    except Exception as e:
        logger.error("readiness: database check failed: %s", type(e).__name__)
        return "failed"


def _migrations_are_applied() -> bool:
    if _migrations_applied.is_set():
        return True
    executor = MigrationExecutor(connection)
    unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if unapplied:
        logger.error("readiness: %d migrations are not applied: run `manage.py migrate`", len(unapplied))
        return False
    _migrations_applied.set()
    return True


def _cache_is_shared() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return "locmem" not in backend and "dummy" not in backend


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.probes = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics_view}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info.rstrip("/"))
        if probe is None:
            return self.get_response(request)
        request.probe_route = request.path_info.strip("/")  # the metrics' route label (no URL resolves it)
        if request.method != "GET":
            return json_error(405, str(MethodNotAllowed(request.method).detail), headers={"Allow": "GET"})
        return probe(request)

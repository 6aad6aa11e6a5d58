"""Liveness (/healthz, no I/O) and readiness (/readyz: database, and the cache when shared).

Served by a middleware ahead of the host check: probes (Docker's HEALTHCHECK, a load balancer)
call by IP address, which DJANGO_ALLOWED_HOSTS rightly does not list.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok()}
    if _cache_is_shared():
        checks["cache"] = _cache_ok()
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: "ok" if passed else "failed" for name, passed in checks.items()},
    }
    return JsonResponse(body, status=200 if ready else 503)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception as e:
        logger.error("readiness: database check failed: %s", type(e).__name__)
        return False


def _cache_is_shared() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return "locmem" not in backend and "dummy" not in backend


def _cache_ok() -> bool:
    try:
        cache.set("wisdom:readyz", "1", timeout=5)
        return cache.get("wisdom:readyz") == "1"
    except Exception as e:
        logger.error("readiness: cache check failed: %s", type(e).__name__)
        return False


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.probes = {"/healthz": healthz, "/readyz": readyz}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info.rstrip("/"))
        return probe(request) if probe else self.get_response(request)

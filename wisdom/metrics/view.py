"""The /metrics answer: the replica's samples, to allowed addresses only."""

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from rest_framework.exceptions import NotFound

from wisdom.errors import json_error
from wisdom.metrics.definitions import MULTIPROCESS
from wisdom.metrics.pool import sample_pools


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

"""Each call to the agents service, plain or streamed: counted and timed by operation and outcome."""

import re

import requests

from wisdom.metrics.definitions import UPSTREAM_CALLS, UPSTREAM_LATENCY
from wisdom.metrics.requests import method_label

_PATH_QUERY = re.compile(r"[?#].*$")


def upstream_operation(method: str, path: str) -> str:
    """'POST /entities/ada/chat' -> 'POST /entities/{name}/chat': the contract's paths alternate a collection
    and one of its members, and every member (a name, which a user chose) is replaced."""
    segments = _PATH_QUERY.sub("", path).strip("/").split("/")
    template = "/".join("{name}" if i % 2 else segment for i, segment in enumerate(segments))
    return f"{method_label(method)} /{template}"


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

"""Each answered request: counted and timed by route template and status, streams counted while open."""

import re
import time
from collections.abc import Callable, Iterable, Iterator

from django.http import HttpRequest, HttpResponse

from wisdom.metrics.definitions import (
    EVENT_STREAM,
    HTTP_IN_FLIGHT,
    HTTP_LATENCY,
    HTTP_REQUESTS,
    KNOWN_METHODS,
    OPEN_STREAMS,
    UNMATCHED,
)


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
    labels = (method_label(request.method), route_label(request), str(response.status_code))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_LATENCY.labels(*labels).observe(time.perf_counter() - started)
    if response.streaming and response.get("Content-Type", "").startswith(EVENT_STREAM):
        response.setdefault("X-Accel-Buffering", "no")
        response.streaming_content = _CountedStream(response.streaming_content)
    return response


def method_label(method: str | None) -> str:
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

"""Per-request facts (request id, caller, upstream timing) for logs and outbound headers.

A ContextVar, so each thread (or green thread) serving a request sees only its own.
"""

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

_REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


@dataclass(slots=True)
class RequestContext:
    request_id: str
    user_id: str | None = None
    delegated: bool = False
    upstream_status: int | None = None
    upstream_ms: float | None = None
    stream_outcome: str | None = None  # a streamed response: how it ended (done, error, client_gone)
    client_socket: Any = None  # the client's connection (gunicorn's), watched by a stream for the client leaving


_current: ContextVar[RequestContext | None] = ContextVar("wisdom_request_context", default=None)


def request_id_from_header(value: str | None) -> str:
    """The client's X-Request-ID when it is a sane token, else a fresh one."""
    if value and _REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return uuid.uuid4().hex


def begin(request_id: str) -> RequestContext:
    context = RequestContext(request_id=request_id)
    _current.set(context)
    return context


def resume(context: RequestContext) -> None:
    """A streamed response's body is written after the view returned: its iterator runs in the request's context."""
    _current.set(context)


def end() -> None:
    _current.set(None)


def current() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str:
    context = _current.get()
    return context.request_id if context else "-"

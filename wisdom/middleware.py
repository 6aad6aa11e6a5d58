"""Request id, access log line, and the request body size limit."""

import logging
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from wisdom import request_context
from wisdom.errors import json_error
from wisdom.logging import redact_path
from wisdom.metrics import observe_request

access_logger = logging.getLogger("wisdom.access")


class RequestContextMiddleware:
    """Accepts or makes an X-Request-ID, echoes it, and writes one access line per request.

    A streamed response's line is written when its stream ends (its body is written after this returns),
    with the bytes sent and how it ended; nothing here reads the stream ahead of the client.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        context = request_context.begin(request_context.request_id_from_header(request.headers.get("X-Request-ID")))
        context.client_socket = request.META.get("gunicorn.socket")
        request.request_id = context.request_id
        try:
            response = observe_request(request, self.get_response)  # metrics hook: count, latency, in flight
            response["X-Request-ID"] = context.request_id
            if response.streaming:
                content = response.streaming_content
                response.streaming_content = self._logged_at_end(request, response, content, context, started)
            else:
                self._log(request, response, context, started)
            return response
        finally:
            request_context.end()

    def _logged_at_end(self, request: HttpRequest, response, content, context, started: float) -> Iterator[bytes]:
        """The body as it comes, in the request's context; the access line once it ended or the client left."""
        request_context.resume(context)
        sent, ended = 0, "client_gone"  # closed before its end: the server's write failed
        try:
            for chunk in content:
                sent += len(chunk)
                yield chunk
            ended = "complete"
        except Exception:
            ended = "failed"
            raise
        finally:
            stream = {"stream_outcome": context.stream_outcome or ended, "stream_bytes": sent}
            self._log(request, response, context, started, stream=stream)
            request_context.end()

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponse, context, started: float, stream: dict | None = None) -> None:
        user_id = context.user_id or _authenticated_user_id(request)
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        path = redact_path(request.path)
        access_logger.log(
            level,
            "%s %s %s" + (" stream %s, %d bytes" if stream else ""),
            request.method,
            path,
            status,
            *((stream["stream_outcome"], stream["stream_bytes"]) if stream else ()),
            extra={
                **(stream or {}),
                "method": request.method,
                "path": path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "user_id": user_id,
                "delegated": context.delegated,
                "upstream_status": context.upstream_status,
                "upstream_ms": context.upstream_ms,
            },
        )


def _authenticated_user_id(request: HttpRequest) -> str | None:
    # Django's lazy session user must not be evaluated just to log it (that would query).
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    pk = getattr(user, "pk", None)
    return str(pk) if pk is not None and getattr(user, "is_authenticated", False) else None


def body_refusal(*, content_length: str | None, transfer_encoding: str | None, limit: int) -> tuple[int, str] | None:
    """Why a request body is refused before anything reads it, as (status, detail); None when it may be read.

    The one rule for BodySizeLimitMiddleware and gunicorn's pre_request hook (gunicorn.conf.py), which
    closes the connection of such a request: its unread body is still on the socket.
    """
    if "chunked" in (transfer_encoding or "").lower():
        # A chunked body (no Content-Length) would reach Django as empty: refused, not read as no body.
        return 411, "A request body needs a Content-Length header."
    try:
        length = int(content_length or "0")
    except ValueError:
        return 400, "Content-Length header is not a number."
    if length > limit:
        return 413, f"Request body is too large; the limit is {limit} bytes."
    return None


class BodySizeLimitMiddleware:
    """Refuses a declared body over REQUEST_BODY_MAX_BYTES (413), a chunked one (411) or a Content-Length
    that is not a number (400) before anything reads it (see body_refusal)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.REQUEST_BODY_MAX_BYTES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = body_refusal(
            content_length=request.META.get("CONTENT_LENGTH"),
            transfer_encoding=request.META.get("HTTP_TRANSFER_ENCODING"),
            limit=self.limit,
        )
        if refusal is not None:
            return json_error(*refusal)
        return self.get_response(request)


class TrailingSlashMiddleware:
    """API paths have no trailing slash; one is tolerated by dropping it before URL resolution.

    A rewrite, not a redirect: a redirected POST would lose its body. The admin keeps Django's slashes.
    """

    KEEP_SLASH_PREFIXES = ("/admin/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if len(path) > 1 and path.endswith("/") and not path.startswith(self.KEEP_SLASH_PREFIXES):
            request.path_info = path[:-1]
        return self.get_response(request)

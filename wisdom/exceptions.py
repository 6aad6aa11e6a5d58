"""The one place where errors become responses: every error body is {"detail": ...}."""

import logging
import traceback

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from personal import errors as agents

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A domain error with its own status, detail and optional extra body fields or headers."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail: str = "The request could not be completed."

    def __init__(self, detail: str | None = None, *, extra: dict | None = None, headers: dict | None = None):
        self.detail = detail or self.default_detail
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.detail)


NESTED_TOO_DEEPLY = "JSON parse error - the document is nested too deeply."
DATABASE_BUSY = "The service is busy; try again shortly."
DATABASE_RETRY_AFTER_SECONDS = "5"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ApiError):
        return Response({"detail": exc.detail, **exc.extra}, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, agents.AgentsError):
        return _agents_response(exc)
    if isinstance(exc, OperationalError):
        # No free pooled connection in time, the database unreachable, or SQLite's write lock: a 503 to retry.
        logger.error("database unavailable: %s", type(exc.__cause__ or exc).__name__)
        return Response({"detail": DATABASE_BUSY}, status=503, headers={"Retry-After": DATABASE_RETRY_AFTER_SECONDS})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, RecursionError) and _raised_while_parsing(exc):
        exc = exceptions.ParseError(NESTED_TOO_DEEPLY)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's handler500 answers with a JSON 500 and logs it
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(response.data)
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response


def _raised_while_parsing(exc: BaseException) -> bool:
    """json recurses once per level, so a body of "[[[[..." within the size limit exhausts the stack: a 400."""
    return any(
        frame.f_globals.get("__name__") == "rest_framework.parsers" for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


# --- The agents service (personal/client.py raises; this is the only place that decides the answer) ---
AGENTS_PASSED_THROUGH_DETAILS = {
    400: "The agents service refused the request.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    409: "The request conflicts with the entity's current state.",
    422: "The agents service could not process the request.",
}
AGENTS_RATE_LIMITED = "Too many requests; try again later."
AGENTS_BAD_CREDENTIALS = "The agents service rejected this server's credentials"
AGENTS_FAILED = "The agents service failed; try again later."
AGENTS_UNREACHABLE = "The agents service is unreachable."
AGENTS_TIMEOUT = "The agents service did not answer in time."


def _agents_response(exc: agents.AgentsError) -> Response:
    if isinstance(exc, agents.AgentsRefused):
        return Response({"detail": exc.detail or AGENTS_PASSED_THROUGH_DETAILS[exc.status]}, status=exc.status)
    if isinstance(exc, agents.AgentsRateLimited):
        headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
        return Response({"detail": exc.detail or AGENTS_RATE_LIMITED}, status=429, headers=headers)
    if isinstance(exc, agents.AgentsTimeout):
        return Response({"detail": AGENTS_TIMEOUT}, status=status.HTTP_504_GATEWAY_TIMEOUT)
    if isinstance(exc, agents.AgentsUnreachable):
        return Response({"detail": AGENTS_UNREACHABLE}, status=status.HTTP_502_BAD_GATEWAY)
    if isinstance(exc, agents.AgentsCredentialsRejected):
        return Response({"detail": AGENTS_BAD_CREDENTIALS}, status=status.HTTP_502_BAD_GATEWAY)
    return Response({"detail": AGENTS_FAILED}, status=status.HTTP_502_BAD_GATEWAY)


def _validation_body(errors) -> dict:
    """DRF's field errors kept under `errors`, with a one-line `detail` a person can read."""
    if isinstance(errors, list):
        messages = [str(m) for m in _leaves(errors)]
        return {"detail": " ".join(messages) or "Invalid input."}
    first_field, first_message = next(_field_leaves(errors), (None, "Invalid input."))
    if first_field in (None, "non_field_errors"):
        detail = str(first_message)
    else:
        detail = f"{first_field}: {first_message}"
    return {"detail": detail, "errors": errors}


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _field_leaves(errors: dict):
    for field, value in errors.items():
        for message in _leaves(value):
            yield field, message


def json_not_found(request, exception=None) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def json_server_error(request) -> JsonResponse:
    return JsonResponse({"detail": "Internal server error."}, status=500)


def json_bad_request(request, exception=None) -> JsonResponse:
    return JsonResponse({"detail": "Bad request."}, status=400)


def json_permission_denied(request, exception=None) -> JsonResponse:
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)

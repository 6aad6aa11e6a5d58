"""The one place where errors become responses, generic like DRF's own: each error knows its status.

Framework errors (Django's ValidationError, Http404, PermissionDenied, a database that is busy or lost,
JSON nested too deeply) are first turned into their DRF equivalents; then every APIException, the
apps' ApiErrors included, renders through wisdom/errors.py's one body shape.
"""

import logging
import traceback

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from wisdom.db import database_is_busy_or_lost
from wisdom.errors import ApiError, ServiceUnavailable, error_body, field_errors, json_error, summary
from wisdom.metrics import observe_refusal

logger = logging.getLogger(__name__)

NESTED_TOO_DEEPLY = "JSON parse error - the document is nested too deeply."


def exception_handler(exc: Exception, context: dict) -> Response | None:
    exc = _as_api_exception(exc)
    if exc is None:
        return None  # unexpected: Django's handler500 answers with a JSON 500 and logs it
    response = drf_exception_handler(exc, context)  # WWW-Authenticate, Retry-After for throttles
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        response.data = error_body(status_code=response.status_code, detail=summary(errors), errors=errors)
    else:
        response.data = error_body(status_code=response.status_code, detail=_one_line(exc.detail))
    if isinstance(exc, ApiError):
        response.data.update(exc.extra)
        for name, value in exc.headers.items():
            response[name] = value
    observe_refusal(exc)  # metrics hook: a 429 counted by its kind (wisdom/metrics/)
    return response


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, DjangoValidationError):
        # HackSoft's styleguide: services raise Django's ValidationError; it answers like a serializer's
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, OperationalError):
        if database_is_busy_or_lost(exc):  # a 503 to retry
            logger.error("database unavailable: %s", type(exc.__cause__ or exc).__name__)
            return ServiceUnavailable()
        # e.g. "no such table": retrying never helps, so a 500 (Django's handler logs the traceback too)
        logger.critical("database error that a retry will not fix (are migrations applied?): %s", exc)
        return None
    if isinstance(exc, RecursionError) and _raised_while_parsing(exc):
        return exceptions.ParseError(NESTED_TOO_DEEPLY)
    return None


def _one_line(detail) -> str:
    # simplejwt's InvalidToken carries {"detail", "code", "messages"}: the detail is what a person reads
    if isinstance(detail, dict):
        detail = detail.get("detail", "")
    return str(detail)


def _raised_while_parsing(exc: BaseException) -> bool:
    """json recurses once per level, so a body of "[[[[..." within the size limit exhausts the stack: a 400."""
    return any(
        frame.f_globals.get("__name__") == "rest_framework.parsers" for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


# --- Django's own error views (outside DRF): the same body shape ---------------------------------------


def json_bad_request(request, exception=None) -> JsonResponse:
    return json_error(status.HTTP_400_BAD_REQUEST, exceptions.ParseError.default_detail)


def json_permission_denied(request, exception=None) -> JsonResponse:
    return json_error(status.HTTP_403_FORBIDDEN, exceptions.PermissionDenied.default_detail)


def json_not_found(request, exception=None) -> JsonResponse:
    return json_error(status.HTTP_404_NOT_FOUND, exceptions.NotFound.default_detail)


def json_server_error(request) -> JsonResponse:
    return json_error(status.HTTP_500_INTERNAL_SERVER_ERROR, exceptions.APIException.default_detail)

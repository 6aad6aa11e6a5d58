"""The project's one error base and the one shape of every error body. Imports no app.

Every error the API answers is {"detail": "<one line a person can read>"}; a 400 adds
{"errors": {"<field>": ["<message>", ...]}}, with errors that belong to no field under NON_FIELD_ERRORS.
"""

from collections.abc import Iterator
from typing import Any

from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings

NON_FIELD_ERRORS = api_settings.NON_FIELD_ERRORS_KEY  # "non_field_errors", never Django's "__all__"
INVALID_INPUT = "Invalid input."


class ApiError(APIException):
    """A domain error that knows its own status and public detail, with optional extra body fields and headers.

    Apps subclass it (an invite that is gone, an upstream that timed out); wisdom/exceptions.py renders any
    of them without knowing which app raised it.
    """

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail: str = "The request could not be completed."
    default_code: str = "error"

    def __init__(self, detail: str | None = None, *, extra: dict | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.extra = extra or {}
        self.headers = headers or {}


class ServiceUnavailable(ApiError):
    """The database is busy or the connection was lost (wisdom.db.database_is_busy_or_lost): retry shortly."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is busy; try again shortly."
    default_code = "service_unavailable"
    RETRY_AFTER_SECONDS = "5"

    def __init__(self):
        super().__init__(headers={"Retry-After": self.RETRY_AFTER_SECONDS})


def field_errors(detail: Any) -> dict[str, list[str]]:
    """DRF's validation detail (a list, or a dict nested by serializer) as {field: [messages]}."""
    if not isinstance(detail, dict):
        return {NON_FIELD_ERRORS: [str(message) for _, message in _leaves("", detail)]}
    errors: dict[str, list[str]] = {}
    for field, message in _leaves("", detail):
        errors.setdefault(field or NON_FIELD_ERRORS, []).append(str(message))
    return errors


def _leaves(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    # nested serializers give {"a": {"b": [...]}} or {"a": [{"b": [...]}]}: reported as "a.b" and "a.0.b"
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{prefix}.{key}" if prefix else str(key), item)
    elif isinstance(value, list):
        nested = any(isinstance(item, dict | list) for item in value)
        for index, item in enumerate(value):
            yield from _leaves(f"{prefix}.{index}" if nested and prefix else prefix, item)
    else:
        yield prefix, value


def summary(errors: dict[str, list[str]]) -> str:
    """The first message, prefixed with its field: what `detail` says about a 400."""
    for field, messages in errors.items():
        for message in messages:
            return message if field == NON_FIELD_ERRORS else f"{field}: {message}"
    return INVALID_INPUT


def error_body(*, status_code: int, detail: str, errors: dict[str, list[str]] | None = None) -> dict:
    body: dict[str, Any] = {"detail": detail}
    if status_code == status.HTTP_400_BAD_REQUEST:
        body["errors"] = errors or {NON_FIELD_ERRORS: [detail]}
    return body


def json_error(status_code: int, detail: str, *, headers: dict | None = None) -> JsonResponse:
    """An error answered outside DRF (middleware, Django's own handlers) in the same shape."""
    return JsonResponse(error_body(status_code=status_code, detail=detail), status=status_code, headers=headers)

"""Shared OpenAPI pieces: error responses every view documents the same way."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers

from wisdom.errors import NON_FIELD_ERRORS


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The first message, prefixed with its field: `field: message`.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=f"Messages per field; those that belong to no field (a body that is not JSON, a rule across "
        f"fields, a header) under `{NON_FIELD_ERRORS}`.",
    )


def error(description: str, example: str | None = None) -> OpenApiResponse:
    examples = [OpenApiExample(description, value={"detail": example})] if example else []
    return OpenApiResponse(ErrorSerializer, description=description, examples=examples)


BAD_REQUEST = OpenApiResponse(
    ValidationErrorSerializer,
    description="Invalid input.",
    examples=[
        OpenApiExample(
            "A field",
            value={
                "detail": "email: Enter a valid email address.",
                "errors": {"email": ["Enter a valid email address."]},
            },
        ),
        OpenApiExample(
            "Not JSON",
            value={
                "detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)",
                "errors": {NON_FIELD_ERRORS: ["JSON parse error - Expecting value: line 1 column 1 (char 0)"]},
            },
        ),
    ],
)
UNAUTHENTICATED = error("No valid credentials.", exceptions.NotAuthenticated.default_detail)
FORBIDDEN = error("Authenticated, but not allowed.", exceptions.PermissionDenied.default_detail)
NOT_FOUND = error("Not found.", exceptions.NotFound.default_detail)
THROTTLED = error("Too many requests; see Retry-After.", "Request was throttled. Expected available in 60 seconds.")
PAYLOAD_TOO_LARGE = error("Request body over the size limit.", "Request body is too large; the limit is 1048576 bytes.")

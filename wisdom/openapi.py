"""Shared OpenAPI pieces: error responses every view documents the same way."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Messages per field.")


def error(description: str, example: str | None = None) -> OpenApiResponse:
    examples = [OpenApiExample(description, value={"detail": example})] if example else []
    return OpenApiResponse(ErrorSerializer, description=description, examples=examples)


BAD_REQUEST = OpenApiResponse(ValidationErrorSerializer, description="Invalid input.")
UNAUTHENTICATED = error("No valid credentials.", "Authentication credentials were not provided.")
FORBIDDEN = error("Authenticated, but not allowed.", "You do not have permission to perform this action.")
NOT_FOUND = error("Not found.", "Not found.")
THROTTLED = error("Too many requests; see Retry-After.", "Request was throttled. Expected available in 60 seconds.")
PAYLOAD_TOO_LARGE = error("Request body over the size limit.", "Request body is too large; the limit is 1048576 bytes.")

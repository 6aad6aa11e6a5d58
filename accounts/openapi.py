"""OpenAPI of deleting an account and exporting its data: each operation with exactly the statuses it can answer
(see wisdom.openapi.operation)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from accounts.errors import (
    EXPORT_DAILY_LIMIT,
    EXPORT_DAILY_LIMIT_CODE,
    EXPORT_IN_PROGRESS,
    EXPORT_IN_PROGRESS_CODE,
    EXPORT_NOT_FOUND,
    WRONG_PASSWORD,
)
from accounts.lifecycle_serializers import (
    DeleteAccountSerializer,
    DeletionStartedSerializer,
    ExportCreatedSerializer,
    ExportDocumentSerializer,
    ExportRefusedSerializer,
    ExportSerializer,
)
from accounts.permissions import API_KEY_REFUSED
from wisdom import openapi
from wisdom.openapi import PERSON_WITHOUT_API_KEY

ACCOUNT_DELETION_STARTED = (
    "Your account is being deleted: you are logged out everywhere and your API keys no longer work. "
    "An email confirms it."
)
NOT_ACCEPTABLE = {406: openapi.NOT_ACCEPTABLE}
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The export id.")


def _coded_429(description: str, examples: dict[str, tuple[str, str]]) -> OpenApiResponse:
    return OpenApiResponse(
        ExportRefusedSerializer,
        description=description,
        examples=[
            OpenApiExample(name, value={"detail": detail, "code": code}, response_only=True)
            for name, (detail, code) in examples.items()
        ],
    )


DELETE_ACCOUNT = openapi.operation(
    "deleteAccount",
    caller=PERSON_WITHOUT_API_KEY,
    body=True,
    tags=["auth"],
    summary="Delete the caller's account and all its data",
    description="At once every access and refresh token, every API key and the password stop working and an email "
    "confirms the request. Then the background worker deletes every entity (and its messages) in the agents "
    "service, retrying while it is unavailable, and finally the account and its personal data; the email address "
    "is then free to sign up again. A wrong password counts as a failed login. Only the person, with their "
    "password: not by API key, not by a service acting for them.",
    request=DeleteAccountSerializer,
    responses={
        202: DeletionStartedSerializer,
        400: openapi.validation_error(
            "Invalid input, a wrong password, or a malformed credential header.",
            {"Wrong password": {"password": [WRONG_PASSWORD]}},
        ),
        403: openapi.error(
            "Called with an API key, by a service acting for the person, or for an account without a password.",
            API_KEY_REFUSED,
        ),
        **NOT_ACCEPTABLE,
        429: openapi.error(
            "Too many failed logins (wrong passwords here among them); see Retry-After.",
            "Request was throttled. Expected available in 60 seconds.",
        ),
    },
    examples=[
        OpenApiExample("Started", value={"detail": ACCOUNT_DELETION_STARTED, "status": "pending"}, response_only=True)
    ],
)

API_KEY_REFUSED_RESPONSE = openapi.error(
    "Called with an API key (X-API-Key), which this route refuses.", API_KEY_REFUSED
)

CREATE_EXPORT = openapi.operation(
    "createExport",
    caller=PERSON_WITHOUT_API_KEY,
    tags=["auth"],
    summary="Ask for an export of all the caller's data",
    description="The background worker builds one JSON document: the account, API keys (never a secret), invites "
    "issued and redeemed, every entity and every message. GET /auth/me/exports shows when it is ready (an email "
    "says so too). One pending at a time, and EXPORT_DAILY_LIMIT per 24 hours.",
    request=None,
    responses={
        202: ExportCreatedSerializer,
        403: API_KEY_REFUSED_RESPONSE,
        **NOT_ACCEPTABLE,
        429: _coded_429(
            "An export is pending, or the daily limit is reached; see Retry-After and `code`.",
            {
                "Pending": (EXPORT_IN_PROGRESS, EXPORT_IN_PROGRESS_CODE),
                "Daily limit": (EXPORT_DAILY_LIMIT, EXPORT_DAILY_LIMIT_CODE),
            },
        ),
    },
)

LIST_EXPORTS = openapi.operation(
    "listExports",
    caller=PERSON_WITHOUT_API_KEY,
    tags=["auth"],
    summary="The caller's data exports, newest first",
    description="`ready` ones have a `download_url` until `expires_at` (EXPORT_DOWNLOAD_DAYS), then are `expired`.",
    responses={200: ExportSerializer(many=True), 403: API_KEY_REFUSED_RESPONSE, **NOT_ACCEPTABLE},
)

DOWNLOAD_EXPORT = openapi.operation(
    "downloadExport",
    caller=PERSON_WITHOUT_API_KEY,
    tags=["auth"],
    summary="Download one of the caller's ready exports",
    description="Answers the document (as an attachment) to its owner only, by bearer token or a logged-in "
    "session; anyone else, and an export that is not ready or has expired, is a 404.",
    parameters=[ID_PARAMETER],
    # the session (a browser that logged in through the site) is no scheme a generated client should offer
    auth=[{"jwtAuth": []}],
    responses={
        200: ExportDocumentSerializer,
        403: API_KEY_REFUSED_RESPONSE,
        404: openapi.error("Not the caller's export, not ready, or expired.", EXPORT_NOT_FOUND),
        **NOT_ACCEPTABLE,
    },
)

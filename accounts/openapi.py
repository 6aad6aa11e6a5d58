"""OpenAPI of the account routes (/auth): each operation with exactly the statuses it can answer (see
wisdom.openapi.operation), its examples and error responses."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from accounts.errors import (
    API_KEY_NOT_FOUND,
    EXPORT_DAILY_LIMIT,
    EXPORT_DAILY_LIMIT_CODE,
    EXPORT_IN_PROGRESS,
    EXPORT_IN_PROGRESS_CODE,
    EXPORT_NOT_FOUND,
    INVALID_CREDENTIALS,
    INVALID_REFRESH,
    RESET_LINK_INVALID,
    SESSION_ENDED,
    WRONG_CURRENT_PASSWORD,
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
from accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    DetailSerializer,
    LoginSerializer,
    MeSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    TokenPairSerializer,
)
from accounts.services.password_reset import RESET_REQUESTED
from wisdom import openapi
from wisdom.openapi import PERSON_WITHOUT_API_KEY

ACCOUNT_DELETION_STARTED = (
    "Your account is being deleted: you are logged out everywhere and your API keys no longer work. "
    "An email confirms it."
)
# DRF's negotiation on these views: an Accept that names no JSON type is a 406.
NOT_ACCEPTABLE = {406: openapi.NOT_ACCEPTABLE}
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The export id.")
API_KEY_REFUSED_RESPONSE = openapi.error(
    "Called with an API key (X-API-Key), which this route refuses.", API_KEY_REFUSED
)
TOKEN_EXAMPLE = OpenApiExample(
    "Tokens",
    value={"access_token": "eyJ...", "refresh_token": "eyJ...", "token_type": "bearer", "expires_in": 1800},
    response_only=True,
)
THROTTLED_RESET = openapi.error(
    "Too many reset requests and confirmations from this address; see Retry-After.",
    "Request was throttled. Expected available in 360 seconds.",
)


def _coded_429(description: str, examples: dict[str, tuple[str, str]]) -> OpenApiResponse:
    return OpenApiResponse(
        ExportRefusedSerializer,
        description=description,
        examples=[
            OpenApiExample(name, value={"detail": detail, "code": code}, response_only=True)
            for name, (detail, code) in examples.items()
        ],
    )


# --- Sessions, passwords, the profile, API keys ---------------------------------------------------------
LOGIN = openapi.operation(
    "login",
    caller=openapi.PUBLIC,
    body=True,
    tags=["auth"],
    summary="Log in with email and password",
    request=LoginSerializer,
    responses={
        200: TokenPairSerializer,
        401: openapi.error("Wrong email or password, or an inactive account.", INVALID_CREDENTIALS),
        **NOT_ACCEPTABLE,
        429: openapi.error(
            "Too many failed logins from this address, or too many attempts; see Retry-After.",
            "Request was throttled. Expected available in 60 seconds.",
        ),
    },
    examples=[TOKEN_EXAMPLE],
)

REFRESH_TOKENS = openapi.operation(
    "refreshTokens",
    caller=openapi.PUBLIC,
    body=True,
    tags=["auth"],
    summary="Trade a refresh token for a new pair (the old refresh token stops working)",
    request=RefreshSerializer,
    responses={
        200: TokenPairSerializer,
        401: OpenApiResponse(
            openapi.ApiErrorSerializer,
            description="Expired, tampered, reused or not a refresh token; or one from a session that has "
            "ended (logout-all, a password change or reset).",
            examples=[
                OpenApiExample("Invalid", value={"detail": INVALID_REFRESH}, response_only=True),
                OpenApiExample("Session ended", value={"detail": SESSION_ENDED}, response_only=True),
            ],
        ),
        **NOT_ACCEPTABLE,
    },
    examples=[TOKEN_EXAMPLE],
)

LOGOUT = openapi.operation(
    "logout",
    caller=openapi.PUBLIC,
    body=True,
    tags=["auth"],
    summary="Log out one session: its refresh token never works again",
    description="Idempotent: a refresh token of ours that is already expired, used or from an ended "
    "session is 204 too. The session's access token works until it expires (at most "
    "JWT_ACCESS_TOKEN_MINUTES); /auth/logout-all ends access tokens at once.",
    request=RefreshSerializer,
    responses={
        204: None,
        401: openapi.error("Not a refresh token signed by this server.", INVALID_REFRESH),
        **NOT_ACCEPTABLE,
    },
)

LOGOUT_ALL = openapi.operation(
    "logoutAll",
    caller=openapi.PERSON,
    tags=["auth"],
    summary="Log out everywhere: every access and refresh token of the caller stops working at once",
    description="API keys are not sessions: they keep working until revoked (DELETE /auth/api-keys/{id}).",
    request=None,
    responses={204: None, **NOT_ACCEPTABLE},
)

CHANGE_PASSWORD = openapi.operation(
    "changePassword",
    caller=openapi.PERSON_WITHOUT_API_KEY,
    body=True,
    tags=["auth"],
    summary="Change the password; every other session ends",
    description="Answers a fresh token pair: every token issued before, this request's included, stops "
    "working; API keys keep working. Django's password validators apply. A wrong current password counts as a "
    "failed login. The owner is told by email (when, from which address).",
    request=PasswordChangeSerializer,
    responses={
        200: TokenPairSerializer,
        400: openapi.validation_error(
            "Invalid input, a wrong current password, a new password the validators refuse, or a "
            "malformed credential header.",
            {
                "Wrong current password": {"current_password": [WRONG_CURRENT_PASSWORD]},
                "Weak password": {
                    "new_password": ["This password is too short. It must contain at least 8 characters."]
                },
            },
        ),
        403: API_KEY_REFUSED_RESPONSE,
        **NOT_ACCEPTABLE,
        429: openapi.error(
            "Too many failed logins (wrong current passwords among them); see Retry-After.",
            "Request was throttled. Expected available in 60 seconds.",
        ),
    },
    examples=[TOKEN_EXAMPLE],
)

GET_ME = openapi.operation(
    "getMe",
    caller=openapi.PERSON,
    tags=["auth"],
    summary="The caller's own account",
    responses={200: MeSerializer, **NOT_ACCEPTABLE},
)

UPDATE_ME = openapi.operation(
    "updateMe",
    caller=openapi.PERSON,
    body=True,
    tags=["auth"],
    summary="Change the caller's names",
    description="Only first_name and last_name; any other field is a 400.",
    request=MeUpdateSerializer,
    responses={
        200: MeSerializer,
        400: openapi.validation_error(
            "Invalid input, a field other than the names, or a malformed credential header.",
            {"Another field": {"email": ["This field cannot be changed here."]}},
        ),
        **NOT_ACCEPTABLE,
    },
)

REQUEST_PASSWORD_RESET = openapi.operation(
    "requestPasswordReset",
    caller=openapi.PUBLIC,
    body=True,
    tags=["auth"],
    summary="Ask for a password reset link by email",
    description="Always 202 with the same body, whether or not an account uses the email (an active "
    "account with a password gets the link, valid PASSWORD_RESET_TIMEOUT seconds, once). Per email at most "
    "PASSWORD_RESET_EMAIL_LIMIT links per window are sent; further asks get the same 202.",
    request=PasswordResetSerializer,
    responses={202: DetailSerializer, **NOT_ACCEPTABLE, 429: THROTTLED_RESET},
    examples=[OpenApiExample("Asked", value={"detail": RESET_REQUESTED}, response_only=True)],
)

CONFIRM_PASSWORD_RESET = openapi.operation(
    "confirmPasswordReset",
    caller=openapi.PUBLIC,
    body=True,
    tags=["auth"],
    summary="Set a new password from a reset link; every earlier session ends",
    description="`uid` and `token` are the link's query parameters. The link then never works again; it "
    "also stops working when it expires or the password changes otherwise. Every earlier session ends and "
    "every API key of the account is revoked; the owner is told by email (when, from which address).",
    request=PasswordResetConfirmSerializer,
    responses={
        200: TokenPairSerializer,
        400: openapi.validation_error(
            "Invalid input, a link that is invalid, used or expired, or a new password the validators refuse.",
            {
                "Invalid or expired link": {openapi.NON_FIELD_ERRORS: [RESET_LINK_INVALID]},
                "Weak password": {
                    "new_password": ["This password is too short. It must contain at least 8 characters."]
                },
            },
        ),
        **NOT_ACCEPTABLE,
        429: THROTTLED_RESET,
    },
    examples=[TOKEN_EXAMPLE],
)

LIST_API_KEYS = openapi.operation(
    "listApiKeys",
    caller=openapi.PERSON,
    tags=["auth"],
    summary="The caller's API keys (never their secrets), revoked ones included",
    responses={200: ApiKeySerializer(many=True), **NOT_ACCEPTABLE},
)

CREATE_API_KEY = openapi.operation(
    "createApiKey",
    caller=openapi.PERSON_WITHOUT_API_KEY,
    body=True,
    tags=["auth"],
    summary="Make an API key; the key is in this answer only",
    description="Send the key as `X-API-Key: <key>`: it acts as you on every route a person may use, "
    "except the admin API, /auth/password and making keys (403). Revoked, expired, or whose owner is "
    "inactive: 401. The owner is told by email (the key's name and prefix, when, from which address).",
    request=ApiKeyCreateSerializer,
    responses={201: ApiKeyCreatedSerializer, 403: API_KEY_REFUSED_RESPONSE, **NOT_ACCEPTABLE},
)

REVOKE_API_KEY = openapi.operation(
    "revokeApiKey",
    caller=openapi.PERSON,
    tags=["auth"],
    summary="Revoke one of the caller's API keys, for good",
    description="Idempotent. The key is kept, revoked, so what it did can still be traced.",
    responses={
        204: None,
        404: openapi.error("Not one of the caller's keys.", API_KEY_NOT_FOUND),
        **NOT_ACCEPTABLE,
    },
)

# --- Deleting the account, exporting its data -----------------------------------------------------------
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

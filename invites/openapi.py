"""OpenAPI pieces of the invite routes: parameters, error responses, examples, and each operation's schema."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from accounts.emails import EMAIL_TAKEN
from accounts.serializers import TokenPairSerializer
from invites.errors import (
    EMAIL_REQUIRED,
    EMAIL_REQUIRED_TO_SEND,
    GONE_DETAILS,
    INVITE_NOT_FOUND,
    NO_EMAIL_TO_SEND,
    NOT_SENDABLE_DETAILS,
    SENT_RECENTLY,
)
from invites.models import InviteStatus
from invites.serializers import (
    InviteCreateSerializer,
    InviteDetailSerializer,
    InviteGoneSerializer,
    InviteListFilterSerializer,
    InviteNotSendableSerializer,
    InvitePreviewSerializer,
    InviteSerializer,
    RedeemSerializer,
)
from wisdom import openapi

TOKEN_PARAMETER = OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH, description="The invite token.")
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The invite id.")

INVITE_NOT_FOUND_RESPONSE = openapi.error("No invite with this token or id.", INVITE_NOT_FOUND)
GONE_RESPONSE = OpenApiResponse(
    InviteGoneSerializer,
    description="The invite exists but is expired, used up or revoked; `detail` and `status` say which.",
    examples=[
        OpenApiExample(f"Gone: {s}", value={"detail": GONE_DETAILS[s], "status": s}, response_only=True)
        for s in (InviteStatus.EXPIRED, InviteStatus.USED_UP, InviteStatus.REVOKED)
    ],
)
INVITE_EXAMPLE = {
    "id": "3f2b8a1e-8d44-4c55-9a8e-2d3c1b0a9f77",
    "token": "q0v3Yl6Xw1m8N2b5k7J9h4G6f3D1s8A0p2L5o7I9u1E",
    "url": "https://app.example.com/personal/invite?token=q0v3Yl6Xw1m8N2b5k7J9h4G6f3D1s8A0p2L5o7I9u1E",
    "email": "newcomer@example.com",
    "note": "Beta cohort 3",
    "expires_at": "2026-01-08T12:00:00Z",
    "max_uses": 1,
    "use_count": 0,
    "status": "active",
    "inviter_name": "Stella",
    "created_at": "2026-01-01T12:00:00Z",
    "revoked_at": None,
    "last_sent_at": None,
}
# The admin API takes the service key or a staff member's bearer token; an API key is refused (403).
ADMIN_AUTH = [{"serviceKey": []}, {"jwtAuth": []}]
STATUS_DOC = (
    "`status` is `active`, `expired`, `used_up` or `revoked`; when several apply, "
    "`revoked` wins over `used_up`, which wins over `expired`."
)


LIST = dict(
    tags=["invites"],
    summary="List invites, newest first",
    description=f"Paginated with `limit` (default 50, at most 200) and `offset`. {STATUS_DOC}",
    parameters=[InviteListFilterSerializer],
    responses={
        200: InviteSerializer(many=True),
        400: openapi.BAD_REQUEST,
        401: openapi.UNAUTHENTICATED,
        403: openapi.FORBIDDEN,
    },
    examples=[
        OpenApiExample(
            "A page",
            value=INVITE_EXAMPLE,  # drf-spectacular wraps one item in a list in the page envelope
            response_only=True,
        )
    ],
    auth=ADMIN_AUTH,
)

CREATE = dict(
    tags=["invites"],
    summary="Issue an invite",
    description="For a service key (without X-On-Behalf-Of) or a staff user, who is recorded as the inviter. "
    f"Give `expires_at` or `expires_in_days`, or neither for an invite that never expires. {STATUS_DOC} "
    "With `send_email: true` the invite is also emailed to `email`, queued in the same transaction (the mail "
    "worker sends it); `last_sent_at` then says when.",
    request=InviteCreateSerializer,
    responses={
        201: InviteSerializer,
        400: OpenApiResponse(
            openapi.BAD_REQUEST.response,
            description="Invalid input, or `send_email` without an email.",
            examples=[
                OpenApiExample(
                    "send_email without an email",
                    value={"detail": f"email: {EMAIL_REQUIRED_TO_SEND}", "errors": {"email": [EMAIL_REQUIRED_TO_SEND]}},
                    response_only=True,
                )
            ],
        ),
        401: openapi.UNAUTHENTICATED,
        403: openapi.FORBIDDEN,
        413: openapi.PAYLOAD_TOO_LARGE,
    },
    examples=[
        OpenApiExample(
            "A single-use invite for a week",
            value={"email": "newcomer@example.com", "note": "Beta cohort 3", "expires_in_days": 7},
            request_only=True,
        ),
        OpenApiExample("Issued", value=INVITE_EXAMPLE, response_only=True, status_codes=["201"]),
    ],
    auth=ADMIN_AUTH,
)

DETAIL = dict(
    tags=["invites"],
    summary="One invite with its redemptions",
    parameters=[ID_PARAMETER],
    responses={
        200: InviteDetailSerializer,
        400: openapi.BAD_REQUEST,
        401: openapi.UNAUTHENTICATED,
        403: openapi.FORBIDDEN,
        404: INVITE_NOT_FOUND_RESPONSE,
    },
    examples=[
        OpenApiExample(
            "Used once",
            value={
                **INVITE_EXAMPLE,
                "use_count": 1,
                "status": "used_up",
                "redemptions": [
                    {
                        "user_id": "9a1c2e3d-4b5f-4a6b-8c7d-0e1f2a3b4c5d",
                        "email": "newcomer@example.com",
                        "redeemed_at": "2026-01-02T09:30:00Z",
                    }
                ],
            },
            response_only=True,
        )
    ],
    auth=ADMIN_AUTH,
)

REVOKE = dict(
    tags=["invites"],
    summary="Revoke an invite",
    description="It stops working at once and stays on record; revoking twice is harmless.",
    parameters=[ID_PARAMETER],
    request=None,
    responses={
        204: OpenApiResponse(description="Revoked."),
        400: openapi.BAD_REQUEST,
        401: openapi.UNAUTHENTICATED,
        403: openapi.FORBIDDEN,
        404: INVITE_NOT_FOUND_RESPONSE,
    },
    auth=ADMIN_AUTH,
)

SEND = dict(
    tags=["invites"],
    summary="Email an invite to its address (again)",
    description="Queues the invite's email (its share link, who invites, the expiry) for the mail worker and "
    "answers with the invite, `last_sent_at` set. At most one sending per invite per "
    "INVITE_RESEND_INTERVAL_SECONDS (60 by default): sooner is 429 with Retry-After.",
    parameters=[ID_PARAMETER],
    request=None,
    responses={
        202: InviteSerializer,
        400: openapi.BAD_REQUEST,
        401: openapi.UNAUTHENTICATED,
        403: openapi.FORBIDDEN,
        404: INVITE_NOT_FOUND_RESPONSE,
        409: OpenApiResponse(
            InviteNotSendableSerializer,
            description="Revoked, expired or used up (`status` says which), or without an email.",
            examples=[
                OpenApiExample("No email", value={"detail": NO_EMAIL_TO_SEND}, response_only=True),
                *[
                    OpenApiExample(
                        f"Not sendable: {s}", value={"detail": NOT_SENDABLE_DETAILS[s], "status": s}, response_only=True
                    )
                    for s in (InviteStatus.EXPIRED, InviteStatus.USED_UP, InviteStatus.REVOKED)
                ],
            ],
        ),
        429: openapi.error(
            "Sent less than INVITE_RESEND_INTERVAL_SECONDS ago; see Retry-After.", SENT_RECENTLY.format(seconds=42)
        ),
    },
    auth=ADMIN_AUTH,
)

PREVIEW = dict(
    tags=["invites"],
    summary="What an invite offers, before signing up",
    description="Public. `inviter_name` is the inviter's first name, else their full name, else null; "
    "never their email.",
    parameters=[TOKEN_PARAMETER],
    responses={
        200: InvitePreviewSerializer,
        404: INVITE_NOT_FOUND_RESPONSE,
        410: GONE_RESPONSE,
        429: openapi.THROTTLED,
    },
    examples=[
        OpenApiExample(
            "Active",
            value={
                "email": "newcomer@example.com",
                "inviter_name": "Stella",
                "expires_at": "2026-01-08T12:00:00Z",
                "max_uses": 1,
                "use_count": 0,
            },
            response_only=True,
        )
    ],
    auth=[],
)

REDEEM = dict(
    tags=["invites"],
    summary="Turn an invite into an account and a session",
    description="Public. Creates the account and answers with the same tokens as `/auth/login`. "
    "The email is the body's, else the invite's. A refused attempt never consumes a use. Every other check "
    "(the fields, the password validators) comes before the 409 for a taken email.",
    parameters=[TOKEN_PARAMETER],
    request=RedeemSerializer,
    responses={
        201: TokenPairSerializer,
        400: OpenApiResponse(
            openapi.BAD_REQUEST.response,
            description="Invalid input, a password the validators refuse, or no email anywhere.",
            examples=[
                OpenApiExample(
                    "No email",
                    value={"detail": f"email: {EMAIL_REQUIRED}", "errors": {"email": [EMAIL_REQUIRED]}},
                    response_only=True,
                ),
                OpenApiExample(
                    "Weak password",
                    value={
                        "detail": "password: This password is too short. It must contain at least 8 characters.",
                        "errors": {"password": ["This password is too short. It must contain at least 8 characters."]},
                    },
                    response_only=True,
                ),
            ],
        ),
        404: INVITE_NOT_FOUND_RESPONSE,
        409: openapi.error("An account with this email already exists (in any case).", EMAIL_TAKEN),
        410: GONE_RESPONSE,
        413: openapi.PAYLOAD_TOO_LARGE,
        429: openapi.THROTTLED,
    },
    examples=[
        OpenApiExample(
            "Sign up",
            value={"password": "a-long-and-unusual-passphrase", "first_name": "Nia", "last_name": "Okafor"},
            request_only=True,
        ),
        OpenApiExample(
            "Tokens",
            value={"access_token": "eyJ...", "refresh_token": "eyJ...", "token_type": "bearer", "expires_in": 1800},
            response_only=True,
            status_codes=["201"],
        ),
    ],
    auth=[],
)

"""OpenAPI of the invite routes: parameters, error responses, examples, and each operation's schema with exactly
the statuses it can answer (see wisdom.openapi.operation). The admin routes are the service's (SERVICE: the
service key alone, or staff); preview and redeem are public."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import PermissionDenied

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
from wisdom.openapi import PUBLIC, SERVICE

TOKEN_PARAMETER = OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH, description="The invite token.")
ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The invite id.")

INVITE_NOT_FOUND_RESPONSE = openapi.error("No invite with this token or id.", INVITE_NOT_FOUND)
NOT_STAFF = openapi.error(
    "The caller is a user who is not staff, or came with an API key (X-API-Key), which the admin API refuses.",
    PermissionDenied.default_detail,
)
# DRF's negotiation on these views: an Accept that names no JSON type is a 406 (the personal routes answer JSON).
NOT_ACCEPTABLE = {406: openapi.NOT_ACCEPTABLE}
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
STATUS_DOC = (
    "`status` is `active`, `expired`, `used_up` or `revoked`; when several apply, "
    "`revoked` wins over `used_up`, which wins over `expired`."
)


LIST = openapi.operation(
    "listInvites",
    caller=SERVICE,
    tags=["invites"],
    summary="List invites, newest first",
    description=f"Paginated with `limit` (default 50, at most 200) and `offset`. {STATUS_DOC}",
    parameters=[InviteListFilterSerializer],
    responses={
        200: InviteSerializer(many=True),
        400: openapi.validation_error(
            "Invalid filters or paging, or a malformed credential header.",
            {"A limit that is not a number": {"limit": ["A valid integer is required."]}},
        ),
        403: NOT_STAFF,
        **NOT_ACCEPTABLE,
    },
    examples=[
        OpenApiExample(
            "A page",
            value=INVITE_EXAMPLE,  # drf-spectacular wraps one item in a list in the page envelope
            response_only=True,
        )
    ],
)

CREATE = openapi.operation(
    "createInvite",
    caller=SERVICE,
    body=True,
    tags=["invites"],
    summary="Issue an invite",
    description="By the service key alone or a staff user, who is recorded as the inviter. Every field is "
    "optional: `max_uses` defaults to 1, and an invite given neither `expires_at` nor `expires_in_days` (an empty "
    f"body included) **never expires** until it is revoked. {STATUS_DOC} With `send_email: true` the invite is "
    "also emailed to `email` (then required), queued in the same transaction (the mail worker sends it); "
    "`last_sent_at` then says when.",
    request=InviteCreateSerializer,
    responses={
        201: InviteSerializer,
        400: openapi.validation_error(
            "Invalid input, `send_email` without an email, or a malformed credential header.",
            {
                "send_email without an email": {"email": [EMAIL_REQUIRED_TO_SEND]},
                "Both expiries": {"expires_at": ["Give either expires_at or expires_in_days, not both."]},
            },
        ),
        403: NOT_STAFF,
        **NOT_ACCEPTABLE,
    },
    examples=[
        OpenApiExample(
            "A single-use invite for a week",
            value={"email": "newcomer@example.com", "note": "Beta cohort 3", "expires_in_days": 7},
            request_only=True,
        ),
        OpenApiExample("Issued", value=INVITE_EXAMPLE, response_only=True, status_codes=["201"]),
    ],
)

DETAIL = openapi.operation(
    "getInvite",
    caller=SERVICE,
    tags=["invites"],
    summary="One invite with its redemptions",
    parameters=[ID_PARAMETER],
    responses={200: InviteDetailSerializer, 403: NOT_STAFF, 404: INVITE_NOT_FOUND_RESPONSE, **NOT_ACCEPTABLE},
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
)

REVOKE = openapi.operation(
    "revokeInvite",
    caller=SERVICE,
    tags=["invites"],
    summary="Revoke an invite",
    description="It stops working at once and stays on record; revoking twice is harmless.",
    parameters=[ID_PARAMETER],
    request=None,
    responses={
        204: OpenApiResponse(description="Revoked."),
        403: NOT_STAFF,
        404: INVITE_NOT_FOUND_RESPONSE,
        **NOT_ACCEPTABLE,
    },
)

SEND = openapi.operation(
    "sendInvite",
    caller=SERVICE,
    tags=["invites"],
    summary="Email an invite to its address (again)",
    description="Queues the invite's email (its share link, who invites, the expiry) for the mail worker and "
    "answers with the invite, `last_sent_at` set. At most one sending per invite per "
    "INVITE_RESEND_INTERVAL_SECONDS (60 by default): sooner is 429 with Retry-After.",
    parameters=[ID_PARAMETER],
    request=None,
    responses={
        202: InviteSerializer,
        403: NOT_STAFF,
        404: INVITE_NOT_FOUND_RESPONSE,
        **NOT_ACCEPTABLE,
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
)

PREVIEW = openapi.operation(
    "previewInvite",
    caller=PUBLIC,
    tags=["invites"],
    summary="What an invite offers, before signing up",
    description="Public. `inviter_name` is the inviter's first name, else their full name, else null; "
    "never their email.",
    parameters=[TOKEN_PARAMETER],
    responses={
        200: InvitePreviewSerializer,
        404: INVITE_NOT_FOUND_RESPONSE,
        **NOT_ACCEPTABLE,
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
)

REDEEM = openapi.operation(
    "redeemInvite",
    caller=PUBLIC,
    body=True,
    tags=["invites"],
    summary="Turn an invite into an account and a session",
    description="Public. Creates the account and answers with the same tokens as `/auth/login`. "
    "The email is the body's, else the invite's. A refused attempt never consumes a use. Every other check "
    "(the fields, the password validators) comes before the 409 for a taken email.",
    parameters=[TOKEN_PARAMETER],
    request=RedeemSerializer,
    responses={
        201: TokenPairSerializer,
        400: openapi.validation_error(
            "Invalid input, a password the validators refuse, or no email anywhere.",
            {
                "No email": {"email": [EMAIL_REQUIRED]},
                "Weak password": {"password": ["This password is too short. It must contain at least 8 characters."]},
            },
        ),
        404: INVITE_NOT_FOUND_RESPONSE,
        **NOT_ACCEPTABLE,
        409: openapi.error("An account with this email already exists (in any case).", EMAIL_TAKEN),
        410: GONE_RESPONSE,
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
)

"""Invite routes: thin; they validate input, call one service or selector, and shape the answer."""

from datetime import timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsServiceOrStaff
from accounts.serializers import TokenPairSerializer
from accounts.services import tokens_for
from invites import selectors, services
from invites.errors import EMAIL_REQUIRED, EMAIL_TAKEN, GONE_DETAILS, INVITE_NOT_FOUND, InviteNotFound
from invites.models import InviteStatus
from invites.serializers import (
    InviteCreateSerializer,
    InviteDetailSerializer,
    InviteGoneSerializer,
    InviteListFilterSerializer,
    InvitePreviewSerializer,
    InviteSerializer,
    RedeemSerializer,
)
from invites.throttles import InvitesIpThrottle
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
}
STATUS_DOC = (
    "`status` is `active`, `expired`, `used_up` or `revoked`; when several apply, "
    "`revoked` wins over `used_up`, which wins over `expired`."
)


class InvitePagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

    def paginate_queryset(self, queryset, request, view=None):
        # DRF reads a limit or offset that is not a number as absent; the schema promises integers, so 400.
        errors = {}
        for name in (self.limit_query_param, self.offset_query_param):
            value = request.query_params.get(name)
            if value is not None:
                try:
                    int(value)
                except ValueError:
                    errors[name] = ["A valid integer is required."]
        if errors:
            raise serializers.ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)


class InviteListCreateView(GenericAPIView):
    permission_classes = [IsServiceOrStaff]
    pagination_class = InvitePagination
    serializer_class = InviteSerializer

    @extend_schema(
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
    )
    def get(self, request):
        filters = InviteListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.invite_list(**filters.validated_data))
        return self.get_paginated_response(InviteSerializer(page, many=True).data)

    @extend_schema(
        tags=["invites"],
        summary="Issue an invite",
        description="For a service key (without X-On-Behalf-Of) or a staff user, who is recorded as the inviter. "
        f"Give `expires_at` or `expires_in_days`, or neither for an invite that never expires. {STATUS_DOC}",
        request=InviteCreateSerializer,
        responses={
            201: InviteSerializer,
            400: openapi.BAD_REQUEST,
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
    )
    def post(self, request):
        serializer = InviteCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        days = data.get("expires_in_days")
        invite = services.invite_create(
            inviter=request.user,
            email=data.get("email", ""),
            note=data.get("note", ""),
            max_uses=data["max_uses"],
            expires_at=data.get("expires_at"),
            expires_in=timedelta(days=days) if days else None,
        )
        return Response(InviteSerializer(invite).data, status=status.HTTP_201_CREATED)


class InviteDetailView(APIView):
    permission_classes = [IsServiceOrStaff]

    @extend_schema(
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
    )
    def get(self, request, id):
        invite = selectors.invite_get(invite_id=id)
        if invite is None:
            raise InviteNotFound()
        return Response(InviteDetailSerializer(invite).data)

    @extend_schema(
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
    )
    def delete(self, request, id):
        services.invite_revoke_by_id(invite_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitePreviewView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [InvitesIpThrottle]

    @extend_schema(
        tags=["invites"],
        summary="What an invite offers, before signing up",
        description="Public. `inviter_name` is the inviter's first name, else their email, else null.",
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
    def get(self, request, token):
        return Response(InvitePreviewSerializer(services.invite_get_open(token=token)).data)


class InviteRedeemView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [InvitesIpThrottle]

    @extend_schema(
        tags=["invites"],
        summary="Turn an invite into an account and a session",
        description="Public. Creates the account and answers with the same tokens as `/auth/login`. "
        "The email is the body's, else the invite's. A refused attempt never consumes a use.",
        parameters=[TOKEN_PARAMETER],
        request=RedeemSerializer,
        responses={
            201: TokenPairSerializer,
            400: OpenApiResponse(
                openapi.BAD_REQUEST.response,
                description="Invalid input, a password the validators refuse, or no email anywhere.",
                examples=[
                    OpenApiExample("No email", value={"detail": EMAIL_REQUIRED}, response_only=True),
                    OpenApiExample(
                        "Weak password",
                        value={
                            "detail": "password: This password is too short. It must contain at least 8 characters.",
                            "errors": {
                                "password": ["This password is too short. It must contain at least 8 characters."]
                            },
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
    def post(self, request, token):
        serializer = RedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.invite_redeem(token=token, **serializer.validated_data)
        return Response(tokens_for(user=user), status=status.HTTP_201_CREATED)

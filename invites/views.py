"""Invite routes: thin; they validate input, call one service or selector, and shape the answer."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsServiceOrStaff
from accounts.services import tokens_for
from invites import openapi, selectors, services
from invites.errors import InviteNotFound
from invites.serializers import (
    InviteCreateSerializer,
    InviteDetailSerializer,
    InviteListFilterSerializer,
    InvitePreviewSerializer,
    InviteSerializer,
    RedeemSerializer,
)
from invites.throttles import InvitesIpThrottle


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

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "next", "previous", "results"]  # always sent; null at either end
        return paginated


class InviteListCreateView(GenericAPIView):
    permission_classes = [IsServiceOrStaff]
    pagination_class = InvitePagination
    serializer_class = InviteSerializer

    @extend_schema(**openapi.LIST)
    def get(self, request):
        filters = InviteListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.invite_list(**filters.validated_data))
        return self.get_paginated_response(InviteSerializer(page, many=True).data)

    @extend_schema(**openapi.CREATE)
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
            send_email=data["send_email"],
        )
        return Response(InviteSerializer(invite).data, status=status.HTTP_201_CREATED)


class InviteDetailView(APIView):
    permission_classes = [IsServiceOrStaff]

    @extend_schema(**openapi.DETAIL)
    def get(self, request, id):
        invite = selectors.invite_get(invite_id=id)
        if invite is None:
            raise InviteNotFound()
        return Response(InviteDetailSerializer(invite).data)

    @extend_schema(**openapi.REVOKE)
    def delete(self, request, id):
        services.invite_revoke_by_id(invite_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InviteSendView(APIView):
    permission_classes = [IsServiceOrStaff]

    @extend_schema(**openapi.SEND)
    def post(self, request, id):
        invite = services.invite_email_send_by_id(invite_id=id)
        return Response(InviteSerializer(invite).data, status=status.HTTP_202_ACCEPTED)


class InvitePreviewView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [InvitesIpThrottle]

    @extend_schema(**openapi.PREVIEW)
    def get(self, request, token):
        return Response(InvitePreviewSerializer(services.invite_get_open(token=token)).data)


class InviteRedeemView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [InvitesIpThrottle]

    @extend_schema(**openapi.REDEEM)
    def post(self, request, token):
        serializer = RedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.invite_redeem(token=token, **serializer.validated_data)
        return Response(tokens_for(user=user), status=status.HTTP_201_CREATED)

"""The account routes under /auth: each view parses its input, calls one service and shapes the answer."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import openapi, selectors, services
from accounts.permissions import IsPerson, RefuseApiKeys
from accounts.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    LoginSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    me_public,
)
from accounts.throttles import LoginIpThrottle, PasswordResetIpThrottle, client_address


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIpThrottle]

    @extend_schema(**openapi.LOGIN)
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.user_login(
            request=request._request, address=client_address(request), **serializer.validated_data
        )
        return Response(tokens, status=status.HTTP_200_OK)


class RefreshView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(**openapi.REFRESH_TOKENS)
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.tokens_refresh(**serializer.validated_data))


class LogoutView(APIView):
    """The refresh token is the credential: a client whose access token has run out can still log out."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(**openapi.LOGOUT)
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_revoke(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(**openapi.LOGOUT_ALL)
    def post(self, request):
        services.user_sessions_end(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    permission_classes = [IsPerson, RefuseApiKeys]

    @extend_schema(**openapi.CHANGE_PASSWORD)
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.user_password_change(
            user=request.user, address=client_address(request), **serializer.validated_data
        )
        return Response(tokens)


class MeView(APIView):
    @extend_schema(**openapi.GET_ME)
    def get(self, request):
        return Response(me_public(request.user))

    @extend_schema(**openapi.UPDATE_ME)
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(me_public(user))


class PasswordResetView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetIpThrottle]

    @extend_schema(**openapi.REQUEST_PASSWORD_RESET)
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(**serializer.validated_data)
        return Response({"detail": services.RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetIpThrottle]

    @extend_schema(**openapi.CONFIRM_PASSWORD_RESET)
    def post(self, request):
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.password_reset_confirm(address=client_address(request), **serializer.validated_data)
        return Response(tokens)


class ApiKeyListCreateView(APIView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [IsPerson(), RefuseApiKeys()]  # a key cannot make keys
        return super().get_permissions()

    @extend_schema(**openapi.LIST_API_KEYS)
    def get(self, request):
        return Response(ApiKeySerializer(selectors.api_key_list(user=request.user), many=True).data)

    @extend_schema(**openapi.CREATE_API_KEY)
    def post(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, key = services.api_key_create(
            user=request.user, address=client_address(request), **serializer.validated_data
        )
        return Response(ApiKeyCreatedSerializer(api_key, context={"key": key}).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    @extend_schema(**openapi.REVOKE_API_KEY)
    def delete(self, request, id):
        services.api_key_revoke(user=request.user, key_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)

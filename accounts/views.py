from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import LoginSerializer, MeSerializer, RefreshSerializer, TokenPairSerializer, me_public
from accounts.throttles import LoginIpThrottle, client_address
from wisdom import openapi

TOKEN_EXAMPLE = OpenApiExample(
    "Tokens",
    value={"access_token": "eyJ...", "refresh_token": "eyJ...", "token_type": "bearer", "expires_in": 1800},
    response_only=True,
)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIpThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Log in with email and password",
        request=LoginSerializer,
        responses={
            200: TokenPairSerializer,
            400: openapi.BAD_REQUEST,
            401: openapi.error("Wrong email or password, or an inactive account.", services.INVALID_CREDENTIALS),
            413: openapi.PAYLOAD_TOO_LARGE,
            429: openapi.error(
                "Too many failed logins from this address, or too many attempts; see Retry-After.",
                "Request was throttled. Expected available in 60 seconds.",
            ),
        },
        examples=[TOKEN_EXAMPLE],
        auth=[],
    )
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

    @extend_schema(
        tags=["auth"],
        summary="Trade a refresh token for a new pair (the old refresh token stops working)",
        request=RefreshSerializer,
        responses={
            200: TokenPairSerializer,
            400: openapi.BAD_REQUEST,
            401: openapi.error("Expired, tampered, reused or not a refresh token.", services.INVALID_REFRESH),
            413: openapi.PAYLOAD_TOO_LARGE,
        },
        examples=[TOKEN_EXAMPLE],
        auth=[],
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.tokens_refresh(**serializer.validated_data))


class MeView(APIView):
    @extend_schema(
        tags=["auth"],
        summary="The caller's own account",
        responses={200: MeSerializer, 400: openapi.BAD_REQUEST, 401: openapi.UNAUTHENTICATED},
    )
    def get(self, request):
        return Response(me_public(request.user))

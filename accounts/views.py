from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.permissions import API_KEY_REFUSED, IsPerson, RefuseApiKeys
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
    me_public,
)
from accounts.throttles import LoginIpThrottle, PasswordResetIpThrottle, client_address
from wisdom import openapi

# DRF's negotiation on these views: an Accept that names no JSON type is a 406.
NOT_ACCEPTABLE = {406: openapi.NOT_ACCEPTABLE}
TOKEN_EXAMPLE = OpenApiExample(
    "Tokens",
    value={"access_token": "eyJ...", "refresh_token": "eyJ...", "token_type": "bearer", "expires_in": 1800},
    response_only=True,
)
REFUSES_API_KEYS = openapi.error("Called with an API key (X-API-Key), which this route refuses.", API_KEY_REFUSED)
THROTTLED_RESET = openapi.error(
    "Too many reset requests and confirmations from this address; see Retry-After.",
    "Request was throttled. Expected available in 360 seconds.",
)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIpThrottle]

    @extend_schema(
        **openapi.operation(
            "login",
            caller=openapi.PUBLIC,
            body=True,
            tags=["auth"],
            summary="Log in with email and password",
            request=LoginSerializer,
            responses={
                200: TokenPairSerializer,
                401: openapi.error("Wrong email or password, or an inactive account.", services.INVALID_CREDENTIALS),
                **NOT_ACCEPTABLE,
                429: openapi.error(
                    "Too many failed logins from this address, or too many attempts; see Retry-After.",
                    "Request was throttled. Expected available in 60 seconds.",
                ),
            },
            examples=[TOKEN_EXAMPLE],
        )
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
        **openapi.operation(
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
                        OpenApiExample("Invalid", value={"detail": services.INVALID_REFRESH}, response_only=True),
                        OpenApiExample("Session ended", value={"detail": services.SESSION_ENDED}, response_only=True),
                    ],
                ),
                **NOT_ACCEPTABLE,
            },
            examples=[TOKEN_EXAMPLE],
        )
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.tokens_refresh(**serializer.validated_data))


class LogoutView(APIView):
    """The refresh token is the credential: a client whose access token has run out can still log out."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        **openapi.operation(
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
                401: openapi.error("Not a refresh token signed by this server.", services.INVALID_REFRESH),
                **NOT_ACCEPTABLE,
            },
        )
    )
    def post(self, request):
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.refresh_token_revoke(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(
        **openapi.operation(
            "logoutAll",
            caller=openapi.PERSON,
            tags=["auth"],
            summary="Log out everywhere: every access and refresh token of the caller stops working at once",
            description="API keys are not sessions: they keep working until revoked (DELETE /auth/api-keys/{id}).",
            request=None,
            responses={204: None, **NOT_ACCEPTABLE},
        )
    )
    def post(self, request):
        services.user_sessions_end(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    permission_classes = [IsPerson, RefuseApiKeys]

    @extend_schema(
        **openapi.operation(
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
                        "Wrong current password": {"current_password": [services.WRONG_CURRENT_PASSWORD]},
                        "Weak password": {
                            "new_password": ["This password is too short. It must contain at least 8 characters."]
                        },
                    },
                ),
                403: REFUSES_API_KEYS,
                **NOT_ACCEPTABLE,
                429: openapi.error(
                    "Too many failed logins (wrong current passwords among them); see Retry-After.",
                    "Request was throttled. Expected available in 60 seconds.",
                ),
            },
            examples=[TOKEN_EXAMPLE],
        )
    )
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tokens = services.user_password_change(
            user=request.user, address=client_address(request), **serializer.validated_data
        )
        return Response(tokens)


class MeView(APIView):
    @extend_schema(
        **openapi.operation(
            "getMe",
            caller=openapi.PERSON,
            tags=["auth"],
            summary="The caller's own account",
            responses={200: MeSerializer, **NOT_ACCEPTABLE},
        )
    )
    def get(self, request):
        return Response(me_public(request.user))

    @extend_schema(
        **openapi.operation(
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
    )
    def patch(self, request):
        serializer = MeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_profile_update(user=request.user, **serializer.validated_data)
        return Response(me_public(user))


class PasswordResetView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetIpThrottle]

    @extend_schema(
        **openapi.operation(
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
            examples=[OpenApiExample("Asked", value={"detail": services.RESET_REQUESTED}, response_only=True)],
        )
    )
    def post(self, request):
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(**serializer.validated_data)
        return Response({"detail": services.RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetIpThrottle]

    @extend_schema(
        **openapi.operation(
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
                        "Invalid or expired link": {openapi.NON_FIELD_ERRORS: [services.RESET_LINK_INVALID]},
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
    )
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

    @extend_schema(
        **openapi.operation(
            "listApiKeys",
            caller=openapi.PERSON,
            tags=["auth"],
            summary="The caller's API keys (never their secrets), revoked ones included",
            responses={200: ApiKeySerializer(many=True), **NOT_ACCEPTABLE},
        )
    )
    def get(self, request):
        return Response(ApiKeySerializer(selectors.api_key_list(user=request.user), many=True).data)

    @extend_schema(
        **openapi.operation(
            "createApiKey",
            caller=openapi.PERSON_WITHOUT_API_KEY,
            body=True,
            tags=["auth"],
            summary="Make an API key; the key is in this answer only",
            description="Send the key as `X-API-Key: <key>`: it acts as you on every route a person may use, "
            "except the admin API, /auth/password and making keys (403). Revoked, expired, or whose owner is "
            "inactive: 401. The owner is told by email (the key's name and prefix, when, from which address).",
            request=ApiKeyCreateSerializer,
            responses={201: ApiKeyCreatedSerializer, 403: REFUSES_API_KEYS, **NOT_ACCEPTABLE},
        )
    )
    def post(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, key = services.api_key_create(
            user=request.user, address=client_address(request), **serializer.validated_data
        )
        return Response(ApiKeyCreatedSerializer(api_key, context={"key": key}).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    @extend_schema(
        **openapi.operation(
            "revokeApiKey",
            caller=openapi.PERSON,
            tags=["auth"],
            summary="Revoke one of the caller's API keys, for good",
            description="Idempotent. The key is kept, revoked, so what it did can still be traced.",
            responses={
                204: None,
                404: openapi.error("Not one of the caller's keys.", services.API_KEY_NOT_FOUND),
                **NOT_ACCEPTABLE,
            },
        )
    )
    def delete(self, request, id):
        services.api_key_revoke(user=request.user, key_id=id)
        return Response(status=status.HTTP_204_NO_CONTENT)

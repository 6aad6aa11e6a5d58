"""Bearer tokens checked against the account's token version; a person's API key in X-API-Key;
service-to-service X-Service-Key, optionally with X-On-Behalf-Of."""

import hmac
import uuid

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.authorization import bearer_credential
from accounts.principals import SERVICE, ServiceCredentials
from accounts.selectors import api_key_get_by_key, user_get, user_get_active
from accounts.services import SESSION_ENDED, api_key_touch, token_version_is_current
from wisdom import request_context

INVALID_SERVICE_KEY = "Invalid service key"
INVALID_API_KEY = "Invalid API key."
API_KEY_REVOKED = "This API key has been revoked."
API_KEY_EXPIRED = "This API key has expired."
API_KEY_OWNER_INACTIVE = "This API key's account is inactive."
BAD_AUTHORIZATION_HEADER = "Authorization must be the scheme Bearer followed by one token."


class VersionedJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens older than the account's last password change.

    The user row is read on every call, so a deactivated, deleted or re-passworded account is refused at once;
    simplejwt's get_user with the row read by user_get (a statement made once, not an ORM query built each time).
    The header is read by accounts.authorization, the same reading that decides whether X-API-Key is looked at.
    """

    def authenticate(self, request):
        credential = bearer_credential(request)
        if credential is None:
            return None
        if credential.token is None:
            raise exceptions.AuthenticationFailed(BAD_AUTHORIZATION_HEADER, code="bad_authorization_header")
        validated_token = self.get_validated_token(credential.token)
        return self.get_user(validated_token), validated_token

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        user = user_get(user_id=user_id)
        if user is None:
            raise exceptions.AuthenticationFailed(_("User not found"), code="user_not_found")
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if not token_version_is_current(token=validated_token, user=user):
            raise exceptions.AuthenticationFailed(SESSION_ENDED, code="session_ended")
        return user


def service_key_is_valid(presented: str) -> bool:
    """True when `presented` equals one of the configured keys; every key is compared, in constant time."""
    presented_bytes = presented.encode()
    matched = False
    for key in settings.AGENTS_SERVICE_API_KEYS:
        matched |= hmac.compare_digest(key.encode(), presented_bytes)
    return matched


class ServiceKeyAuthentication(BaseAuthentication):
    """Takes over whenever X-Service-Key is present (even empty); Authorization is then ignored."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        presented = request.META.get("HTTP_X_SERVICE_KEY")
        if presented is None:
            return None
        if not service_key_is_valid(presented):
            raise exceptions.AuthenticationFailed(INVALID_SERVICE_KEY)

        on_behalf_of = request.META.get("HTTP_X_ON_BEHALF_OF")
        if on_behalf_of is None:
            return SERVICE, ServiceCredentials(delegated=False)

        try:
            user_id = uuid.UUID(on_behalf_of.strip())
        except ValueError:
            raise exceptions.ValidationError("X-On-Behalf-Of must be a user id (a UUID).") from None
        user = user_get_active(user_id=user_id)
        if user is None:
            raise exceptions.AuthenticationFailed("X-On-Behalf-Of names no active user.")

        context = request_context.current()
        if context is not None:
            context.delegated = True
            context.user_id = str(user.pk)
        return user, ServiceCredentials(delegated=True)

    def authenticate_header(self, request) -> str:
        # The first authenticator's header is what DRF sends with a 401; people use Bearer.
        return f'Bearer realm="{self.www_authenticate_realm}"'


class ApiKeyAuthentication(BaseAuthentication):
    """A person's API key (accounts.models.ApiKey) in X-API-Key: the request acts as the key's owner, with the
    key as `request.auth`. Read only on a request without a bearer token, which decides alone when both come
    (a gateway or proxy may add an X-API-Key of its own; a bearer caller is never judged by it). Otherwise
    X-API-Key, when present (even empty), decides. Routes that refuse keys say so with
    accounts.permissions.RefuseApiKeys (403)."""

    def authenticate(self, request):
        presented = request.META.get("HTTP_X_API_KEY")
        if presented is None or bearer_credential(request) is not None:
            return None
        api_key = api_key_get_by_key(key=presented.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID_API_KEY, code="invalid_api_key")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed(API_KEY_REVOKED, code="api_key_revoked")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(API_KEY_EXPIRED, code="api_key_expired")
        if not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(API_KEY_OWNER_INACTIVE, code="user_inactive")
        api_key_touch(api_key=api_key)
        return api_key.user, api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'

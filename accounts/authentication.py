"""Bearer tokens checked against the account's token version; service-to-service X-Service-Key,
optionally with X-On-Behalf-Of."""

import hmac
import uuid

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.principals import SERVICE, ServiceCredentials
from accounts.selectors import user_get, user_get_active
from accounts.services import token_version_is_current
from wisdom import request_context

INVALID_SERVICE_KEY = "Invalid service key"
SESSION_ENDED = "This session has ended; log in again."


class VersionedJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication, refusing tokens older than the account's last password change.

    The user row is read on every call, so a deactivated, deleted or re-passworded account is refused at once;
    simplejwt's get_user with the row read by user_get (a statement made once, not an ORM query built each time).
    """

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

"""Service-to-service authentication: X-Service-Key, optionally with X-On-Behalf-Of."""

import hmac
import uuid

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from accounts.principals import SERVICE, ServiceCredentials
from accounts.selectors import user_get_active
from wisdom import request_context

INVALID_SERVICE_KEY = "Invalid service key"


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

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from accounts.models import ApiKey
from accounts.principals import ServiceCredentials
from wisdom.errors import ApiError

API_KEY_REFUSED = "API keys cannot be used on this route; use a bearer token from /auth/login."


class OnBehalfOfRequired(ApiError):
    default_detail = "X-On-Behalf-Of header is required when X-Service-Key is set"
    default_code = "on_behalf_of_required"


def is_service_itself(request) -> bool:
    return isinstance(request.auth, ServiceCredentials) and not request.auth.delegated


def is_api_key(request) -> bool:
    return isinstance(request.auth, ApiKey)


class IsPerson(BasePermission):
    """A user: by JWT, or a service acting on their behalf. The default for every route."""

    def has_permission(self, request, view) -> bool:
        if is_service_itself(request):
            raise OnBehalfOfRequired()
        return bool(request.user and request.user.is_authenticated)


class IsServiceOrStaff(BasePermission):
    """The service itself (no X-On-Behalf-Of), or a staff user (JWT or delegated)."""

    def has_permission(self, request, view) -> bool:
        if is_service_itself(request):
            return True
        if is_api_key(request):
            raise PermissionDenied(API_KEY_REFUSED)  # a staff member's key is no way into the admin API
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class RefuseApiKeys(BasePermission):
    """403 for a request authenticated by X-API-Key: routes that change the password or make keys need a
    bearer token (or the service acting for the user)."""

    message = API_KEY_REFUSED

    def has_permission(self, request, view) -> bool:
        return not is_api_key(request)


class RefuseDelegated(BasePermission):
    """403 for the service acting for a person (X-Service-Key with X-On-Behalf-Of): only the person may, with
    their password (deleting the account)."""

    message = "An account can be deleted only by its owner, not by a service acting for them."

    def has_permission(self, request, view) -> bool:
        return not (isinstance(request.auth, ServiceCredentials) and request.auth.delegated)

from rest_framework.permissions import BasePermission

from accounts.principals import ServiceCredentials
from wisdom.errors import ApiError


class OnBehalfOfRequired(ApiError):
    default_detail = "X-On-Behalf-Of header is required when X-Service-Key is set"
    default_code = "on_behalf_of_required"


def is_service_itself(request) -> bool:
    return isinstance(request.auth, ServiceCredentials) and not request.auth.delegated


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
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)

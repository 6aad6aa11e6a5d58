from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from wisdom.throttles import IpRateThrottle


class LoginIpThrottle(IpRateThrottle):
    """Every login attempt per client address; failed ones are also limited by accounts.services.login_limits."""

    scope = "login_ip"


class PasswordResetIpThrottle(IpRateThrottle):
    """Reset requests and confirmations (API and page) per client address, one budget; the emails one address
    receives are limited apart from this, in accounts.services.password_reset."""

    scope = "password_reset_ip"


def client_address(request: HttpRequest | Request) -> str:
    """The client's address as every throttle sees it (behind NUM_PROXIES trusted proxies); takes Django's
    HttpRequest too, for the admin login."""
    return BaseThrottle().get_ident(request)

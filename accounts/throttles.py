from rest_framework.throttling import SimpleRateThrottle

from wisdom.throttles import IpRateThrottle


class LoginIpThrottle(IpRateThrottle):
    scope = "login_ip"


class LoginEmailThrottle(SimpleRateThrottle):
    """Per target account, so one address cannot be guessed at from many IPs."""

    scope = "login_email"

    def get_cache_key(self, request, view):
        email = request.data.get("email") if isinstance(request.data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        return self.cache_format % {"scope": self.scope, "ident": email.strip().lower()[:254]}

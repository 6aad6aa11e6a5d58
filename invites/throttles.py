from rest_framework.throttling import SimpleRateThrottle


class InvitesIpThrottle(SimpleRateThrottle):
    """Per client IP on the public routes: tokens are unguessable, but guessing should also be slow."""

    scope = "invites_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

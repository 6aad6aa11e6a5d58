from wisdom.throttles import IpRateThrottle


class InvitesIpThrottle(IpRateThrottle):
    """The public routes: tokens are unguessable, but guessing should also be slow."""

    scope = "invites_ip"

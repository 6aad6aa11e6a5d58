from rest_framework.throttling import SimpleRateThrottle

from wisdom.cache import cache_get, cache_set


class _FailOpenCache:
    """The two calls SimpleRateThrottle makes, through wisdom.cache: an unavailable cache reads as no history."""

    def get(self, key: str, default=None):
        return cache_get(key, default)

    def set(self, key: str, value, timeout=None) -> None:
        cache_set(key, value, timeout)


class FailOpenRateThrottle(SimpleRateThrottle):
    """Every throttle's base: with the cache down or silent, requests go through (after at most a short
    time-out, logged once per outage) rather than answering 500. A throttle is a brake, not a gate."""

    cache = _FailOpenCache()


class IpRateThrottle(FailOpenRateThrottle):
    """Counts per client IP (behind NUM_PROXIES trusted proxies), whoever the caller claims to be."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

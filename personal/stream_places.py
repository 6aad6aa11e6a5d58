"""A user's open streams, counted across processes and replicas in the shared cache: one place per stream.

A place is a lease (renewed while its stream relays), so a worker killed mid-stream frees it when the lease runs
out, and it holds the stream's own token, so a stream only ever renews or frees its own place. Two books keep them,
chosen by the cache backend, with the same answers:
- `RedisStreamSet` (wisdom's Redis cache, in production): one sorted set per user, the streams' tokens scored by
  when their leases end on Redis' own clock. Taking or renewing a place and counting them are one script each and
  freeing one is a ZREM: one round trip each, whatever the plans' limits.
- `PlaceKeys` (any other Django cache: locmem in development and tests): numbered place keys, each taken with
  `cache.add` so two racing streams never both take the last place; a count reads every place up to the highest
  plan limit, so each plan's limit is capped at 1,000 (wisdom/settings.py).
"""

from typing import Protocol

from django.conf import settings
from django.core.cache import cache

from wisdom.redis_cache import RedisCache, default_redis


class StreamPlaces(Protocol):
    def take(self, user_id: str, *, limit: int, token: str, lease: float) -> str | None:
        """The place taken (what `renew` and `free` are given), or None when the user's streams fill `limit`."""

    def renew(self, place: str, *, token: str, limit: int, lease: float) -> bool:
        """Extends the stream's lease; False when it lapsed and the place could not be held again."""

    def free(self, place: str, *, token: str) -> None:
        """Gives the place back, if it is still this stream's."""

    def count(self, user_id: str) -> int:
        """The user's places held now."""


def stream_places() -> StreamPlaces:
    """The book for the configured cache."""
    redis = default_redis()
    return PLACE_KEYS if redis is None else RedisStreamSet(redis)


# --- Redis: a sorted set per user -------------------------------------------------------------------------

# The time now on Redis' clock, in milliseconds, and the set without the leases that ended by then.
_NOW_AND_LAPSED_GONE = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""

# ARGV: token, limit, lease in ms. Holds the place when the token holds one or there is room; 1 if held. The set
# itself expires with its longest lease.
_HOLD = (
    _NOW_AND_LAPSED_GONE
    + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
local longest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], longest[2])
return 1
"""
)

_COUNT = _NOW_AND_LAPSED_GONE + "return redis.call('ZCARD', KEYS[1])\n"

_FREE = "return redis.call('ZREM', KEYS[1], ARGV[1])\n"


def _set_key(user_id: str) -> str:
    return f"personal:streams:{user_id}"


class RedisStreamSet:
    __slots__ = ("_redis",)

    def __init__(self, redis: RedisCache):
        self._redis = redis

    def take(self, user_id: str, *, limit: int, token: str, lease: float) -> str | None:
        place = _set_key(user_id)
        return place if self.renew(place, token=token, limit=limit, lease=lease) else None

    def renew(self, place: str, *, token: str, limit: int, lease: float) -> bool:
        return bool(self._redis.run_script(_HOLD, keys=[place], args=[token, limit, max(1, round(lease * 1000))]))

    def free(self, place: str, *, token: str) -> None:
        self._redis.run_script(_FREE, keys=[place], args=[token])

    def count(self, user_id: str) -> int:
        return int(self._redis.run_script(_COUNT, keys=[_set_key(user_id)], args=[]))


# --- any Django cache: numbered place keys -----------------------------------------------------------------


def _places_counted(limit: int) -> int:
    """How many place keys a user's count reads: the highest limit of any plan, so places taken under another
    plan (before an upgrade or a downgrade) still count."""
    limits = (
        settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS,
        settings.PERSONAL_PRO_TIER_CONCURRENT_STREAMS,
        settings.PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS,
        limit,
    )
    return max((each for each in limits if each is not None), default=0)


def _place_keys(user_id: str, *, limit: int = 0) -> list[str]:
    return [f"personal:streams:{user_id}:{place}" for place in range(_places_counted(limit))]


class PlaceKeys:
    def take(self, user_id: str, *, limit: int, token: str, lease: float) -> str | None:
        keys = _place_keys(user_id, limit=limit)
        held = cache.get_many(keys)
        if len(held) >= limit:
            return None
        for key in keys[:limit]:  # only the first `limit` places are ever taken: at most `limit` can be held at once
            if key not in held and cache.add(key, token, timeout=lease):
                return key
        return None  # every free place was taken meanwhile by a racing stream

    def renew(self, place: str, *, token: str, limit: int, lease: float) -> bool:
        holder = cache.get(place)
        if holder == token:
            return bool(cache.touch(place, lease))
        return holder is None and bool(cache.add(place, token, lease))  # lapsed: held again only if still free

    def free(self, place: str, *, token: str) -> None:
        if cache.get(place) == token:
            cache.delete(place)

    def count(self, user_id: str) -> int:
        return len(cache.get_many(_place_keys(user_id)))


PLACE_KEYS = PlaceKeys()

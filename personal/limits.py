"""Each plan's messages per rolling minute and per rolling day, per user, across every process and replica.

Counts live in the shared cache (Redis in production) in small time buckets: a window is the sum of its
buckets. A message takes its place before upstream is asked (an atomic INCR of the current bucket: its
result orders simultaneous messages, so two racing messages can never both take the last place) and gives
it back when upstream refuses it or fails (`message_give_back`). A message counts for one window plus at most
one bucket (5 s for the minute, 30 min for the day): a limit is never exceeded within any rolling window, and
Retry-After is at most one bucket longer than the exact wait. (Finer buckets cost more keys read per message.)

Every answer carries the IETF RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers):
    RateLimit-Policy: "minute";q=10;w=60, "day";q=200;w=86400
    RateLimit: "minute";r=7;t=42, "day";r=193;t=86357
A cache that is down fails open: the limit is skipped (logged) and the chat goes on.
"""

import math
import time
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import cache

from accounts.models import Plan, User
from personal.errors import MessageQuotaExceeded
from wisdom.cache import cache_block
from wisdom.redis_cache import default_redis


@dataclass(frozen=True, slots=True)
class Window:
    name: str
    seconds: int
    bucket_seconds: int

    @property
    def buckets(self) -> int:
        return self.seconds // self.bucket_seconds

    def key(self, user_id: str, bucket: int) -> str:
        return f"personal:messages:{user_id}:{self.name}:{bucket}"


MINUTE = Window("minute", 60, 5)
DAY = Window("day", 86_400, 1800)


@dataclass(frozen=True, slots=True)
class WindowUse:
    window: Window
    limit: int
    used: int  # messages counted in the window, this one included while it is counted
    reset_seconds: int  # until the oldest counted message leaves the window (0: none counted)
    bucket_key: str  # where this message is counted

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


@dataclass(frozen=True, slots=True)
class MessageAllowance:
    """A message's place in each of its plan's windows; empty when the plan has no limits (or the cache failed)."""

    uses: tuple[WindowUse, ...] = ()

    def headers(self) -> dict[str, str]:
        if not self.uses:
            return {}
        return {
            "RateLimit-Policy": ", ".join(f'"{u.window.name}";q={u.limit};w={u.window.seconds}' for u in self.uses),
            "RateLimit": ", ".join(f'"{u.window.name}";r={u.remaining};t={u.reset_seconds}' for u in self.uses),
        }

    def given_back(self) -> "MessageAllowance":
        return MessageAllowance(tuple(replace(u, used=max(u.used - 1, 0)) for u in self.uses))


def plan_message_limits(*, plan: str) -> dict[Window, int]:
    """The plan's limit per window; a window without one (None in settings) is left out. Unknown plan: free's."""
    per_plan = {
        Plan.PRO: (settings.PERSONAL_PRO_TIER_MESSAGES_PER_MINUTE, settings.PERSONAL_PRO_TIER_MESSAGES_PER_DAY),
        Plan.ENTERPRISE: (
            settings.PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_MINUTE,
            settings.PERSONAL_ENTERPRISE_TIER_MESSAGES_PER_DAY,
        ),
    }
    free = (settings.PERSONAL_FREE_TIER_MESSAGES_PER_MINUTE, settings.PERSONAL_FREE_TIER_MESSAGES_PER_DAY)
    per_minute, per_day = per_plan.get(plan, free)
    return {window: limit for window, limit in ((MINUTE, per_minute), (DAY, per_day)) if limit is not None}


def message_take(*, user: User) -> MessageAllowance:
    """Counts one message in each window of the user's plan, or refuses it (429) and counts nothing."""
    limits = plan_message_limits(plan=user.plan)
    if not limits:
        return MessageAllowance()
    refusal: tuple[MessageAllowance, WindowUse, int] | None = None
    allowance = MessageAllowance()
    with cache_block("message limits") as available:
        if available:
            allowance, refusal = _take(str(user.pk), limits, now=time.time())
    if refusal is not None:
        counted, over, retry_after = refusal
        raise MessageQuotaExceeded(
            plan=user.plan,
            limit=over.limit,
            window=over.window.name,
            headers={"Retry-After": str(retry_after), **counted.headers()},
        )
    return allowance


@dataclass(frozen=True, slots=True)
class WindowUsage:
    used: int | None  # None: not counted (the plan has no limit in this window, or the cache is unavailable)
    limit: int | None  # None: no limit
    reset_seconds: int | None  # until the oldest counted message leaves the window (0: none counted)


def message_usage(*, user: User) -> dict[str, WindowUsage]:
    """Each window's figures as the RateLimit fields count them (`r` is `limit - used`), without counting a message."""
    limits = plan_message_limits(plan=user.plan)
    usage = {
        window.name: WindowUsage(used=None, limit=limits.get(window), reset_seconds=None) for window in (MINUTE, DAY)
    }
    if not limits:
        return usage
    now = time.time()
    keys = {}
    for window in limits:
        current = int(now // window.bucket_seconds)
        keys[window] = {b: window.key(str(user.pk), b) for b in range(current - window.buckets, current + 2)}
    found = None
    with cache_block("reading message usage") as available:
        if available:
            found = cache.get_many([key for per_window in keys.values() for key in per_window.values()])
    if found is None:
        return usage
    for window, limit in limits.items():
        per_bucket = {b: int(found.get(key) or 0) for b, key in keys[window].items()}
        reset_seconds = _seconds_until_freed(window, per_bucket, 1, now)
        usage[window.name] = WindowUsage(used=sum(per_bucket.values()), limit=limit, reset_seconds=reset_seconds)
    return usage


def message_give_back(*, allowance: MessageAllowance) -> MessageAllowance:
    """Upstream refused or failed the message: it does not count. Returns the allowance as it now stands."""
    if not allowance.uses:
        return allowance
    with cache_block("giving back a message's place") as available:
        for use in allowance.uses if available else ():
            _decrement(use.bucket_key)
    return allowance.given_back()


def _take(
    user_id: str, limits: dict[Window, int], *, now: float
) -> tuple[MessageAllowance, tuple[MessageAllowance, WindowUse, int] | None]:
    current = {window: int(now // window.bucket_seconds) for window in limits}
    counted = {window: window.key(user_id, bucket) for window, bucket in current.items()}
    keys = {
        window: {b: window.key(user_id, b) for b in range(bucket - window.buckets, bucket + 2) if b != bucket}
        for window, bucket in current.items()
    }
    counts, others = _count_and_read(
        {counted[window]: window.seconds + 2 * window.bucket_seconds for window in limits},
        [key for per_window in keys.values() for key in per_window.values()],
    )
    uses, over = [], []
    for window, limit in limits.items():
        per_bucket = {b: int(others.get(key) or 0) for b, key in keys[window].items()}
        per_bucket[current[window]] = counts[counted[window]]
        used = sum(per_bucket.values())
        use = WindowUse(
            window=window,
            limit=limit,
            used=used,
            reset_seconds=_seconds_until_freed(window, per_bucket, 1, now),
            bucket_key=counted[window],
        )
        uses.append(use)
        if used > limit:
            over.append((use, _seconds_until_freed(window, per_bucket, used - limit, now)))
    allowance = MessageAllowance(tuple(uses))
    if not over:
        return allowance, None
    for use in uses:
        _decrement(use.bucket_key)
    worst, retry_after = max(over, key=lambda item: item[1])
    return allowance, (allowance.given_back(), replace(worst, used=worst.used - 1), retry_after)


def _seconds_until_freed(window: Window, per_bucket: dict[int, int], places: int, now: float) -> int:
    """Seconds until the oldest `places` counted messages have left the window (0 when none is counted)."""
    freed = 0
    for bucket in sorted(per_bucket):
        freed += per_bucket[bucket]
        if freed >= places:
            leaves_at = (bucket + window.buckets + 1) * window.bucket_seconds  # the bucket's end plus the window
            return max(math.ceil(leaves_at - now), 1)
    return 0


# KEYS: the buckets to count this message in, then the buckets to read; ARGV: how many to count, then each one's
# time to live. The counts after this message, then the others' (nil for an empty bucket): one round trip.
_COUNT_AND_READ = """
local counted = tonumber(ARGV[1])
local counts = {}
for i = 1, counted do
    counts[i] = redis.call('INCR', KEYS[i])
    if counts[i] == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i + 1]) end
end
local others = {}
if #KEYS > counted then others = redis.call('MGET', unpack(KEYS, counted + 1)) end
return {counts, others}
"""


def _count_and_read(counted: dict[str, int], read: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Counts this message in each bucket of `counted` (its time to live in seconds), then reads the buckets of
    `read`: the counts after this message, and the buckets read that hold any. Read after counting, so of two
    racing messages the later reads the earlier's place. Any error leaves nothing counted that it could undo."""
    redis = default_redis()
    if redis is not None:
        ttls = list(counted.values())
        counts, found = redis.run_script(_COUNT_AND_READ, keys=[*counted, *read], args=[len(counted), *ttls])
        return (
            {key: int(count) for key, count in zip(counted, counts, strict=True)},
            {key: int(value) for key, value in zip(read, found, strict=True) if value is not None},
        )
    tickets: dict[str, int] = {}
    try:
        for key, ttl in counted.items():
            tickets[key] = _increment(key, ttl=ttl)
        return tickets, cache.get_many(read)
    except BaseException:
        for key in tickets:
            _decrement(key)
        raise


def _increment(key: str, *, ttl: int) -> int:
    """The bucket's count after adding this message (atomic in Redis: INCR); the bucket expires after its window."""
    try:
        return cache.incr(key)
    except ValueError:
        pass  # the bucket's first message (or it just expired)
    if cache.add(key, 1, timeout=ttl):  # atomic (SET NX): of two first messages, one starts the bucket
        return 1
    return cache.incr(key)  # the other counts in it


def _decrement(key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:
        pass  # the bucket already expired: nothing left to give back

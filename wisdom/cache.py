"""Cache calls that never fail a request: the cache (Redis) holds throttle counts, nothing a request needs.

A cache that refuses or never answers costs one call the socket time-out (CACHE_SOCKET_TIMEOUT_SECONDS);
the process then skips the cache for SKIP_SECONDS before trying again, so later requests do not wait at all.
Reads answer their default and writes report False meanwhile. An outage is logged when it starts, every
LOG_EVERY_SECONDS while it lasts, and when it ends: per process, not per request.
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# redis-py wraps socket failures in its own errors; OSError covers a backend that does not.
CACHE_ERRORS = (RedisError, OSError)
SKIP_SECONDS = 5.0
LOG_EVERY_SECONDS = 60.0


class _Outage:
    """Per process: whether the cache failed lately, and when that was last logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._skip_until = 0.0
        self._logged_at: float | None = None

    def skipping(self) -> bool:
        return time.monotonic() < self._skip_until

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            self._skip_until = now + SKIP_SECONDS
            if self._logged_at is not None and now - self._logged_at < LOG_EVERY_SECONDS:
                return
            started = self._logged_at is None
            self._logged_at = now
        logger.error(
            "%s (%s): throttles let requests through; trying it again every %gs",
            "cache unavailable" if started else "cache still unavailable",
            type(error).__name__,
            SKIP_SECONDS,
        )

    def succeeded(self) -> None:
        if self._logged_at is None:  # the usual case, without taking the lock
            return
        with self._lock:
            was_down = self._logged_at is not None
            self._logged_at = None
            self._skip_until = 0.0
        if was_down:
            logger.warning("cache available again")

    def forget(self) -> None:
        with self._lock:
            self._skip_until, self._logged_at = 0.0, None


_outage = _Outage()


def _guarded(operation, fallback):
    if _outage.skipping():
        return fallback
    try:
        result = operation()
    except CACHE_ERRORS as e:
        _outage.failed(e)
        return fallback
    _outage.succeeded()
    return result


@contextmanager
def cache_block(what: str) -> Iterator[bool]:
    """For several cache calls that stand or fall together (a limit's count): yields False, and the block
    should do nothing, while the cache is known to be down; a cache error ends the block, counted as an
    outage like the helpers' failures (logged once per outage, not per request), and is not raised."""
    if _outage.skipping():
        yield False
        return
    try:
        yield True
    except CACHE_ERRORS as e:
        logger.debug("%s skipped: the cache failed (%s)", what, type(e).__name__)
        _outage.failed(e)
    else:
        _outage.succeeded()


def cache_get(key: str, default: Any = None) -> Any:
    """The cached value, or `default` when it is missing or the cache is unavailable."""
    return _guarded(lambda: cache.get(key, default), default)


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    """The values found, by key; {} when the cache is unavailable."""
    return _guarded(lambda: cache.get_many(keys), {})


def cache_set(key: str, value: Any, timeout: float | None) -> bool:
    """Stores `value` for `timeout` seconds (None: no expiry); False when the cache is unavailable."""

    def store() -> bool:
        cache.set(key, value, timeout)
        return True

    return _guarded(store, False)


def cache_add(key: str, value: Any, timeout: float | None) -> bool:
    """Stores `value` only if `key` is absent; False when it was present or the cache is unavailable."""
    return _guarded(lambda: cache.add(key, value, timeout), False)


def cache_incr(key: str, delta: int = 1) -> int | None:
    """The value after adding `delta`; None when `key` is missing (or expired) or the cache is unavailable."""

    def increment() -> int | None:
        try:
            return cache.incr(key, delta)
        except ValueError:  # Django's answer for a missing key
            return None

    return _guarded(increment, None)


def cache_count(key: str, *, window_seconds: int) -> int | None:
    """Counts one more event in a window that starts at the first one: the count so far (1 for the first),
    or None when the cache is unavailable (callers then fail open)."""
    _guarded(lambda: cache.add(key, 0, window_seconds), None)
    count = cache_incr(key)
    if count is None and not _outage.skipping():  # the window expired between add and incr
        _guarded(lambda: cache.add(key, 0, window_seconds), None)
        count = cache_incr(key)
    return count


def cache_delete(key: str) -> None:
    """Forgets `key`; nothing happens when the cache is unavailable."""
    _guarded(lambda: cache.delete(key), None)


def cache_ping() -> bool:
    """A real round trip, even while calls are being skipped: readiness reports the cache as it is now."""
    try:
        cache.set("wisdom:readyz", "1", timeout=5)
        answered = cache.get("wisdom:readyz") == "1"
    except CACHE_ERRORS as e:
        _outage.failed(e)
        return False
    if answered:
        _outage.succeeded()
    return answered


def forget_outage() -> None:
    """For tests: start again from a cache not known to be down."""
    _outage.forget()

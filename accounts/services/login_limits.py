"""Failed-login limits, for the API's login and the admin's alike.

Counted in the shared cache: per (address, email) up to LOGIN_FAILURE_LIMIT and per address up to
LOGIN_FAILURE_LIMIT_PER_ADDRESS, over the current and the previous window of LOGIN_FAILURE_WINDOW_SECONDS
(so a failure counts for one to two windows, with no reset at a window's edge). Only failures count, and
never per email alone, so failures elsewhere cannot lock an account's owner out. Keys are keyed hashes.
"""

import time

from django.conf import settings
from rest_framework.exceptions import Throttled

from accounts.emails import email_key
from accounts.services.login_failure_pairs import (
    login_failure_digest,
    login_failure_pairs,
    login_failure_pairs_drop,
    login_failure_pairs_remember,
)
from wisdom.cache import cache_add, cache_delete, cache_get_many, cache_incr


def login_failures_check(*, address: str, email: str) -> None:
    """Raises Throttled (429, with Retry-After) when either count has reached its limit."""
    window, left = _login_failure_window()
    counters = _login_failure_counters(address=address, email=email)
    keys = [_login_failure_key(scope, ident, w) for scope, ident, _ in counters for w in (window, window - 1)]
    counts = cache_get_many(keys)  # the cache down: nothing counted, login fails open (logged)
    wait = 0
    for scope, ident, limit in counters:
        current = counts.get(_login_failure_key(scope, ident, window), 0)
        previous = counts.get(_login_failure_key(scope, ident, window - 1), 0)
        if current + previous >= limit:
            # At the window's edge the previous count drops out; if the current one alone is over, a window more.
            wait = max(wait, left + (settings.LOGIN_FAILURE_WINDOW_SECONDS if current >= limit else 0))
    if wait:
        raise Throttled(wait=wait)


def login_failure_record(*, address: str, email: str) -> None:
    """One more failure for the address and for the (address, email) pair; atomic on Redis."""
    window, left = _login_failure_window()
    expires_in = left + settings.LOGIN_FAILURE_WINDOW_SECONDS  # still read as the previous window
    for scope, ident, _ in _login_failure_counters(address=address, email=email):
        key = _login_failure_key(scope, ident, window)
        cache_add(key, 0, timeout=expires_in)
        if cache_incr(key) is None:  # evicted between add and incr, or the cache is down
            cache_add(key, 1, timeout=expires_in)
    pair = f"{address} {email_key(email)}"
    login_failure_pairs_remember(pair_digest=login_failure_digest(pair), email=email, timeout=expires_in)


def login_failures_forget(*, email: str) -> None:
    """Deletes the (address, email) counters of `email`, whose account is deleted; per-address counts stay."""
    window, _ = _login_failure_window()
    for pair_digest in login_failure_pairs(email=email):
        for w in (window, window - 1):
            cache_delete(f"login-failures:pair:{pair_digest}:{w}")
    login_failure_pairs_drop(email=email)


def _login_failure_counters(*, address: str, email: str) -> list[tuple[str, str, int]]:
    return [
        ("address", address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
        ("pair", f"{address} {email_key(email)}", settings.LOGIN_FAILURE_LIMIT),
    ]


def _login_failure_key(scope: str, ident: str, window: int) -> str:
    return f"login-failures:{scope}:{login_failure_digest(ident)}:{window}"


def _login_failure_window() -> tuple[int, int]:
    """The current window's number and the seconds left in it."""
    now, length = int(time.time()), settings.LOGIN_FAILURE_WINDOW_SECONDS
    return now // length, length - now % length

"""Per email, which (address, email) failed-login counters exist, so that deleting the account can delete them
without any address being kept: the digests of the pairs (keyed hashes), at most PAIRS_REMEMBERED, expiring with
the counters. Best effort: a concurrent update may drop one digest, whose counter then expires by itself."""

from django.utils.crypto import salted_hmac

from accounts.emails import email_key
from wisdom.cache import cache_delete, cache_get, cache_set

PAIRS_REMEMBERED = 64


def login_failure_digest(ident: str) -> str:
    """The keyed hash that names a failed-login counter: never the address or the email itself."""
    return salted_hmac("accounts.login-failures", ident, algorithm="sha256").hexdigest()


def login_failure_pairs_remember(*, pair_digest: str, email: str, timeout: int) -> None:
    index = _index_key(email)
    known = cache_get(index, [])
    if pair_digest not in known:
        cache_set(index, [*known, pair_digest][-PAIRS_REMEMBERED:], timeout=timeout)


def login_failure_pairs(*, email: str) -> list[str]:
    return cache_get(_index_key(email), [])


def login_failure_pairs_drop(*, email: str) -> None:
    cache_delete(_index_key(email))


def _index_key(email: str) -> str:
    return f"login-failures:pairs-of:{login_failure_digest(email_key(email))}"

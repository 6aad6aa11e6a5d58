"""Argon2 on a real OS thread: a hash costs ~100 ms of C that holds no Python lock, and under gevent the worker's
one OS thread would otherwise stall every request and stream it holds meanwhile."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.hashers import Argon2PasswordHasher


def _on_os_thread(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` on gevent's hub thread pool when this process is patched; else right here."""
    from gevent import get_hub, monkey

    if not monkey.is_module_patched("threading"):
        return function(*args)
    return get_hub().threadpool.apply(function, args)


class ThreadedArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (same algorithm name and encoding: every stored hash stays valid), off the loop."""

    def encode(self, password: str, salt: str) -> str:
        return _on_os_thread(super().encode, password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        return _on_os_thread(super().verify, password, encoded)

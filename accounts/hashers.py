"""Argon2 on real OS threads: a hash costs ~0.1 s of C that holds no Python lock, and under gevent the worker's
one OS thread would otherwise stall every request and stream it holds meanwhile. A few threads per process
(PASSWORD_HASHING_THREADS), so logins queue for them rather than each taking Argon2's memory (~100 MiB) at once;
a login waiting its turn holds no database connection (released as before any wait of unknown length)."""

import os
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

from wisdom.db import connection_release

_pool: Any = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def _on_os_thread(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` on this process's hashing threads when it runs under gevent; else right here."""
    from gevent import monkey

    if not monkey.is_module_patched("threading"):
        return function(*args)
    connection_release()
    return _hashing_pool().apply(function, args)


def _hashing_pool() -> Any:
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():  # threads do not survive a fork
            from gevent.threadpool import ThreadPool

            _pool, _pool_pid = ThreadPool(settings.PASSWORD_HASHING_THREADS), os.getpid()
        return _pool


class ThreadedArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (same algorithm name and encoding: every stored hash stays valid), off the loop."""

    def encode(self, password: str, salt: str) -> str:
        return _on_os_thread(super().encode, password, salt)

    def verify(self, password: str, encoded: str) -> bool:
        return _on_os_thread(super().verify, password, encoded)

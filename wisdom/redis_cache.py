"""Django's Redis cache backend with one redis-py client per connection pool, and an increment in one command.

Django's client builds a new `redis.Redis` around its pool for every cache call, which costs as much CPU as the
round trip itself; redis-py's client is safe to share between threads and greenlets (it takes a connection from
the pool per command). Django's `incr` asks EXISTS and then INCRBY: two round trips, and a key that expires between
them comes back without an expiry. Here it is one script, so a missing key is never created. CACHE_URL's redis://
addresses select this backend (wisdom/settings.py).
"""

from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

# INCRBY on the key only while it exists; nil otherwise (Django's incr then raises ValueError).
_INCREMENT_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._scripts: dict[str, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:  # two threads may both build one: the same pool either way, one is kept
            client = self._clients.setdefault(index, self._client(connection_pool=self._get_connection_pool(write)))
        return client

    def script(self, source: str) -> Any:
        """The script, registered once per client: run by its digest (EVALSHA), loaded again if Redis forgot it."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts.setdefault(source, self.get_client(write=True).register_script(source))
        return script

    def incr(self, key: Any, delta: int) -> int:
        value = self.script(_INCREMENT_EXISTING)(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient

    def run_script(self, source: str, *, keys: list[str], args: list[Any]) -> Any:
        """Runs a Lua script in one round trip, on these cache keys (given the cache's prefix and version)."""
        return self._cache.script(source)(keys=[self.make_and_validate_key(key) for key in keys], args=args)

    def validate_key(self, key: str) -> None:
        """No check: the keys' length and characters only matter to memcached."""


def default_redis() -> RedisCache | None:
    """The default cache when it is this backend (what only Redis can do, a script, is done there); else None."""
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None

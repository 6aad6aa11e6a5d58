"""wisdom.redis_cache against the real Redis: one client per pool, an increment in one command that never creates a
missing key, and what Django's backend answers otherwise unchanged."""

import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.helpers.redis_monitor import REDIS_URL, commands_on
from wisdom.redis_cache import RedisCache


@pytest.fixture
def prefix() -> Iterator[str]:
    prefix = f"wisdom-redis-cache-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    raw = redis.Redis.from_url(REDIS_URL)
    for key in raw.scan_iter(f"{prefix}:*"):
        raw.delete(key)


@pytest.fixture
def cache(prefix) -> RedisCache:
    return RedisCache(REDIS_URL, {"KEY_PREFIX": prefix, "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2}})


def test_every_call_goes_through_one_client_on_one_pool(cache):
    cache.set("a", 1, 30)

    first = cache._cache.get_client("a")
    assert cache.get("a") == 1 and cache.add("b", 2, 30)
    assert cache._cache.get_client("b", write=True) is first


def test_an_increment_is_one_command_that_keeps_the_keys_expiry(cache, prefix):
    cache.set("count", 0, 60)
    cache.incr("count")  # the script is loaded into Redis on first use

    with commands_on(prefix) as seen:
        assert cache.incr("count") == 2
        assert cache.incr("count", 5) == 7
        assert cache.decr("count") == 6  # a message given back

    assert [line.split()[0].upper() for line in seen] == ["EVALSHA", "EVALSHA", "EVALSHA"]
    assert 0 < redis.Redis.from_url(REDIS_URL).ttl(f"{prefix}:1:count") <= 60


def test_an_increment_of_a_missing_key_is_refused_and_creates_nothing(cache, prefix):
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-set")
    with pytest.raises(ValueError, match="not found"):
        cache.decr("never-set")

    assert redis.Redis.from_url(REDIS_URL).exists(f"{prefix}:1:never-set") == 0


def test_reads_and_writes_answer_as_djangos_backend_does(cache):
    assert cache.get("missing", "default") == "default"
    cache.set_many({"x": {"nested": [1, 2]}, "y": "text"}, 30)

    assert cache.get_many(["x", "y", "z"]) == {"x": {"nested": [1, 2]}, "y": "text"}
    assert cache.add("x", "other", 30) is False
    assert cache.delete("x") is True and cache.get("x") is None
    assert cache.touch("y", 30) is True


def test_a_long_key_is_stored_without_memcacheds_warning(cache, recwarn):
    key = "k" * 300

    cache.set(key, "v", 30)

    assert cache.get(key) == "v"
    assert not [w for w in recwarn if "memcached" in str(w.message)]

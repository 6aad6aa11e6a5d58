"""Stream admission's cost on the shared Redis, side by side in one run: the place keys personal/admission.py takes
with the Django cache (any backend) against one Lua script over a sorted set (Redis only). Per stream: admit,
renew once, free. Run: .venv/bin/python bench/experiments/stream_admission.py (uses Redis db 4, own prefix)."""

import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "wisdom.settings_test",
        "CACHE_URL": "redis://127.0.0.1:6379/4",
        "CACHE_KEY_PREFIX": f"admission-exp-{uuid.uuid4().hex[:6]}",
    }
)

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402

from personal import admission  # noqa: E402

ROUNDS = 2000
TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4]); redis.call('PEXPIRE', KEYS[1], ARGV[5]); return 1
"""
store = redis.Redis(host="127.0.0.1", port=6379, db=4)
take = store.register_script(TAKE)
prefix = settings.CACHES["default"]["KEY_PREFIX"]


class Person:
    def __init__(self) -> None:
        self.pk, self.plan = uuid.uuid4(), "free"


def timed(step) -> tuple[float, float]:
    """Microseconds per round: wall, CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(ROUNDS):
        step()
    return (time.perf_counter() - wall) / ROUNDS * 1e6, (time.process_time() - cpu) / ROUNDS * 1e6


def place_keys(limit: int) -> tuple[float, float]:
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = settings.PERSONAL_PRO_TIER_CONCURRENT_STREAMS = limit
    person = Person()

    def step() -> None:
        admitted = admission.stream_admit(user=person)
        admitted.renewed_at -= 3600  # due
        admitted.renew_when_due()
        admitted.free()

    return timed(step)


def sorted_set(limit: int) -> tuple[float, float]:
    key = f"{prefix}:zset:{uuid.uuid4().hex}"

    def step() -> None:
        now, token = time.time(), uuid.uuid4().hex
        take(keys=[key], args=[now, now + 60, limit, token, 60000])
        store.zadd(key, {token: time.time() + 60}, xx=True)
        store.zrem(key, token)

    return timed(step)


wall, cpu = timed(lambda: cache.get("nothing-here"))
print(f"one cache.get: wall {wall:.0f} us, CPU {cpu:.0f} us")
for limit in (2, 5, 100):
    keys_wall, keys_cpu = place_keys(limit)
    zset_wall, zset_cpu = sorted_set(limit)
    print(
        f"limit {limit:>3}: place keys wall {keys_wall:.0f} us, CPU {keys_cpu:.0f} us (5 round trips) | "
        f"Lua sorted set wall {zset_wall:.0f} us, CPU {zset_cpu:.0f} us (3 round trips)"
    )
for key in store.scan_iter(f"{prefix}:*"):
    store.delete(key)

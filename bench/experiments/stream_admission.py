"""Stream admission's cost on the shared Redis, side by side in one run: the two books of personal/stream_places.py
through the same personal/admission.py, place keys (any Django cache) against the sorted set (Redis only). Per
stream: admit, renew once, free; a plan with a limit of 2, 5, 100 or 1,000 (each book's count reads up to the
highest plan's). Run: .venv/bin/python bench/experiments/stream_admission.py (uses Redis db 4, own prefix)."""

import os
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

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

from personal import admission, stream_places  # noqa: E402

ROUNDS = 2000
PASSES = 3


class Person:
    def __init__(self) -> None:
        self.pk, self.plan = uuid.uuid4(), "free"


def timed(step) -> tuple[float, float]:
    """Microseconds per round, the best of PASSES: wall, CPU."""
    best = (float("inf"), float("inf"))
    for _ in range(PASSES):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(ROUNDS):
            step()
        figures = ((time.perf_counter() - wall) / ROUNDS * 1e6, (time.process_time() - cpu) / ROUNDS * 1e6)
        best = min(best, figures, key=lambda f: f[1])
    return best


def one_stream(book, limit: int) -> tuple[float, float]:
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = settings.PERSONAL_PRO_TIER_CONCURRENT_STREAMS = limit
    person = Person()

    def step() -> None:
        admitted = admission.stream_admit(user=person)
        admitted.renewed_at -= 3600  # due
        admitted.renew_when_due()
        admitted.free()

    with mock.patch.object(admission, "stream_places", lambda: book):
        return timed(step)


wall, cpu = timed(lambda: cache.get("nothing-here"))
print(f"one cache.get: wall {wall:.0f} us, CPU {cpu:.0f} us")
for limit in (2, 5, 100, 1000):
    keys_wall, keys_cpu = one_stream(stream_places.PLACE_KEYS, limit)
    set_wall, set_cpu = one_stream(stream_places.stream_places(), limit)  # CACHE_URL is Redis
    print(
        f"limit {limit:>4}: place keys wall {keys_wall:.0f} us, CPU {keys_cpu:.0f} us | "
        f"sorted set wall {set_wall:.0f} us, CPU {set_cpu:.0f} us"
    )
store = redis.Redis(host="127.0.0.1", port=6379, db=4)
for key in store.scan_iter(f"{settings.CACHES['default']['KEY_PREFIX']}:*"):
    store.delete(key)

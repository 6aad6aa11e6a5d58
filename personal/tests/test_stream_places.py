"""A user's stream places in the shared Redis: one round trip per admission and per release whatever the plans'
limits, a stream only ever renewing or freeing its own place, and a set that expires with its longest lease.

Both books through every admission rule: personal/tests/test_stream_admission.py.
"""

import time

import pytest
import redis

from accounts.models import Plan
from personal import admission
from personal.errors import StreamLimitExceeded
from personal.stream_places import PLACE_KEYS, RedisStreamSet, stream_places
from tests.helpers.redis_monitor import REDIS_URL, commands_on

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stream_limits(settings):
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = 2
    settings.PERSONAL_PRO_TIER_CONCURRENT_STREAMS = 5
    settings.PERSONAL_ENTERPRISE_TIER_CONCURRENT_STREAMS = None
    yield
    assert admission.worker_streams.count() == 0


def test_wisdoms_redis_cache_keeps_places_in_a_sorted_set_and_any_other_cache_in_keys(redis_cache, settings):
    assert isinstance(stream_places(), RedisStreamSet)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert stream_places() is PLACE_KEYS


def test_a_streams_admission_and_release_are_one_command_each_however_high_a_plans_limit(redis_cache, user, settings):
    settings.PERSONAL_PRO_TIER_CONCURRENT_STREAMS = 1000
    admission.stream_admit(user=user).free()  # the scripts are loaded into Redis on first use
    admission.stream_use(user=user)

    with commands_on(redis_cache) as taking:
        admitted = admission.stream_admit(user=user)
    with commands_on(redis_cache) as counting:
        use = admission.stream_use(user=user)
    with commands_on(redis_cache) as freeing:
        admitted.free()

    assert use == admission.StreamUse(open=1, limit=2)
    assert [line.split()[0].upper() for line in taking] == ["EVALSHA"]
    assert [line.split()[0].upper() for line in counting] == ["EVALSHA"]
    assert [line.split()[0].upper() for line in freeing] == ["EVALSHA"]
    assert all(len(line.split()) < 10 for line in taking + counting)  # no key read per place
    assert admission.stream_use(user=user).open == 0


def test_a_stream_whose_lease_lapsed_frees_and_renews_only_its_own_place(redis_cache, user, settings):
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = 1
    settings.PERSONAL_STREAM_LEASE_SECONDS = 1
    stalled = admission.stream_admit(user=user)
    time.sleep(1.4)  # its worker stalled past the whole lease
    fresh = admission.stream_admit(user=user)

    stalled.renewed_at -= 60  # due
    stalled.renew_when_due()
    assert admission.stream_use(user=user).open == 1  # the place stays the fresh stream's; the stalled one runs on
    stalled.free()

    assert admission.stream_use(user=user).open == 1
    with pytest.raises(StreamLimitExceeded):
        admission.stream_admit(user=user)
    fresh.free()
    assert admission.stream_use(user=user).open == 0


def test_a_stream_whose_lease_lapsed_holds_a_place_again_when_one_is_free(redis_cache, user, settings):
    settings.PERSONAL_FREE_TIER_CONCURRENT_STREAMS = 1
    settings.PERSONAL_STREAM_LEASE_SECONDS = 1
    stalled = admission.stream_admit(user=user)
    time.sleep(1.4)
    assert admission.stream_use(user=user).open == 0

    stalled.renewed_at -= 60
    stalled.renew_when_due()

    assert admission.stream_use(user=user).open == 1
    with pytest.raises(StreamLimitExceeded):
        admission.stream_admit(user=user)
    stalled.free()


def test_a_users_set_expires_with_its_longest_lease(redis_cache, user, settings):
    user.plan = Plan.PRO
    settings.PERSONAL_STREAM_LEASE_SECONDS = 30
    first = admission.stream_admit(user=user)
    settings.PERSONAL_STREAM_LEASE_SECONDS = 5  # a replica configured otherwise takes a shorter lease after it
    second = admission.stream_admit(user=user)

    raw = redis.Redis.from_url(REDIS_URL)
    (key,) = raw.scan_iter(f"{redis_cache}:*")
    assert raw.type(key) == b"zset" and raw.zcard(key) == 2
    assert 25_000 < raw.pttl(key) <= 30_000
    first.free(), second.free()
    assert raw.exists(key) == 0  # ZREM of the last member removes the set

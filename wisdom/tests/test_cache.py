"""wisdom.cache: a cache that refuses or never answers costs one short time-out, then is skipped;
reads answer their default, throttles let requests through, readiness says "degraded"."""

import logging

import pytest
from django.test import override_settings

from tests.helpers.processes import free_port
from tests.helpers.silent import silent_server
from wisdom.cache import (
    cache_add,
    cache_count,
    cache_delete,
    cache_get,
    cache_incr,
    cache_ping,
    cache_set,
    forget_outage,
)

pytestmark = pytest.mark.django_db

SOCKET_TIMEOUT = 0.3


@pytest.fixture(autouse=True)
def no_outage_left_behind():
    """An outage is remembered per process: the next test, here or elsewhere, starts without one."""
    forget_outage()
    yield
    forget_outage()


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "wisdom.redis_cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "wisdom-unit-test",
            "OPTIONS": {"socket_connect_timeout": SOCKET_TIMEOUT, "socket_timeout": SOCKET_TIMEOUT},
        }
    }


@pytest.fixture
def refused_cache():
    with override_settings(CACHES=redis_cache(f"redis://127.0.0.1:{free_port()}/0")):
        yield


@pytest.fixture
def silent_cache():
    with silent_server() as server, override_settings(CACHES=redis_cache(server.url)):
        yield server


@pytest.fixture
def working_cache():
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        yield


def test_a_refused_cache_reads_as_missing_and_writes_report_failure(refused_cache):
    assert cache_get("k", "fallback") == "fallback"
    assert cache_set("k", 1, 60) is False
    assert cache_add("k", 1, 60) is False
    assert cache_incr("k") is None
    assert cache_count("k", window_seconds=60) is None
    cache_delete("k")  # no error either
    assert cache_ping() is False


def test_a_silent_cache_is_tried_once_then_skipped_until_it_may_be_back(silent_cache):
    answers = [cache_get("k", "fallback") for _ in range(20)]

    assert answers == ["fallback"] * 20
    assert len(silent_cache.accepted) == 1  # one connection, timed out; the other 19 calls did not wait


def test_readiness_pings_the_cache_even_while_calls_skip_it(silent_cache):
    cache_get("k")
    assert len(silent_cache.accepted) == 1

    assert cache_ping() is False
    assert len(silent_cache.accepted) == 2


def test_an_outage_is_logged_once_not_per_call(refused_cache, caplog):
    with caplog.at_level(logging.ERROR, logger="wisdom.cache"):
        for _ in range(10):
            cache_get("k")
            cache_ping()  # each ping really tries, and fails

    assert [record.getMessage().split(" (")[0] for record in caplog.records] == ["cache unavailable"]


def test_the_cache_is_used_again_once_it_answers_and_the_end_of_the_outage_is_logged(working_cache, caplog):
    with override_settings(CACHES=redis_cache(f"redis://127.0.0.1:{free_port()}/0")):
        cache_get("k")
    assert cache_set("k", "skipped", 60) is False  # within the skip window: not even tried

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wisdom.cache"):
        assert cache_ping() is True  # readiness finds it back

    assert cache_set("k", "stored", 60) is True
    assert cache_get("k") == "stored"
    assert [record.getMessage() for record in caplog.records] == ["cache available again"]


def test_counting_events_in_a_window(working_cache):
    assert [cache_count("failures", window_seconds=60) for _ in range(3)] == [1, 2, 3]
    cache_delete("failures")
    assert cache_count("failures", window_seconds=60) == 1


def test_throttled_routes_let_requests_through_when_the_cache_is_down(api_client, refused_cache):
    statuses = [api_client.get("/invites/no-such-token/preview").status_code for _ in range(5)]

    assert statuses == [404] * 5


def test_readiness_is_200_with_the_cache_degraded(api_client, refused_cache):
    response = api_client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "degraded"}}

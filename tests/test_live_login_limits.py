"""Failed-login limits on a running gunicorn (two workers) counting in a real Redis, behind one proxy."""

import uuid

import pytest
import redis
import requests

from tests.helpers.constants import PASSWORD
from tests.helpers.live import wisdom_server

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

REDIS_DB = 7
PREFIX = f"wisdom-login-limits-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def limited_server(django_db_setup, django_db_blocker, tmp_path_factory):
    env = {
        "CACHE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "CACHE_KEY_PREFIX": PREFIX,
        "NUM_PROXIES": "1",
        "THROTTLE_RATE_LOGIN": "1000/min",
        "LOGIN_FAILURE_LIMIT": "3",
        "LOGIN_FAILURE_LIMIT_PER_ADDRESS": "6",
        "LOGIN_FAILURE_WINDOW_SECONDS": "300",
    }
    with django_db_blocker.unblock(), wisdom_server(tmp_path_factory.mktemp("limits"), workers=2, **env) as server:
        yield server
    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    for key in store.scan_iter(f"{PREFIX}*"):
        store.delete(key)


def _login(server, email, password, address):
    return requests.post(
        f"{server.url}/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": address},
        timeout=10,
    )


def test_failures_lock_only_the_address_that_failed_on_every_worker(limited_server, make_live_user):
    victim = make_live_user(email="live-victim@example.com")

    failures = [_login(limited_server, victim.email, "guess", "203.0.113.10").status_code for _ in range(3)]
    from_attacker = [_login(limited_server, victim.email, PASSWORD, "203.0.113.10") for _ in range(4)]
    from_victim = _login(limited_server, victim.email, PASSWORD, "198.51.100.10")

    assert failures == [401, 401, 401]
    for refused in from_attacker:  # four requests: both workers answer from the shared count
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 2 * 300  # counts span this window and the last
        assert refused.json()["detail"].startswith("Request was throttled")
    assert from_victim.status_code == 200


def test_failures_per_address_are_limited_across_emails(limited_server, make_live_user):
    user = make_live_user(email="live-bystander@example.com")

    statuses = [_login(limited_server, f"spray{i}@example.com", "guess", "203.0.113.20").status_code for i in range(6)]
    same_address = _login(limited_server, user.email, PASSWORD, "203.0.113.20")
    other_address = _login(limited_server, user.email, PASSWORD, "203.0.113.21")

    assert statuses == [401] * 6
    assert same_address.status_code == 429
    assert other_address.status_code == 200


def test_the_failure_counters_in_redis_name_no_email_and_no_address(limited_server, make_live_user):
    victim = make_live_user(email="live-keys@example.com")
    _login(limited_server, victim.email, "guess", "203.0.113.30")

    store = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    keys = [key.decode() for key in store.scan_iter(f"{PREFIX}*login-failures*")]

    assert len(keys) >= 2  # the address's count and the (address, email) pair's
    assert not [key for key in keys if "live-keys" in key or "example.com" in key or "203.0.113" in key]

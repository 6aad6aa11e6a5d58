"""Failed logins are limited per (client address, email) and per client address; successes are not counted."""

import time

import pytest

from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_login_limits")]

ATTACKER, VICTIM_HOME, ELSEWHERE = "203.0.113.66", "198.51.100.7", "192.0.2.44"


@pytest.fixture
def victim(db):
    return UserFactory(email="victim@example.com")


def login(client, email, password, address):
    return client.post("/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=address)


def assert_locked(response):
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= 2 * 600
    assert response.json() == {"detail": f"Request was throttled. Expected available in {wait} seconds."}


def test_failures_from_one_address_do_not_lock_the_owner_out_from_another(api_client, victim, password):
    for _ in range(10):
        login(api_client, victim.email, "wrong-guess", ATTACKER)

    from_home = login(api_client, victim.email, password, VICTIM_HOME)

    assert from_home.status_code == 200


def test_after_the_limit_even_the_right_password_is_refused_from_that_address(api_client, victim, password):
    statuses = [login(api_client, victim.email, "wrong-guess", ATTACKER).status_code for _ in range(3)]

    right_password = login(api_client, victim.email, password, ATTACKER)

    assert statuses == [401, 401, 401]
    assert_locked(right_password)


def test_spellings_of_one_email_share_one_count(api_client, victim, password):
    for spelling in ("Victim@Example.com", "VICTIM@example.COM", "v\u0130ctim@example.com"):
        assert login(api_client, spelling, "wrong-guess", ATTACKER).status_code == 401

    assert_locked(login(api_client, "victim@example.com", password, ATTACKER))


def test_successful_logins_are_not_counted(api_client, victim, password):
    assert login(api_client, victim.email, "typo", VICTIM_HOME).status_code == 401
    assert login(api_client, victim.email, "typo", VICTIM_HOME).status_code == 401
    for _ in range(10):
        assert login(api_client, victim.email, password, VICTIM_HOME).status_code == 200

    assert login(api_client, victim.email, "typo", VICTIM_HOME).status_code == 401  # the third failure
    assert_locked(login(api_client, victim.email, password, VICTIM_HOME))


def test_failures_per_address_are_limited_across_many_emails(api_client, victim, password):
    for i in range(5):
        assert login(api_client, f"guess{i}@example.com", "wrong", ATTACKER).status_code == 401

    assert_locked(login(api_client, "guess99@example.com", "wrong", ATTACKER))
    assert_locked(login(api_client, victim.email, password, ATTACKER))  # a pair that never failed, same address
    assert login(api_client, victim.email, password, ELSEWHERE).status_code == 200


def test_a_locked_out_attempt_is_not_checked_or_counted(api_client, victim, password):
    for _ in range(3):
        login(api_client, victim.email, "wrong-guess", ATTACKER)
    for _ in range(20):
        assert login(api_client, victim.email, "wrong-guess", ATTACKER).status_code == 429

    # The address's own count stopped at 3 of 5: other emails can still be tried from it.
    assert login(api_client, "someone@example.com", "wrong", ATTACKER).status_code == 401


def test_a_lock_lasts_as_long_as_retry_after_says(api_client, victim, password, monkeypatch):
    for _ in range(3):
        login(api_client, victim.email, "wrong-guess", ATTACKER)
    locked = login(api_client, victim.email, password, ATTACKER)
    assert_locked(locked)
    wait, now = int(locked["Retry-After"]), time.time()

    monkeypatch.setattr(time, "time", lambda: now + wait - 2)
    assert_locked(login(api_client, victim.email, password, ATTACKER))
    monkeypatch.setattr(time, "time", lambda: now + wait + 1)
    assert login(api_client, victim.email, password, ATTACKER).status_code == 200


def test_failures_just_before_a_window_edge_still_count_after_it(api_client, victim, password, monkeypatch):
    edge = (int(time.time()) // 600 + 1) * 600
    monkeypatch.setattr(time, "time", lambda: edge - 1)
    for _ in range(3):
        login(api_client, victim.email, "wrong-guess", ATTACKER)

    monkeypatch.setattr(time, "time", lambda: edge + 1)

    assert_locked(login(api_client, victim.email, password, ATTACKER))


def test_a_malformed_login_is_not_counted(api_client, victim, password):
    for _ in range(5):
        assert (
            api_client.post("/auth/login", {"email": victim.email}, format="json", REMOTE_ADDR=ATTACKER).status_code
            == 400
        )

    assert login(api_client, victim.email, password, ATTACKER).status_code == 200

"""A deleted account's failed-login counters go with it: the same email, signed up again, is not locked out by the
failures of the account before. On the in-process cache and on a real Redis (a key prefix of this test's own)."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services.deletion import account_deletion_request, account_deletions_run_due
from accounts.tests.factories import UserFactory
from tests.helpers.constants import PASSWORD

ADDRESS = "203.0.113.9"


@pytest.fixture(params=["locmem", "redis"])
def counters_cache(request, settings):
    """Failed-login limits small enough to reach, counted in the cache named by the parameter."""
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 50
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    if request.param == "locmem":
        cache.clear()
        yield
        cache.clear()
        return
    request.getfixturevalue("redis_cache")  # a prefix of this test's own, emptied after it
    yield


def _login(email: str) -> int:
    return (
        APIClient()
        .post("/auth/login", {"email": email, "password": PASSWORD}, format="json", REMOTE_ADDR=ADDRESS)
        .status_code
    )


def test_the_failed_login_counters_of_a_deleted_account_are_forgotten(transactional_db, counters_cache, agents_double):
    user = UserFactory(email="frank@example.com")
    wrong = [
        APIClient()
        .post("/auth/login", {"email": user.email, "password": "nope"}, format="json", REMOTE_ADDR=ADDRESS)
        .status_code
        for _ in range(3)
    ]
    assert wrong == [401, 401, 401]
    assert _login(user.email) == 429  # the pair (address, email) is locked for now

    account_deletion_request(user=user, password=PASSWORD, address="198.51.100.1")
    account_deletions_run_due()
    UserFactory(email="frank@example.com")  # signed up again

    assert _login("frank@example.com") == 200

"""Fixtures shared by every app's tests."""

import pytest
from rest_framework.test import APIClient

from accounts.services import tokens_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

SERVICE_KEY = "test-service-key-1"
ROTATED_SERVICE_KEY = "test-service-key-2"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(email="alice@example.com", first_name="Alice")


@pytest.fixture
def other_user(db):
    return UserFactory(email="bob@example.com", first_name="Bob")


@pytest.fixture
def staff_user(db):
    return UserFactory(email="staff@example.com", first_name="Stella", is_staff=True)


def bearer(user) -> dict:
    """Headers carrying a fresh access token for `user`."""
    return {"Authorization": f"Bearer {tokens_for(user=user)['access_token']}"}


def on_behalf_of(user, key: str = SERVICE_KEY) -> dict:
    return {"X-Service-Key": key, "X-On-Behalf-Of": str(user.pk)}


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    return client


@pytest.fixture(scope="session")
def live_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("live")


@pytest.fixture(scope="session")
def wisdom_live(django_db_setup, django_db_blocker, live_tmp):
    """One gunicorn serving wisdom on the test database for the session; tests use transactional_db."""
    from tests.live import wisdom_server

    with django_db_blocker.unblock(), wisdom_server(live_tmp, workers=2, threads=8) as server:
        yield server


LIVE_PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def make_live_user(transactional_db):
    """Users a live server can log in: committed, with an Argon2 hash (the server's hasher)."""
    from django.contrib.auth.hashers import make_password

    def make(**fields):
        user = UserFactory(**fields)
        user.password = make_password(LIVE_PASSWORD, hasher="argon2")
        user.save(update_fields=["password"])
        return user

    return make

import pytest
from rest_framework.test import APIClient

from invites.tests.factories import InviteFactory
from tests.helpers.auth import bearer
from tests.helpers.constants import SERVICE_KEY


@pytest.fixture
def service_client() -> APIClient:
    """The internal service acting as itself: allowed on the invite admin API."""
    client = APIClient()
    client.credentials(HTTP_X_SERVICE_KEY=SERVICE_KEY)
    return client


@pytest.fixture
def staff_client(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(staff_user)["Authorization"])
    return client


@pytest.fixture
def invite(db):
    return InviteFactory(email="newcomer@example.com")

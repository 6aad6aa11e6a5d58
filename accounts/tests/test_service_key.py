import uuid

import pytest

from accounts.principals import SERVICE
from tests.helpers.auth import bearer, on_behalf_of
from tests.helpers.bodies import bad_request
from tests.helpers.constants import ROTATED_SERVICE_KEY, SERVICE_KEY

pytestmark = pytest.mark.django_db

ON_BEHALF_REQUIRED = "X-On-Behalf-Of header is required when X-Service-Key is set"


@pytest.mark.parametrize("key", [SERVICE_KEY, ROTATED_SERVICE_KEY])
def test_service_key_acting_for_a_user_reaches_user_routes_as_that_user(api_client, user, key):
    response = api_client.get("/auth/me", headers=on_behalf_of(user, key=key))

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


@pytest.mark.parametrize(
    "key", ["wrong-key", "", "test-service-key-1 ", SERVICE_KEY + "x", "test-service-key-1,test-service-key-2"]
)
def test_a_wrong_or_empty_service_key_is_401(api_client, user, key):
    response = api_client.get("/auth/me", headers={"X-Service-Key": key, "X-On-Behalf-Of": str(user.pk)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid service key"}


def test_service_key_takes_over_and_ignores_a_valid_bearer_token(api_client, user):
    headers = {**bearer(user), "X-Service-Key": "wrong-key"}

    response = api_client.get("/auth/me", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid service key"}


def test_delegated_identity_wins_over_a_bearer_token_of_someone_else(api_client, user, other_user):
    headers = {**bearer(other_user), **on_behalf_of(user)}

    response = api_client.get("/auth/me", headers=headers)

    assert response.json()["id"] == str(user.pk)


def test_empty_setting_refuses_every_key_even_an_empty_one(api_client, user, settings):
    settings.AGENTS_SERVICE_API_KEYS = ()

    for key in ["", SERVICE_KEY]:
        response = api_client.get("/auth/me", headers={"X-Service-Key": key, "X-On-Behalf-Of": str(user.pk)})
        assert response.status_code == 401


@pytest.mark.parametrize("value", ["not-a-uuid", "123", "", "' OR 1=1 --"])
def test_on_behalf_of_that_is_not_a_uuid_is_400(api_client, value):
    response = api_client.get("/auth/me", headers={"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": value})

    assert response.status_code == 400
    assert response.json() == bad_request("X-On-Behalf-Of must be a user id (a UUID).")


def test_on_behalf_of_an_unknown_user_is_401(api_client):
    headers = {"X-Service-Key": SERVICE_KEY, "X-On-Behalf-Of": str(uuid.uuid4())}

    assert api_client.get("/auth/me", headers=headers).status_code == 401


def test_on_behalf_of_a_deactivated_user_is_401(api_client, user):
    user.is_active = False
    user.save()

    assert api_client.get("/auth/me", headers=on_behalf_of(user)).status_code == 401


def test_on_behalf_of_without_a_service_key_is_anonymous(api_client, user):
    response = api_client.get("/auth/me", headers={"X-On-Behalf-Of": str(user.pk)})

    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_service_key_without_on_behalf_of_on_a_user_route_is_400(api_client):
    response = api_client.get("/auth/me", headers={"X-Service-Key": SERVICE_KEY})

    assert response.status_code == 400
    assert response.json() == bad_request(ON_BEHALF_REQUIRED)


def test_service_itself_is_allowed_by_the_service_or_staff_permission(rf):
    from rest_framework.request import Request

    from accounts.permissions import IsServiceOrStaff
    from accounts.principals import ServiceCredentials

    request = Request(rf.get("/"))
    request.user, request.auth = SERVICE, ServiceCredentials(delegated=False)

    assert IsServiceOrStaff().has_permission(request, view=None) is True


def test_delegated_calls_are_marked_for_logs(api_client, user, caplog):
    with caplog.at_level("INFO", logger="wisdom.access"):
        api_client.get("/auth/me", headers=on_behalf_of(user))

    access = [r for r in caplog.records if r.name == "wisdom.access"][-1]
    assert access.delegated is True
    assert access.user_id == str(user.pk)

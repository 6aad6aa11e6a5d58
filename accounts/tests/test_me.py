import pytest

from accounts.models import Plan, User
from accounts.serializers import MeSerializer, me_public
from accounts.tests.factories import UserFactory
from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db


def test_me_returns_the_callers_account(api_client, user):
    response = api_client.get("/auth/me", headers=bearer(user))

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": user.last_name,
        "plan": "free",
        "is_staff": False,
        "date_joined": response.json()["date_joined"],
    }
    assert response.json()["date_joined"].startswith(str(user.date_joined.date()))


def test_me_without_credentials_is_401_with_www_authenticate(api_client):
    response = api_client.get("/auth/me")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_me_with_garbage_bearer_is_401(api_client):
    response = api_client.get("/auth/me", HTTP_AUTHORIZATION="Bearer not-a-jwt")

    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_me_tolerates_one_trailing_slash(api_client, user):
    assert api_client.get("/auth/me/", headers=bearer(user)).status_code == 200


def test_unknown_path_is_a_json_404(api_client):
    response = api_client.get("/no/such/route")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_me_is_the_me_serializers_representation(api_client):
    made = UserFactory(plan=Plan.ENTERPRISE, first_name="Zoë", last_name="O'Neil", is_staff=True)

    response = api_client.get("/auth/me", headers=bearer(made))

    assert response.json() == MeSerializer(User.objects.get(pk=made.pk)).data
    assert me_public(made) == MeSerializer(made).data

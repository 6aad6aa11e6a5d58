import pytest

from accounts.models import Plan, User
from accounts.serializers import MeSerializer, me_public
from accounts.tests.factories import UserFactory
from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db


def test_me_returns_the_callers_account(api_client, user):
    response = api_client.get("/auth/me", headers=bearer(user))

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(user.pk),
        "email": "alice@example.com",
        "first_name": "Alice",
        "last_name": user.last_name,
        "is_active": True,
        "created_at": body["date_joined"],
        "updated_at": body["updated_at"],
        "plan": "free",
        "is_staff": False,
        "date_joined": body["date_joined"],
    }
    assert body["date_joined"].startswith(str(user.date_joined.date()))
    assert body["updated_at"] >= body["created_at"]


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


def test_patch_me_changes_the_names_and_answers_the_account(api_client, user):
    before = api_client.get("/auth/me", headers=bearer(user)).json()

    response = api_client.patch(
        "/auth/me", {"first_name": "  Ada ", "last_name": "Lovelace"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["last_name"]) == ("Ada", "Lovelace")
    assert body["updated_at"] > before["updated_at"]
    assert body["created_at"] == before["created_at"]
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")


def test_patch_me_with_one_name_keeps_the_other(api_client, user):
    response = api_client.patch("/auth/me", {"last_name": "Byron"}, format="json", headers=bearer(user))

    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["last_name"]) == ("Alice", "Byron")


@pytest.mark.parametrize("field", ["email", "plan", "is_staff", "is_active"])
def test_patch_me_refuses_any_other_field_and_changes_nothing(api_client, user, field):
    value = {"email": "mallory@example.com", "plan": "enterprise", "is_staff": True, "is_active": False}[field]

    response = api_client.patch("/auth/me", {"first_name": "Eve", field: value}, format="json", headers=bearer(user))

    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["This field cannot be changed here."]}
    user.refresh_from_db()
    assert (user.first_name, user.email, user.plan, user.is_staff) == ("Alice", "alice@example.com", "free", False)


@pytest.mark.parametrize(
    ("body", "field"), [({"first_name": "x" * 151}, "first_name"), ({"last_name": 7}, "last_name")]
)
def test_patch_me_with_a_bad_name_is_400(api_client, user, body, field):
    response = api_client.patch("/auth/me", body, format="json", headers=bearer(user))

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {field}


def test_patch_me_without_credentials_is_401(api_client):
    assert api_client.patch("/auth/me", {"first_name": "Eve"}, format="json").status_code == 401


def test_a_name_change_keeps_sessions(api_client, user):
    headers = bearer(user)

    api_client.patch("/auth/me", {"first_name": "Ada"}, format="json", headers=headers)

    assert api_client.get("/auth/me", headers=headers).status_code == 200


def test_me_is_the_me_serializers_representation(api_client):
    made = UserFactory(plan=Plan.ENTERPRISE, first_name="Zoë", last_name="O'Neil", is_staff=True)

    response = api_client.get("/auth/me", headers=bearer(made))

    assert response.json() == MeSerializer(User.objects.get(pk=made.pk)).data
    assert me_public(made) == MeSerializer(made).data

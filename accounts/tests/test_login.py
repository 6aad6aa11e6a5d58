import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.errors import INVALID_CREDENTIALS
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_KEYS = {"access_token", "refresh_token", "token_type", "expires_in"}


def test_login_with_right_password_returns_bearer_tokens(api_client, user, password):
    response = api_client.post("/auth/login", {"email": user.email, "password": password}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == TOKEN_KEYS
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 30 * 60
    me = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert me.status_code == 200 and me.json()["email"] == user.email


def test_login_matches_email_in_any_case(api_client, password):
    UserFactory(email="Carol.Smith@Example.com")

    response = api_client.post("/auth/login", {"email": "CAROL.smith@example.COM", "password": password}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email", "inactive"])
def test_every_failed_login_is_401_with_the_same_message(api_client, user, password, case):
    email, given = user.email, password
    if case == "wrong_password":
        given = "not-the-password"
    elif case == "unknown_email":
        email = "nobody@example.com"
    else:
        user.is_active = False
        user.save()

    response = api_client.post("/auth/login", {"email": email, "password": given}, format="json")

    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_CREDENTIALS}


@pytest.mark.parametrize("body", [{}, {"email": "a@example.com"}, {"password": "x"}, {"email": "", "password": ""}])
def test_login_with_missing_fields_is_400_naming_them(api_client, body):
    response = api_client.post("/auth/login", body, format="json")

    assert response.status_code == 400
    assert response.json()["detail"]
    assert set(response.json()["errors"]) <= {"email", "password"}


@pytest.mark.parametrize("body", [{"email": 5, "password": "x"}, {"email": "a@example.com", "password": 12345678}])
def test_login_with_a_field_that_is_not_a_string_is_400_naming_it(api_client, body):
    response = api_client.post("/auth/login", body, format="json")  # DRF alone would read 5 as "5"

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {k for k, v in body.items() if not isinstance(v, str)}


def test_login_with_a_json_array_body_is_400(api_client):
    response = api_client.post("/auth/login", "[1, 2]", content_type="application/json")

    assert response.status_code == 400


def test_login_with_malformed_json_is_400(api_client):
    response = api_client.post("/auth/login", '{"email": ', content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_login_tolerates_one_trailing_slash(api_client, user, password):
    response = api_client.post("/auth/login/", {"email": user.email, "password": password}, format="json")

    assert response.status_code == 200


def test_expires_in_is_the_access_tokens_lifetime_in_seconds(api_client, user, password):
    response = api_client.post("/auth/login", {"email": user.email, "password": password}, format="json")

    access = AccessToken(response.json()["access_token"])
    assert response.json()["expires_in"] == access["exp"] - access["iat"] == 30 * 60

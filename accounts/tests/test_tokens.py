from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.errors import INVALID_REFRESH
from accounts.services import tokens_for
from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db


def _refresh(api_client, token):
    return api_client.post("/auth/refresh", {"refresh_token": token}, format="json")


def test_refresh_returns_a_new_pair_and_rotates_the_refresh_token(api_client, user):
    first = tokens_for(user=user)

    response = _refresh(api_client, first["refresh_token"])

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] != first["refresh_token"]
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}").status_code == 200


def test_a_rotated_refresh_token_cannot_be_used_again(api_client, user):
    first = tokens_for(user=user)
    assert _refresh(api_client, first["refresh_token"]).status_code == 200

    second_use = _refresh(api_client, first["refresh_token"])

    assert second_use.status_code == 401
    assert second_use.json() == {"detail": INVALID_REFRESH}


def test_refresh_with_an_access_token_is_401(api_client, user):
    response = _refresh(api_client, tokens_for(user=user)["access_token"])

    assert response.status_code == 401


def test_refresh_with_a_tampered_token_is_401(api_client, user):
    token = tokens_for(user=user)["refresh_token"]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    assert _refresh(api_client, tampered).status_code == 401


def test_refresh_with_an_expired_token_is_401(api_client, user):
    refresh = RefreshToken.for_user(user)
    refresh.set_exp(from_time=timezone.now() - timedelta(days=30), lifetime=timedelta(days=1))

    assert _refresh(api_client, str(refresh)).status_code == 401


def test_refresh_for_a_deactivated_user_is_401(api_client, user):
    token = tokens_for(user=user)["refresh_token"]
    user.is_active = False
    user.save()

    assert _refresh(api_client, token).status_code == 401


def test_refresh_with_a_token_that_is_not_a_string_is_400(api_client):
    response = api_client.post("/auth/refresh", {"refresh_token": 12345}, format="json")

    assert response.status_code == 400
    assert "refresh_token" in response.json()["errors"]


def test_refresh_without_the_field_is_400(api_client):
    response = _refresh(api_client, "")

    assert response.status_code == 400
    assert "refresh_token" in response.json()["errors"]


def test_refresh_token_used_as_bearer_is_401(api_client, user):
    refresh = tokens_for(user=user)["refresh_token"]

    response = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {refresh}")

    assert response.status_code == 401


def test_expired_access_token_is_401(api_client, user):
    access = AccessToken.for_user(user)
    access.set_exp(from_time=timezone.now() - timedelta(hours=2), lifetime=timedelta(minutes=1))

    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401


def test_unsigned_alg_none_token_is_401(api_client, user):
    payload = dict(AccessToken.for_user(user).payload)
    forged = jwt.encode(payload, key=None, algorithm="none")

    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


def test_token_signed_with_another_key_is_401(api_client, user):
    payload = dict(AccessToken.for_user(user).payload)
    forged = jwt.encode(payload, key="x" * 64, algorithm="HS256")

    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401


def test_tokens_are_hs256(user):
    header = jwt.get_unverified_header(tokens_for(user=user)["access_token"])

    assert header["alg"] == "HS256"
    assert settings.SIMPLE_JWT["ALGORITHM"] == "HS256"


def test_token_of_a_deactivated_user_is_401(api_client, user):
    headers = bearer(user)
    user.is_active = False
    user.save()

    assert api_client.get("/auth/me", headers=headers).status_code == 401


def test_token_of_a_deleted_user_is_401(api_client, user):
    headers = bearer(user)
    user.delete()

    assert api_client.get("/auth/me", headers=headers).status_code == 401

"""POST /auth/password: the caller's current password, a new one the validators accept; a fresh pair, and every
session issued before ends."""

import pytest
from django.core.cache import cache

from accounts.errors import WRONG_CURRENT_PASSWORD
from accounts.models import User
from accounts.services import tokens_for
from tests.helpers.auth import on_behalf_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-unusual-passphrase"


def _change(api_client, access_token, current, new=NEW_PASSWORD):
    return api_client.post(
        "/auth/password",
        {"current_password": current, "new_password": new},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token}",
    )


def _me(api_client, access_token):
    return api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def test_a_password_change_answers_a_fresh_pair_and_ends_every_session_issued_before(api_client, user, password):
    this_session, other_session = tokens_for(user=user), tokens_for(user=user)

    response = _change(api_client, this_session["access_token"], password)

    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert _me(api_client, fresh["access_token"]).status_code == 200
    for old in (this_session, other_session):
        assert _me(api_client, old["access_token"]).status_code == 401
        assert (
            api_client.post("/auth/refresh", {"refresh_token": old["refresh_token"]}, format="json").status_code == 401
        )
    assert api_client.post("/auth/refresh", {"refresh_token": fresh["refresh_token"]}, format="json").status_code == 200
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    login = api_client.post("/auth/login", {"email": user.email, "password": NEW_PASSWORD}, format="json")
    assert login.status_code == 200


def test_a_wrong_current_password_is_400_and_changes_nothing(api_client, user):
    session = tokens_for(user=user)

    response = _change(api_client, session["access_token"], "not-my-password")

    assert response.status_code == 400
    assert response.json() == {
        "detail": f"current_password: {WRONG_CURRENT_PASSWORD}",
        "errors": {"current_password": [WRONG_CURRENT_PASSWORD]},
    }
    assert _me(api_client, session["access_token"]).status_code == 200
    assert not User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short", "This password is too short. It must contain at least 8 characters."),
        ("password123", "This password is too common."),
        ("12345678901234", "This password is entirely numeric."),
        ("alice@example.com", "The password is too similar to the email address."),
    ],
)
def test_a_weak_new_password_is_400_naming_the_rule_and_changes_nothing(api_client, user, password, new, message):
    session = tokens_for(user=user)

    response = _change(api_client, session["access_token"], password, new=new)

    assert response.status_code == 400
    assert message in response.json()["errors"]["new_password"]
    assert _me(api_client, session["access_token"]).status_code == 200
    assert User.objects.get(pk=user.pk).check_password(password)


def test_wrong_current_passwords_count_as_failed_logins(api_client, user, password, settings):
    cache.clear()
    settings.LOGIN_FAILURE_LIMIT = 2
    session = tokens_for(user=user)

    statuses = [_change(api_client, session["access_token"], "wrong-guess").status_code for _ in range(2)]
    locked = _change(api_client, session["access_token"], password)
    login = api_client.post("/auth/login", {"email": user.email, "password": password}, format="json")
    cache.clear()

    assert statuses == [400, 400]
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert login.status_code == 429  # the same count as the login's


def test_a_password_change_without_credentials_is_401(api_client):
    response = api_client.post("/auth/password", {"current_password": "x", "new_password": "y"}, format="json")

    assert response.status_code == 401


def test_missing_fields_are_400(api_client, user):
    response = api_client.post(
        "/auth/password", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {tokens_for(user=user)['access_token']}"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"current_password", "new_password"}


def test_the_service_acting_for_a_user_may_change_the_password_with_the_current_one(api_client, user, password):
    response = api_client.post(
        "/auth/password",
        {"current_password": password, "new_password": NEW_PASSWORD},
        format="json",
        headers=on_behalf_of(user),
    )

    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)

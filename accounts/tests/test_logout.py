"""Logging out one session (its refresh token dies) and every session (every earlier token dies)."""

import pytest

from accounts.services import INVALID_REFRESH, tokens_for
from accounts.tests.factories import UserFactory
from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db


def _me(api_client, access_token):
    return api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def _refresh(api_client, refresh_token):
    return api_client.post("/auth/refresh", {"refresh_token": refresh_token}, format="json")


def _logout(api_client, refresh_token):
    return api_client.post("/auth/logout", {"refresh_token": refresh_token}, format="json")


def test_logout_kills_that_refresh_token_and_no_other(api_client, user):
    session, other_session = tokens_for(user=user), tokens_for(user=user)

    response = _logout(api_client, session["refresh_token"])

    assert response.status_code == 204
    assert response.content == b""
    assert _refresh(api_client, session["refresh_token"]).json() == {"detail": INVALID_REFRESH}
    assert _refresh(api_client, other_session["refresh_token"]).status_code == 200


def test_logout_needs_no_access_token_and_twice_is_still_204(api_client, user):
    session = tokens_for(user=user)

    assert _logout(api_client, session["refresh_token"]).status_code == 204
    assert _logout(api_client, session["refresh_token"]).status_code == 204


def test_logout_of_a_token_already_rotated_is_204_and_the_rotated_one_lives(api_client, user):
    old = tokens_for(user=user)
    rotated = _refresh(api_client, old["refresh_token"]).json()

    assert _logout(api_client, old["refresh_token"]).status_code == 204
    assert _refresh(api_client, rotated["refresh_token"]).status_code == 200


@pytest.mark.parametrize("what", ["garbage", "access token", "forged"])
def test_logout_with_something_that_is_not_our_refresh_token_is_401(api_client, user, what):
    from rest_framework_simplejwt.tokens import RefreshToken

    forged = RefreshToken.for_user(user)
    forged_text = str(forged)[:-4] + ("AAAA" if not str(forged).endswith("AAAA") else "BBBB")
    token = {"garbage": "not-a-jwt", "access token": tokens_for(user=user)["access_token"], "forged": forged_text}

    response = _logout(api_client, token[what])

    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_REFRESH}


def test_logout_without_a_refresh_token_is_400(api_client):
    response = api_client.post("/auth/logout", {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"refresh_token": ["This field is required."]}


def test_logout_all_ends_every_access_and_refresh_token_issued_before(api_client, user):
    laptop, phone = tokens_for(user=user), tokens_for(user=user)
    rotated_phone = _refresh(api_client, phone["refresh_token"]).json()

    response = api_client.post("/auth/logout-all", HTTP_AUTHORIZATION=f"Bearer {laptop['access_token']}")

    assert response.status_code == 204
    for session in (laptop, rotated_phone):
        assert _me(api_client, session["access_token"]).json() == {"detail": "This session has ended; log in again."}
        assert _refresh(api_client, session["refresh_token"]).status_code == 401


def test_after_logout_all_a_fresh_login_works(api_client, user, password):
    old = tokens_for(user=user)
    api_client.post("/auth/logout-all", HTTP_AUTHORIZATION=f"Bearer {old['access_token']}")

    login = api_client.post("/auth/login", {"email": user.email, "password": password}, format="json")

    assert login.status_code == 200
    assert _me(api_client, login.json()["access_token"]).status_code == 200


def test_logout_all_leaves_other_users_logged_in(api_client, user):
    other = UserFactory(email="carol@example.com")
    others_session = tokens_for(user=other)

    api_client.post("/auth/logout-all", headers=bearer(user))

    assert _me(api_client, others_session["access_token"]).status_code == 200


def test_logout_all_without_credentials_is_401(api_client):
    assert api_client.post("/auth/logout-all").status_code == 401


def test_after_logout_all_a_refresh_token_is_refused_saying_the_session_has_ended(api_client, user):
    session = tokens_for(user=user)
    api_client.post("/auth/logout-all", headers=bearer(user))

    response = _refresh(api_client, session["refresh_token"])

    assert response.status_code == 401
    assert response.json() == {"detail": "This session has ended; log in again."}


def test_a_refresh_token_that_is_not_ours_is_still_refused_as_invalid(api_client):
    response = _refresh(api_client, "not-a-token")

    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_REFRESH}

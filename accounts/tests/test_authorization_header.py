"""One reading of `Authorization`: the scheme is case-insensitive (RFC 9110), the token follows any whitespace, and
the same reading decides both whether a bearer credential is present (then it alone decides, whatever X-API-Key
says) and which token is checked."""

import pytest

from accounts.services import tokens_for
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SPELLINGS = {
    "a tab": "Bearer\t{token}",
    "several spaces": "Bearer    {token}",
    "a lowercase scheme": "bearer {token}",
    "an uppercase scheme": "BEARER {token}",
    "surrounding whitespace": " \tBearer {token}\t ",
    "a tab and spaces": "Bearer \t {token}",
}


@pytest.fixture
def others_key(api_client):
    """A valid X-API-Key of another account: were it read, the answer would be that account's."""
    other = UserFactory(email="mallory@example.com")
    access = tokens_for(user=other)["access_token"]
    response = api_client.post(
        "/auth/api-keys", {"name": "script"}, format="json", HTTP_AUTHORIZATION=f"Bearer {access}"
    )
    return other, response.json()["key"]


def _me(api_client, authorization: str, api_key: str | None = None):
    headers = {"HTTP_AUTHORIZATION": authorization}
    if api_key is not None:
        headers["HTTP_X_API_KEY"] = api_key
    return api_client.get("/auth/me", **headers)


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_bearer_token_however_spaced_or_cased_answers_as_its_owner(api_client, user, spelling):
    response = _me(api_client, spelling.format(token=tokens_for(user=user)["access_token"]))

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_bearer_token_however_spaced_or_cased_decides_alone_beside_another_accounts_key(
    api_client, user, others_key, spelling
):
    _, key = others_key

    response = _me(api_client, spelling.format(token=tokens_for(user=user)["access_token"]), api_key=key)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


EMPTY_OR_MALFORMED = {
    "no token": "Bearer",
    "no token after a space": "Bearer ",
    "no token, lowercase, after a tab": "bearer\t",
    "two tokens": "Bearer one two",
    "not a jwt": "bearer not-a-jwt",
}


@pytest.mark.parametrize("with_key", [False, True], ids=["alone", "beside another account's key"])
@pytest.mark.parametrize("authorization", EMPTY_OR_MALFORMED.values(), ids=EMPTY_OR_MALFORMED.keys())
def test_a_bearer_scheme_with_an_empty_or_bad_token_is_401_and_no_key_rescues_it(
    api_client, others_key, authorization, with_key
):
    _, key = others_key

    response = _me(api_client, authorization, api_key=key if with_key else None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert set(response.json()) <= {"detail", "code"}
    assert response.json()["detail"] != "Authentication credentials were not provided."


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearerx abc", "Token abc", ""])
def test_another_scheme_is_no_bearer_credential_so_the_key_decides(api_client, others_key, authorization):
    other, key = others_key

    with_key = _me(api_client, authorization, api_key=key)
    alone = _me(api_client, authorization)

    assert with_key.status_code == 200
    assert with_key.json()["id"] == str(other.pk)
    assert alone.status_code == 401
    assert alone.json() == {"detail": "Authentication credentials were not provided."}

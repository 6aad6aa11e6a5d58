"""Personal API keys: made with a bearer token, shown once, stored hashed, sent as X-API-Key on every route a
person may use, refused (403) where they may not, and 401 once revoked, expired or their owner inactive."""

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.authentication import API_KEY_EXPIRED, API_KEY_OWNER_INACTIVE, API_KEY_REVOKED, INVALID_API_KEY
from accounts.errors import API_KEY_EXPIRY_PAST
from accounts.models import ApiKey, User
from accounts.permissions import API_KEY_REFUSED
from accounts.tests.factories import UserFactory
from tests.helpers.auth import bearer, on_behalf_of
from tests.helpers.constants import PASSWORD

pytestmark = pytest.mark.django_db


def _create(api_client, user, **body):
    return api_client.post("/auth/api-keys", {"name": "laptop script", **body}, format="json", headers=bearer(user))


def _key(api_client, user, **body) -> str:
    return _create(api_client, user, **body).json()["key"]


def _me(api_client, key):
    return api_client.get("/auth/me", HTTP_X_API_KEY=key)


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(api_client, user):
    response = _create(api_client, user)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "key", "prefix", "created_at", "last_used_at", "expires_at"}
    assert (body["name"], body["last_used_at"], body["expires_at"]) == ("laptop script", None, None)
    assert body["key"].startswith(f"{body['prefix']}.") and len(body["prefix"]) == 8
    row = ApiKey.objects.get(pk=body["id"])
    stored = [str(getattr(row, field.attname)) for field in ApiKey._meta.concrete_fields]
    assert not any(body["key"].split(".")[1] in value for value in stored)
    assert row.hashed_key.startswith("sha512$$")
    listed = api_client.get("/auth/api-keys", headers=bearer(user)).json()
    assert [item["id"] for item in listed] == [body["id"]]
    assert "key" not in listed[0] and body["key"] not in str(listed)


def test_a_key_acts_as_its_owner(api_client, user):
    key = _key(api_client, user)

    me = _me(api_client, key)
    renamed = api_client.patch("/auth/me", {"first_name": "Scripted"}, format="json", HTTP_X_API_KEY=key)

    assert me.status_code == 200
    assert me.json()["id"] == str(user.pk)
    assert renamed.status_code == 200
    assert User.objects.get(pk=user.pk).first_name == "Scripted"


def test_a_key_reaches_the_personal_entities_proxy_as_its_owner(api_client, user, agents_double):
    key = _key(api_client, user)

    response = api_client.get("/personal/entities", HTTP_X_API_KEY=key)

    assert response.status_code == 200
    [seen] = agents_double.received()
    assert seen["headers"]["X-User-Id"] == str(user.pk)
    assert key not in str(seen["headers"])


def test_a_key_lists_and_revokes_its_owners_keys(api_client, user):
    key = _key(api_client, user)
    other = _create(api_client, user, name="ci").json()

    listed = api_client.get("/auth/api-keys", HTTP_X_API_KEY=key)
    revoked = api_client.delete(f"/auth/api-keys/{other['id']}", HTTP_X_API_KEY=key)

    assert listed.status_code == 200 and len(listed.json()) == 2
    assert revoked.status_code == 204


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/auth/password", {"current_password": PASSWORD, "new_password": "another-long-passphrase"}),
        ("post", "/auth/api-keys", {"name": "a key made by a key"}),
    ],
)
def test_a_key_is_refused_with_403_where_only_a_bearer_token_may_go(api_client, user, method, path, body):
    key = _key(api_client, user)

    response = getattr(api_client, method)(path, body, format="json", HTTP_X_API_KEY=key)

    assert response.status_code == 403
    assert response.json() == {"detail": API_KEY_REFUSED}
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(("method", "path"), [("get", "/invites"), ("post", "/invites")])
def test_a_staff_members_key_does_not_open_the_invite_admin_api(api_client, staff_user, method, path):
    key = _key(api_client, staff_user)

    response = getattr(api_client, method)(path, {}, format="json", HTTP_X_API_KEY=key)

    assert response.status_code == 403
    assert response.json() == {"detail": API_KEY_REFUSED}
    assert api_client.get("/invites", headers=bearer(staff_user)).status_code == 200


def test_a_key_does_not_open_the_django_admin(api_client, staff_user):
    key = _key(api_client, staff_user)

    response = Client().get("/admin/", HTTP_X_API_KEY=key)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_reset_and_login_routes_take_no_key_they_answer_as_for_anyone(api_client, user):
    key = _key(api_client, user)

    login = api_client.post(
        "/auth/login", {"email": user.email, "password": "wrong"}, format="json", HTTP_X_API_KEY=key
    )

    assert login.status_code == 401  # the key is no credential there: only the body counts


def test_a_revoked_key_is_401_and_stays_on_record(api_client, user):
    created = _create(api_client, user).json()

    first = api_client.delete(f"/auth/api-keys/{created['id']}", headers=bearer(user))
    revoked_at = ApiKey.objects.get(pk=created["id"]).revoked_at
    again = api_client.delete(f"/auth/api-keys/{created['id']}", headers=bearer(user))
    response = _me(api_client, created["key"])

    assert (first.status_code, again.status_code) == (204, 204)
    assert response.status_code == 401
    assert response.json() == {"detail": API_KEY_REVOKED}
    row = ApiKey.objects.get(pk=created["id"])
    assert row.revoked and row.revoked_at == revoked_at
    [listed] = api_client.get("/auth/api-keys", headers=bearer(user)).json()
    assert listed["revoked_at"] is not None


def test_an_expired_key_is_401(api_client, user):
    created = _create(api_client, user, expires_at=(timezone.now() + timedelta(hours=1)).isoformat()).json()
    assert _me(api_client, created["key"]).status_code == 200

    ApiKey.objects.filter(pk=created["id"]).update(expiry_date=timezone.now() - timedelta(seconds=1))
    response = _me(api_client, created["key"])

    assert response.status_code == 401
    assert response.json() == {"detail": API_KEY_EXPIRED}


def test_a_key_whose_owner_is_inactive_is_401(api_client, user):
    key = _key(api_client, user)
    user.is_active = False
    user.save()

    response = _me(api_client, key)

    assert response.status_code == 401
    assert response.json() == {"detail": API_KEY_OWNER_INACTIVE}


@pytest.mark.parametrize("presented", ["", "nonsense", "abcdefgh.abcdefghijklmnopqrstuvwxyz012345", "x" * 5000])
def test_an_unknown_or_malformed_key_is_401_with_www_authenticate(api_client, user, presented):
    _key(api_client, user)

    response = _me(api_client, presented)

    assert response.status_code == 401
    assert response.json() == {"detail": INVALID_API_KEY}
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_key_with_a_wrong_secret_behind_a_real_prefix_is_401(api_client, user):
    key = _key(api_client, user)
    prefix, secret = key.split(".")
    wrong = f"{prefix}.{secret[::-1]}"

    assert _me(api_client, wrong).json() == {"detail": INVALID_API_KEY}


def test_with_a_bearer_token_too_the_token_decides_and_the_key_is_ignored(api_client, user):
    other = UserFactory(email="carol@example.com")
    key = _key(api_client, user)

    as_bearer = api_client.get("/auth/me", HTTP_X_API_KEY=key, headers=bearer(other))
    bad_key_good_bearer = api_client.get("/auth/me", HTTP_X_API_KEY="a-gateways-own-key", headers=bearer(other))
    good_key_bad_bearer = api_client.get("/auth/me", HTTP_X_API_KEY=key, HTTP_AUTHORIZATION="Bearer not-a-jwt")

    assert as_bearer.json()["id"] == str(other.pk)
    assert bad_key_good_bearer.json()["id"] == str(other.pk)
    assert good_key_bad_bearer.status_code == 401


def test_an_authorization_header_of_another_scheme_leaves_the_key_in_charge(api_client, user):
    """HTTP clients add Basic credentials on their own (requests reads ~/.netrc): only a bearer token decides."""
    key = _key(api_client, user)

    response = api_client.get("/auth/me", HTTP_X_API_KEY=key, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert response.json()["id"] == str(user.pk)


def test_the_service_key_wins_over_an_api_key(api_client, user):
    other = UserFactory(email="carol@example.com")
    key = _key(api_client, user)

    response = api_client.get("/auth/me", HTTP_X_API_KEY=key, headers=on_behalf_of(other))

    assert response.json()["id"] == str(other.pk)


def test_last_used_at_is_written_at_most_once_a_minute(api_client, user):
    created = _create(api_client, user).json()

    _me(api_client, created["key"])
    first = ApiKey.objects.get(pk=created["id"]).last_used_at
    _me(api_client, created["key"])
    second = ApiKey.objects.get(pk=created["id"]).last_used_at
    ApiKey.objects.filter(pk=created["id"]).update(last_used_at=timezone.now() - timedelta(seconds=61))
    _me(api_client, created["key"])
    third = ApiKey.objects.get(pk=created["id"]).last_used_at

    assert first is not None and second == first
    assert third > first
    assert api_client.get("/auth/api-keys", headers=bearer(user)).json()[0]["last_used_at"] is not None


def test_a_key_is_no_session_and_survives_logout_all(api_client, user):
    key = _key(api_client, user)

    api_client.post("/auth/logout-all", headers=bearer(user))

    assert _me(api_client, key).status_code == 200


def test_another_users_key_cannot_be_revoked_and_looks_absent(api_client, user):
    theirs = _create(api_client, UserFactory(email="carol@example.com")).json()

    response = api_client.delete(f"/auth/api-keys/{theirs['id']}", headers=bearer(user))

    assert response.status_code == 404
    assert response.json() == {"detail": "API key not found."}
    assert _me(api_client, theirs["key"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": 5}, "name"),
        ({"expires_at": "soon"}, "expires_at"),
    ],
)
def test_a_bad_key_request_is_400(api_client, user, body, field):
    response = api_client.post("/auth/api-keys", body, format="json", headers=bearer(user))

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_expiry_in_the_past_is_400(api_client, user):
    response = _create(api_client, user, expires_at=(timezone.now() - timedelta(minutes=1)).isoformat())

    assert response.status_code == 400
    assert response.json()["errors"] == {"expires_at": [API_KEY_EXPIRY_PAST]}


def test_the_key_routes_without_credentials_are_401(api_client):
    assert api_client.get("/auth/api-keys").status_code == 401
    assert api_client.post("/auth/api-keys", {"name": "x"}, format="json").status_code == 401


def test_a_key_never_reaches_the_logs(api_client, user, caplog):
    key = _key(api_client, user)

    with caplog.at_level(logging.DEBUG):
        _me(api_client, key)
        _me(api_client, key + "x")
        logging.getLogger("wisdom.test").warning("caller sent X-API-Key: %s", key)

    from wisdom.logging import redact_text

    assert key not in redact_text(f"X-API-Key: {key}")
    assert key not in redact_text(f"a key {key} inline")
    for record in caplog.records:
        assert key not in redact_text(record.getMessage())


# --- the Django admin: staff list and revoke anyone's keys -------------------------------------------


def test_staff_list_every_users_keys_in_the_admin_and_revoke_them(api_client, user):
    created = _create(api_client, user).json()
    admin = Client()
    admin.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))

    listing = admin.get("/admin/accounts/apikey/")
    revoke = admin.post(
        "/admin/accounts/apikey/", {"action": "revoke_selected", "_selected_action": [created["id"]]}, follow=True
    )

    assert listing.status_code == 200
    assert created["prefix"].encode() in listing.content and b"alice@example.com" in listing.content
    assert created["key"].encode() not in listing.content
    assert revoke.status_code == 200 and b"Revoked 1 API key" in revoke.content
    assert ApiKey.objects.get(pk=created["id"]).revoked
    assert _me(api_client, created["key"]).status_code == 401
    assert admin.get("/admin/accounts/apikey/add/").status_code == 403
    assert admin.get(f"/admin/accounts/apikey/{created['id']}/delete/").status_code == 403

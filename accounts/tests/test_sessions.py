"""A changed password, a deactivation or an explicit end of sessions refuses every earlier token at once."""

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test import Client

from accounts import services
from accounts.models import User
from accounts.services import SESSION_ENDED, tokens_for
from accounts.tests.factories import UserFactory
from tests.helpers.auth import on_behalf_of

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-unusual-passphrase"


def _me(api_client, access_token):
    return api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {access_token}")


def _refresh(api_client, refresh_token):
    return api_client.post("/auth/refresh", {"refresh_token": refresh_token}, format="json")


def _change_password(user, password=NEW_PASSWORD):
    user.set_password(password)
    user.save()


def test_a_password_change_refuses_the_old_access_token_at_once(api_client, user):
    old = tokens_for(user=user)
    assert _me(api_client, old["access_token"]).status_code == 200

    _change_password(User.objects.get(pk=user.pk))

    response = _me(api_client, old["access_token"])
    assert response.status_code == 401
    assert response.json() == {"detail": "This session has ended; log in again."}


def test_a_password_change_refuses_the_old_refresh_token(api_client, user):
    old = tokens_for(user=user)

    _change_password(User.objects.get(pk=user.pk))

    response = _refresh(api_client, old["refresh_token"])
    assert response.status_code == 401
    assert response.json() == {"detail": SESSION_ENDED}


def test_a_refresh_token_rotated_before_the_change_is_refused_too(api_client, user):
    rotated = _refresh(api_client, tokens_for(user=user)["refresh_token"]).json()

    _change_password(User.objects.get(pk=user.pk))

    assert _refresh(api_client, rotated["refresh_token"]).status_code == 401
    assert _me(api_client, rotated["access_token"]).status_code == 401


def test_after_a_password_change_a_fresh_login_works(api_client, user):
    old = tokens_for(user=user)
    _change_password(User.objects.get(pk=user.pk))

    login = api_client.post("/auth/login", {"email": user.email, "password": NEW_PASSWORD}, format="json")

    assert login.status_code == 200
    fresh = login.json()
    assert _me(api_client, fresh["access_token"]).status_code == 200
    assert _refresh(api_client, fresh["refresh_token"]).status_code == 200
    assert _me(api_client, old["access_token"]).status_code == 401


def test_the_admin_password_form_ends_earlier_sessions(api_client, user):
    old = tokens_for(user=user)
    admin = Client()
    admin.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))

    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert _me(api_client, old["access_token"]).status_code == 401
    assert _refresh(api_client, old["refresh_token"]).status_code == 401


def test_disabling_password_login_in_the_admin_ends_earlier_sessions(api_client, user):
    old = tokens_for(user=user)
    admin = Client()
    admin.force_login(UserFactory(email="root@example.com", is_staff=True, is_superuser=True))

    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 302
    assert not User.objects.get(pk=user.pk).has_usable_password()
    assert _me(api_client, old["access_token"]).status_code == 401


def test_the_changepassword_command_ends_earlier_sessions(api_client, user, monkeypatch):
    from django.contrib.auth.management.commands import changepassword

    old = tokens_for(user=user)
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": NEW_PASSWORD)

    call_command("changepassword", user.email, stdout=None)

    assert _me(api_client, old["access_token"]).status_code == 401
    assert _refresh(api_client, old["refresh_token"]).status_code == 401


def test_user_sessions_end_refuses_every_earlier_token_and_not_later_ones(api_client, user):
    first, second = tokens_for(user=user), tokens_for(user=user)

    services.user_sessions_end(user=user)

    for old in (first, second):
        assert _me(api_client, old["access_token"]).status_code == 401
        assert _refresh(api_client, old["refresh_token"]).status_code == 401
    later = tokens_for(user=User.objects.get(pk=user.pk))
    assert _me(api_client, later["access_token"]).status_code == 200


def test_a_deactivated_account_stays_logged_out_when_reactivated(api_client, user):
    old = tokens_for(user=user)
    user.is_active = False
    user.save()
    assert _me(api_client, old["access_token"]).status_code == 401

    user.is_active = True
    user.save()

    assert _me(api_client, old["access_token"]).status_code == 401
    assert _refresh(api_client, old["refresh_token"]).status_code == 401


def test_a_password_rehash_at_login_is_no_password_change(api_client, password):
    """Logging in upgrades an old hash to the preferred hasher; that must not log the user out elsewhere."""
    user = UserFactory(email="rehash@example.com")
    User.objects.filter(pk=user.pk).update(password=make_password(password, hasher="argon2"))
    user = User.objects.get(pk=user.pk)
    old = tokens_for(user=user)

    login = api_client.post("/auth/login", {"email": user.email, "password": password}, format="json")

    assert login.status_code == 200
    assert User.objects.get(pk=user.pk).password.startswith("md5$")  # the test settings prefer MD5: rehashed
    assert _me(api_client, old["access_token"]).status_code == 200
    assert _refresh(api_client, old["refresh_token"]).status_code == 200


def test_saving_other_fields_keeps_sessions(api_client, user):
    old = tokens_for(user=user)
    user.first_name = "Renamed"
    user.plan = "pro"
    user.save()

    assert _me(api_client, old["access_token"]).status_code == 200


def test_a_token_without_the_version_claim_is_refused(api_client, user):
    """Tokens minted before versions existed cannot be told apart from revoked ones: they are refused."""
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    assert _me(api_client, str(AccessToken.for_user(user))).status_code == 401
    assert _refresh(api_client, str(RefreshToken.for_user(user))).status_code == 401


def test_the_service_key_path_is_unaffected_by_a_password_change(api_client, user):
    _change_password(User.objects.get(pk=user.pk))

    response = api_client.get("/auth/me", headers=on_behalf_of(user))

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)

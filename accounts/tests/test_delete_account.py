"""POST /auth/delete-account: the owner, with their password, and at once nothing of theirs works any more."""

import pytest
from post_office.models import Email
from rest_framework.test import APIClient

from accounts.models import AccountDeletion, ApiKey, DeletionState, DeletionStep, User
from accounts.services import api_key_create, tokens_for
from accounts.services.deletion import account_deletion_request
from accounts.tests.factories import UserFactory
from tests.helpers.auth import bearer, on_behalf_of
from tests.helpers.constants import PASSWORD

URL = "/auth/delete-account"


def _client(headers: dict) -> APIClient:
    client = APIClient()
    client.credentials(**{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})
    return client


@pytest.mark.django_db
def test_deleting_the_account_stops_every_token_key_and_the_password_at_once(user):
    tokens = tokens_for(user=user)
    _, key = api_key_create(user=user, name="laptop")
    client = _client({"Authorization": f"Bearer {tokens['access_token']}"})

    response = client.post(URL, {"password": PASSWORD}, format="json")

    assert response.status_code == 202, response.content
    assert response.json()["status"] == "pending"
    assert client.get("/auth/me").status_code == 401
    assert _client({"X-API-Key": key}).get("/auth/me").status_code == 401
    assert (
        APIClient().post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json").status_code == 401
    )
    login = APIClient().post("/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert login.status_code == 401
    user.refresh_from_db()
    assert (user.is_active, user.has_usable_password()) == (False, False)
    assert ApiKey.objects.get(user=user).revoked is True
    deletion = AccountDeletion.objects.get(subject_id=user.pk)
    assert (deletion.state, deletion.step, deletion.user_id) == (
        DeletionState.PENDING,
        DeletionStep.LIST_ENTITIES,
        user.pk,
    )


@pytest.mark.django_db
def test_the_notice_email_is_queued_with_the_request(user, user_client):
    user_client.post(URL, {"password": PASSWORD}, format="json")

    notice = AccountDeletion.objects.get(subject_id=user.pk).notice_email
    assert notice.to == [user.email]
    assert notice.subject == "Your Intuno Personal account is being deleted"
    assert Email.objects.count() == 1


@pytest.mark.django_db
def test_a_wrong_password_is_a_400_and_counts_as_a_failed_login(user, user_client, small_login_limits):
    answers = [user_client.post(URL, {"password": "not-it"}, format="json") for _ in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert answers[0].json()["errors"] == {"password": ["Your password is not correct."]}
    assert answers[3].has_header("Retry-After")
    # the login is refused too: the failures were counted for this address and email
    login = APIClient().post("/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert login.status_code == 429
    assert User.objects.get(pk=user.pk).is_active
    assert not AccountDeletion.objects.exists()


@pytest.mark.django_db
def test_an_api_key_cannot_delete_the_account(user):
    _, key = api_key_create(user=user, name="laptop")

    response = _client({"X-API-Key": key}).post(URL, {"password": PASSWORD}, format="json")

    assert response.status_code == 403
    assert User.objects.get(pk=user.pk).is_active


@pytest.mark.django_db
def test_a_service_acting_for_the_person_cannot_delete_the_account(user):
    response = _client(on_behalf_of(user)).post(URL, {"password": PASSWORD}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "An account can be deleted only by its owner, not by a service acting for them."
    }
    assert User.objects.get(pk=user.pk).is_active


@pytest.mark.django_db
def test_an_account_without_a_password_cannot_be_deleted_here():
    user = UserFactory()
    user.set_unusable_password()
    user.save()

    response = _client(bearer(user)).post(URL, {"password": "anything"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("This account has no password")
    assert User.objects.get(pk=user.pk).is_active


@pytest.mark.django_db
def test_a_missing_password_is_a_400(user_client, user):
    response = user_client.post(URL, {}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert User.objects.get(pk=user.pk).is_active


@pytest.mark.django_db
def test_a_second_request_racing_the_first_finds_the_deletion_under_way_and_adds_nothing(user):
    stale = User.objects.get(pk=user.pk)  # read before the first request changed the row

    first = account_deletion_request(user=user, password=PASSWORD, address="198.51.100.3")
    second = account_deletion_request(user=stale, password=PASSWORD, address="198.51.100.3")

    assert second.pk == first.pk
    assert Email.objects.count() == 1

"""Redeeming with an email that is another spelling of an existing account's, and with a Unicode email."""

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from tests.helpers.constants import PASSWORD

pytestmark = pytest.mark.django_db


def redeem(client, invite, **body):
    payload = {"password": PASSWORD, "first_name": "Nia", **body}
    return client.post(f"/invites/{invite.token}/redeem", payload, format="json")


@pytest.mark.parametrize("variant", ["admİn@example.com", "ADMİN@example.com", "adm\u0131n@example.com"])
def test_redeeming_a_lookalike_of_an_existing_email_is_409_and_costs_nothing(api_client, invite, variant):
    UserFactory(email="admin@example.com")

    response = redeem(api_client, invite, email=variant)

    assert response.status_code == 409
    assert response.json() == {"detail": "An account with this email already exists."}
    assert User.objects.count() == 2  # the existing account and the invite's inviter
    invite.refresh_from_db()
    assert invite.use_count == 0


def test_an_account_redeemed_with_a_dotted_capital_i_logs_in_as_registered_and_as_ascii(api_client, invite):
    tokens = redeem(api_client, invite, email="İvy@example.com").json()
    owner = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").json()

    for typed in ("İvy@example.com", "ivy@example.com", "IVY@example.com"):
        login = api_client.post("/auth/login", {"email": typed, "password": PASSWORD}, format="json")
        assert login.status_code == 200, typed
        me = api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {login.json()['access_token']}")
        assert me.json()["id"] == owner["id"]
    assert owner["email"] == "İvy@example.com"


def test_after_ivy_redeems_with_a_dotted_capital_i_plain_ivy_cannot_redeem_again(api_client, invite):
    from invites.tests.factories import InviteFactory

    assert redeem(api_client, invite, email="İvy@example.com").status_code == 201

    second = redeem(api_client, InviteFactory(), email="ivy@example.com")

    assert second.status_code == 409

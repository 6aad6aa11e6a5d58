import pytest
from django.core.cache import cache

from invites.tests.factories import InviteFactory
from invites.throttles import InvitesIpThrottle

pytestmark = pytest.mark.django_db


def test_preview_of_an_active_invite_shows_what_it_offers(api_client, invite):
    response = api_client.get(f"/invites/{invite.token}/preview")

    assert response.status_code == 200
    assert response.json() == {
        "email": "newcomer@example.com",
        "inviter_name": "Stella",
        "expires_at": invite.expires_at.isoformat().replace("+00:00", "Z"),
        "max_uses": 1,
        "use_count": 0,
    }


def test_preview_without_email_or_inviter_shows_nulls(api_client):
    invite = InviteFactory(email="", inviter=None, expires_at=None, max_uses=5, use_count=2)

    response = api_client.get(f"/invites/{invite.token}/preview")

    assert response.status_code == 200
    assert response.json() == {"email": None, "inviter_name": None, "expires_at": None, "max_uses": 5, "use_count": 2}


def test_preview_never_shows_the_inviters_email_when_they_have_no_name(api_client):
    invite = InviteFactory(inviter__first_name="", inviter__last_name="", inviter__email="boss@example.com")

    response = api_client.get(f"/invites/{invite.token}/preview")

    assert response.status_code == 200
    assert response.json()["inviter_name"] is None
    assert "boss@example.com" not in response.content.decode()


def test_preview_names_the_inviter_by_full_name_when_they_have_no_first_name(api_client):
    invite = InviteFactory(inviter__first_name="", inviter__last_name="Okafor", inviter__email="boss@example.com")

    assert api_client.get(f"/invites/{invite.token}/preview").json()["inviter_name"] == "Okafor"


@pytest.mark.parametrize("token", ["no-such-token", "x" * 500, "%00"])
def test_preview_of_an_unknown_token_is_404(api_client, token):
    response = api_client.get(f"/invites/{token}/preview")

    assert response.status_code == 404
    assert response.json() == {"detail": "Invite not found."}


@pytest.mark.parametrize(
    "fields, detail, status",
    [
        ({"expired": True}, "This invite has expired.", "expired"),
        ({"used_up": True}, "This invite has been used up.", "used_up"),
        ({"revoked": True}, "This invite has been revoked.", "revoked"),
    ],
)
def test_preview_of_a_spent_invite_is_410_saying_why(api_client, fields, detail, status):
    invite = InviteFactory(**fields)

    response = api_client.get(f"/invites/{invite.token}/preview")

    assert response.status_code == 410
    assert response.json() == {"detail": detail, "status": status}


def test_preview_ignores_credentials_and_tolerates_a_trailing_slash(api_client, invite):
    response = api_client.get(f"/invites/{invite.token}/preview/", HTTP_AUTHORIZATION="Bearer garbage")

    assert response.status_code == 200


def test_preview_is_throttled_per_ip(api_client, invite, monkeypatch):
    cache.clear()
    monkeypatch.setattr(InvitesIpThrottle, "rate", "2/min", raising=False)

    statuses = [api_client.get(f"/invites/{invite.token}/preview").status_code for _ in range(3)]
    cache.clear()

    assert statuses == [200, 200, 429]

"""JSON in and out must be valid Unicode text: a lone surrogate is a 400 on the way in, and never a
500 on the way out."""

import pytest
import requests

from accounts.models import User
from invites.tests.factories import InviteFactory
from tests.helpers.auth import bearer

pytestmark = pytest.mark.django_db

SURROGATE_BODY = '{"name": "ok", "display_name": "\\ud800"}'


def test_a_lone_surrogate_in_a_forwarded_field_is_400_and_never_sent(api_client, user, agents_double):
    response = api_client.post(
        "/personal/entities", SURROGATE_BODY, content_type="application/json", headers=bearer(user)
    )

    assert response.status_code == 400
    assert "unpaired surrogate" in response.json()["detail"]
    assert agents_double.received() == []


def test_a_lone_surrogate_in_a_redeem_is_400_and_creates_nothing(api_client):
    invite = InviteFactory(max_uses=1)
    body = '{"email": "s@example.com", "password": "a-long-and-unusual-passphrase", "first_name": "\\udfff"}'

    response = api_client.post(f"/invites/{invite.token}/redeem", body, content_type="application/json")

    assert response.status_code == 400
    invite.refresh_from_db()
    assert invite.use_count == 0
    assert not User.objects.filter(email="s@example.com").exists()


def test_an_upstream_answer_holding_a_lone_surrogate_renders_escaped(api_client, user, agents_double):
    # The double is Python too: it keeps the escape it was sent and answers with it.
    requests.post(
        f"{agents_double.url}/entities",
        data='{"name": "odd", "display_name": "\\ud800"}',
        headers={"X-API-Key": agents_double.api_key, "X-User-Id": str(user.pk), "Content-Type": "application/json"},
        timeout=5,
    )

    response = api_client.get("/personal/entities/odd", headers=bearer(user))

    assert response.status_code == 200
    assert b'"display_name":"\\ud800"' in response.content


def test_non_ascii_text_round_trips(api_client, user, agents_double):
    response = api_client.post(
        "/personal/entities", {"name": "café", "display_name": "日本語 ✓"}, format="json", headers=bearer(user)
    )

    assert response.status_code == 201
    assert response.json()["display_name"] == "日本語 ✓"
    assert '"display_name": "日本語 ✓"' in agents_double.received()[-1]["body"]

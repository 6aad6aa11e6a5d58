"""The authentication rules, over HTTP against a real gunicorn on the test database."""

import pytest
import requests

from accounts.models import User
from tests.helpers.bodies import bad_request
from tests.helpers.constants import PASSWORD

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def live_user(make_live_user):
    return make_live_user(email="Live.User@Example.com", first_name="Liv")


def _login(url, email, password):
    return requests.post(f"{url}/auth/login", json={"email": email, "password": password}, timeout=10)


def test_login_refresh_and_me_work_on_a_running_server(wisdom_live, live_user):
    login = _login(wisdom_live.url, "live.user@example.com", PASSWORD)
    assert login.status_code == 200
    tokens = login.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 1800

    me = requests.get(f"{wisdom_live.url}/auth/me/", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == str(live_user.pk)

    refreshed = requests.post(f"{wisdom_live.url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    reused = requests.post(f"{wisdom_live.url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401


def test_a_password_change_ends_sessions_at_once_on_a_running_server(wisdom_live, live_user):
    tokens = _login(wisdom_live.url, live_user.email, PASSWORD).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    # two workers: each has already read the token once, so nothing cached per process could hide the change
    for _ in range(4):
        assert requests.get(f"{wisdom_live.url}/auth/me", headers=bearer, timeout=10).status_code == 200

    user = User.objects.get(pk=live_user.pk)  # what `manage.py changepassword` does
    user.set_password("a-new-long-unusual-passphrase")
    user.save()

    for _ in range(4):
        assert requests.get(f"{wisdom_live.url}/auth/me", headers=bearer, timeout=10).status_code == 401
    refreshed = requests.post(f"{wisdom_live.url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401


def test_failed_logins_are_401_alike_on_a_running_server(wisdom_live, live_user):
    wrong = _login(wisdom_live.url, live_user.email, "nope")
    unknown = _login(wisdom_live.url, "ghost@example.com", PASSWORD)

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Invalid email or password."}
    assert PASSWORD not in wisdom_live.log()


def test_a_tab_separated_or_lowercase_bearer_token_decides_alone_beside_another_accounts_key(
    wisdom_live, live_user, make_live_user
):
    other = make_live_user(email="other@example.com", first_name="Oth")
    others_token = _login(wisdom_live.url, other.email, PASSWORD).json()["access_token"]
    others_key = requests.post(
        f"{wisdom_live.url}/auth/api-keys", json={"name": "script"}, headers={"Authorization": f"Bearer {others_token}"}
    ).json()["key"]
    token = _login(wisdom_live.url, live_user.email, PASSWORD).json()["access_token"]

    answers = [
        requests.get(f"{wisdom_live.url}/auth/me", headers={"Authorization": spelling, "X-API-Key": others_key})
        for spelling in (f"Bearer\t{token}", f"bearer   {token}")
    ]
    empty = requests.get(f"{wisdom_live.url}/auth/me", headers={"Authorization": "bearer", "X-API-Key": others_key})

    assert [(a.status_code, a.json()["id"]) for a in answers] == [(200, str(live_user.pk))] * 2
    assert empty.status_code == 401


def test_missing_credentials_get_401_with_a_challenge(wisdom_live):
    response = requests.get(f"{wisdom_live.url}/auth/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_service_key_rules_hold_on_a_running_server(wisdom_live, live_user):
    url = f"{wisdom_live.url}/auth/me"
    delegated = requests.get(url, headers={"X-Service-Key": "test-service-key-2", "X-On-Behalf-Of": str(live_user.pk)})
    assert delegated.status_code == 200 and delegated.json()["email"] == live_user.email

    empty = requests.get(url, headers={"X-Service-Key": "", "X-On-Behalf-Of": str(live_user.pk)})
    assert empty.status_code == 401 and empty.json() == {"detail": "Invalid service key"}

    itself = requests.get(url, headers={"X-Service-Key": "test-service-key-1"})
    assert itself.status_code == 400
    assert itself.json() == bad_request("X-On-Behalf-Of header is required when X-Service-Key is set")

    bad_uuid = requests.get(url, headers={"X-Service-Key": "test-service-key-1", "X-On-Behalf-Of": "nope"})
    assert bad_uuid.status_code == 400

    no_key = requests.get(url, headers={"X-On-Behalf-Of": str(live_user.pk)})
    assert no_key.status_code == 401
    assert "test-service-key" not in wisdom_live.log()


def test_request_id_is_echoed_or_made(wisdom_live):
    given = requests.get(f"{wisdom_live.url}/healthz", headers={"X-Request-ID": "trace-abc.123"})
    made = requests.get(f"{wisdom_live.url}/healthz", headers={"X-Request-ID": "bad id with spaces"})

    assert given.headers["X-Request-ID"] == "trace-abc.123"
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"] != "bad id with spaces"


def test_health_and_readiness_answer(wisdom_live):
    assert requests.get(f"{wisdom_live.url}/healthz").json() == {"status": "ok"}
    ready = requests.get(f"{wisdom_live.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}

"""A reset by email takes the account back: every API key is revoked; a change by the signed-in owner keeps them.
The owner is told by email of a password changed or reset and of a key made: what, when, from which client address
(as the throttles see it), what to do if it was not them, and never a secret."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from post_office.models import Email

from accounts.models import ApiKey
from tests.helpers.auth import bearer
from tests.helpers.constants import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-unusual-passphrase"
CLIENT = "203.0.113.7"
SPOOFED = "198.51.100.66"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def _make_key(api_client, user, name="laptop script") -> dict:
    response = api_client.post(
        "/auth/api-keys", {"name": name}, format="json", headers=bearer(user), REMOTE_ADDR=CLIENT,
        HTTP_X_FORWARDED_FOR=SPOOFED,
    )  # fmt: skip
    assert response.status_code == 201
    return response.json()


def _reset(api_client, user, new_password=NEW_PASSWORD):
    body = {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
        "new_password": new_password,
    }
    return api_client.post(
        "/auth/password-reset/confirm", body, format="json", REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=SPOOFED
    )


def _change(api_client, user):
    return api_client.post(
        "/auth/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json",
        headers=bearer(user), REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=SPOOFED,
    )  # fmt: skip


def _me(api_client, key: str) -> int:
    return api_client.get("/auth/me", HTTP_X_API_KEY=key).status_code


def _notices(user, subject_part: str) -> list[Email]:
    return [
        email for email in Email.objects.order_by("pk") if email.to == [user.email] and subject_part in email.subject
    ]


def _assert_no_secret(email: Email, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in email.subject and secret not in email.message and secret not in email.html_message


def test_a_reset_by_email_revokes_every_api_key_of_the_account(api_client, user, other_user):
    keys = [_make_key(api_client, user, name=f"key {n}")["key"] for n in range(2)]
    others_key = _make_key(api_client, other_user)["key"]
    assert [_me(api_client, key) for key in keys] == [200, 200]

    response = _reset(api_client, user)

    assert response.status_code == 200
    assert [_me(api_client, key) for key in keys] == [401, 401]
    assert _me(api_client, others_key) == 200
    assert list(ApiKey.objects.filter(user=user).values_list("revoked", flat=True)) == [True, True]
    assert all(key.revoked_at is not None for key in ApiKey.objects.filter(user=user))


def test_a_password_change_by_the_signed_in_owner_keeps_the_api_keys(api_client, user):
    key = _make_key(api_client, user)["key"]

    response = _change(api_client, user)

    assert response.status_code == 200
    assert _me(api_client, key) == 200
    assert ApiKey.objects.get(user=user).revoked is False


def test_a_password_change_queues_a_notice_saying_when_and_from_which_address(api_client, user):
    response = _change(api_client, user)

    [notice] = _notices(user, "password was changed")
    assert response.status_code == 200
    assert notice.subject == "Your Intuno Personal password was changed"
    assert f"From the address: {CLIENT}" in notice.message and CLIENT in notice.html_message
    assert SPOOFED not in notice.message  # a client's header is no address
    assert "When: " in notice.message and " UTC" in notice.message
    assert "was changed by someone signed in to it" in notice.message
    assert "Your API keys keep working." in notice.message
    assert "If it was not you" in notice.message and "password reset" in notice.message
    _assert_no_secret(notice, PASSWORD, NEW_PASSWORD, response.json()["access_token"], response.json()["refresh_token"])


def test_a_reset_queues_a_notice_saying_every_key_was_revoked(api_client, user):
    _make_key(api_client, user), _make_key(api_client, user)
    token = default_token_generator.make_token(user)

    response = _reset(api_client, user)

    [notice] = _notices(user, "password was reset")
    assert response.status_code == 200
    assert "reset through a link sent by email" in notice.message
    assert "Every API key of your account was revoked (2)" in notice.message
    assert f"From the address: {CLIENT}" in notice.message
    _assert_no_secret(notice, NEW_PASSWORD, token, response.json()["access_token"])


def test_a_failed_change_or_reset_queues_no_notice(api_client, user):
    wrong = api_client.post(
        "/auth/password", {"current_password": "wrong", "new_password": NEW_PASSWORD}, format="json",
        headers=bearer(user),
    )  # fmt: skip
    weak = _reset(api_client, user, new_password="short")

    assert (wrong.status_code, weak.status_code) == (400, 400)
    assert Email.objects.count() == 0


def test_making_an_api_key_queues_a_notice_naming_it_by_name_and_prefix_never_the_key(api_client, user):
    made = _make_key(api_client, user, name="deploy bot")

    [notice] = _notices(user, "API key")
    assert notice.subject == "A new API key was made for your Intuno Personal account"
    assert f"Key: deploy bot ({made['prefix']}…)" in notice.message
    assert f"From the address: {CLIENT}" in notice.message and SPOOFED not in notice.message
    assert f"DELETE /auth/api-keys/{made['id']}" in notice.message
    _assert_no_secret(notice, made["key"], made["key"].split(".", 1)[1])


def test_behind_a_trusted_proxy_the_notice_names_the_address_the_proxy_saw(api_client, user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    api_client.post(
        "/auth/api-keys", {"name": "x"}, format="json", headers=bearer(user), REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=f"{SPOOFED}, {CLIENT}",
    )  # fmt: skip

    [notice] = _notices(user, "API key")
    assert f"From the address: {CLIENT}" in notice.message


def test_the_notices_arrive_over_smtp_in_text_and_html(api_client, user, smtp_server, send_queued_mail):
    _make_key(api_client, user)
    _change(api_client, user)

    assert send_queued_mail() == "sent 2, retrying 0, failed 0"

    messages = smtp_server.wait_for(2)
    assert sorted(m.message["Subject"] for m in messages) == [
        "A new API key was made for your Intuno Personal account",
        "Your Intuno Personal password was changed",
    ]
    for message in messages:
        assert message.rcpt_tos == [user.email]
        assert CLIENT in message.text and CLIENT in message.html
        assert "Intuno Personal" in message.html

"""Password reset by email, against a real SMTP server: the same 202 for any address, a link that works once,
expires and dies with a password change, and every earlier session ended."""

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from post_office.models import Email

from accounts.models import User
from accounts.services import RESET_LINK_INVALID, RESET_REQUESTED, tokens_for
from accounts.tests.factories import UserFactory
from accounts.throttles import PasswordResetIpThrottle

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-unusual-passphrase"


def _ask(api_client, email):
    return api_client.post("/auth/password-reset", {"email": email}, format="json")


def _confirm(api_client, link, new_password=NEW_PASSWORD):
    query = parse_qs(urlsplit(link).query)
    body = {"uid": query["uid"][0], "token": query["token"][0], "new_password": new_password}
    return api_client.post("/auth/password-reset/confirm", body, format="json")


def _reset_link(smtp_server, send_queued_mail, count=1) -> str:
    send_queued_mail()
    message = smtp_server.wait_for(count)[-1]
    [link] = [link for link in message.links() if "/personal/reset-password?" in link]
    return link


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


def test_the_reset_email_arrives_over_smtp_with_a_link_that_sets_the_password(
    api_client, user, smtp_server, send_queued_mail, password
):
    before = [tokens_for(user=user), tokens_for(user=user)]

    response = _ask(api_client, "ALICE@example.com")
    send_queued_mail()

    assert response.status_code == 202
    assert response.json() == {"detail": RESET_REQUESTED}
    [message] = smtp_server.wait_for(1)
    assert message.rcpt_tos == ["alice@example.com"]
    assert message.message["Subject"] == "Reset your Intuno Personal password"
    [link] = [link for link in message.links() if "/personal/reset-password?" in link]
    assert link.startswith("http://127.0.0.1:8000/personal/reset-password?uid=")
    assert "expires in 1 hour" in message.text
    assert "Intuno Personal" in message.html and link.replace("&", "&amp;") in message.html

    confirmed = _confirm(api_client, link)

    assert confirmed.status_code == 200
    fresh = confirmed.json()
    assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {fresh['access_token']}").status_code == 200
    for old in before:
        assert api_client.get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {old['access_token']}").status_code == 401
        assert (
            api_client.post("/auth/refresh", {"refresh_token": old["refresh_token"]}, format="json").status_code == 401
        )
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert api_client.post("/auth/login", {"email": user.email, "password": password}, format="json").status_code == 401


def test_a_reset_link_works_once(api_client, user, smtp_server, send_queued_mail):
    _ask(api_client, user.email)
    link = _reset_link(smtp_server, send_queued_mail)

    first, second = _confirm(api_client, link), _confirm(api_client, link, new_password="yet-another-passphrase-9")

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json() == {"detail": RESET_LINK_INVALID, "errors": {"non_field_errors": [RESET_LINK_INVALID]}}
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_a_reset_link_expires(api_client, user, smtp_server, send_queued_mail, settings):
    settings.PASSWORD_RESET_TIMEOUT = 1
    _ask(api_client, user.email)
    link = _reset_link(smtp_server, send_queued_mail)

    time.sleep(2.1)
    response = _confirm(api_client, link)

    assert response.status_code == 400
    assert response.json()["detail"] == RESET_LINK_INVALID
    assert not User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_a_reset_link_dies_when_the_password_changes_otherwise(api_client, user, smtp_server, send_queued_mail):
    _ask(api_client, user.email)
    link = _reset_link(smtp_server, send_queued_mail)
    changed = User.objects.get(pk=user.pk)
    changed.set_password("changed-elsewhere-passphrase")
    changed.save()

    assert _confirm(api_client, link).status_code == 400


def test_a_weak_new_password_is_400_and_leaves_the_link_usable(api_client, user, smtp_server, send_queued_mail):
    _ask(api_client, user.email)
    link = _reset_link(smtp_server, send_queued_mail)

    weak = _confirm(api_client, link, new_password="short")
    strong = _confirm(api_client, link)

    assert weak.status_code == 400
    assert "new_password" in weak.json()["errors"]
    assert strong.status_code == 200


def test_an_unknown_email_gets_the_same_answer_and_no_email(api_client, user, smtp_server, send_queued_mail):
    known, unknown = _ask(api_client, user.email), _ask(api_client, "nobody@example.com")
    send_queued_mail()

    assert (unknown.status_code, unknown.content) == (known.status_code, known.content)
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["alice@example.com"]]
    time.sleep(0.1)
    assert len(smtp_server.messages()) == 1


@pytest.mark.parametrize("account", ["inactive", "no password"])
def test_an_inactive_or_passwordless_account_gets_the_same_answer_and_no_email(
    api_client, smtp_server, send_queued_mail, account
):
    target = UserFactory(email="dormant@example.com", is_active=account != "inactive")
    if account == "no password":
        target.set_unusable_password()
        target.save()

    response = _ask(api_client, target.email)
    send_queued_mail()

    assert (response.status_code, response.json()) == (202, {"detail": RESET_REQUESTED})
    assert Email.objects.count() == 0
    assert smtp_server.messages() == []


@pytest.mark.parametrize(
    ("uid", "token"),
    [("not-base64!", "x"), ("", ""), ("Zm9v", "1-2"), ("MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI", "a-b")],
)
def test_a_made_up_link_is_400(api_client, user, uid, token):
    response = api_client.post(
        "/auth/password-reset/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD) is False


def test_an_invalid_email_is_400(api_client):
    response = _ask(api_client, "not-an-email")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email"}


def test_reset_emails_per_address_are_limited_without_changing_the_answer(
    api_client, user, smtp_server, send_queued_mail, settings
):
    settings.PASSWORD_RESET_EMAIL_LIMIT = 2

    answers = {(r.status_code, r.content) for r in (_ask(api_client, user.email) for _ in range(4))}
    send_queued_mail()

    assert answers == {(202, _ask(api_client, "someone-else@example.com").content)}
    assert Email.objects.count() == 2
    assert len(smtp_server.wait_for(2)) == 2


def test_reset_requests_and_confirmations_are_throttled_per_client_address(api_client, user, monkeypatch):
    monkeypatch.setattr(PasswordResetIpThrottle, "rate", "2/min", raising=False)

    first = _ask(api_client, user.email)
    second = api_client.post(
        "/auth/password-reset/confirm", {"uid": "x", "token": "y", "new_password": NEW_PASSWORD}, format="json"
    )
    third = _ask(api_client, "nobody@example.com")

    assert (first.status_code, second.status_code, third.status_code) == (202, 400, 429)
    assert int(third["Retry-After"]) > 0


def test_the_link_points_at_the_frontend_when_one_is_configured(
    api_client, user, smtp_server, send_queued_mail, settings
):
    settings.FRONTEND_BASE_URL = "https://app.example.com"

    _ask(api_client, user.email)

    assert _reset_link(smtp_server, send_queued_mail).startswith("https://app.example.com/personal/reset-password?uid=")


def test_asking_does_the_same_database_work_whether_or_not_an_account_uses_the_address(api_client, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(email: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert _ask(api_client, email).status_code == 202
        return [_statement_shape(query["sql"]) for query in queries.captured_queries]

    _ask(api_client, "warm-up@example.com")
    known, unknown = statements(user.email), statements("nobody@example.com")

    assert known == unknown
    assert known == ["SELECT accounts_passwordresetask", "INSERT accounts_passwordresetask"]
    assert Email.objects.count() == 0  # the worker decides, later and out of the request's time


def test_the_worker_queues_one_email_per_ask_for_an_account_and_drops_the_other_asks(api_client, user, settings):
    from accounts.models import PasswordResetAsk
    from accounts.services import password_reset_asks_process

    _ask(api_client, user.email), _ask(api_client, "nobody@example.com"), _ask(api_client, "ALICE@example.com")
    PasswordResetAsk.objects.create(email=user.email, created_at=timezone.now() - timedelta(hours=2))  # stale

    assert password_reset_asks_process() == 4
    assert password_reset_asks_process() == 0

    assert sorted(email.to for email in Email.objects.all()) == [["alice@example.com"], ["alice@example.com"]]
    assert PasswordResetAsk.objects.count() == 0


def test_past_the_waiting_asks_cap_an_ask_is_answered_alike_and_ignored(api_client, user, settings):
    from accounts.models import PasswordResetAsk

    settings.PASSWORD_RESET_ASKS_MAX = 2

    answers = {(r.status_code, r.content) for r in (_ask(api_client, e) for e in ("a@example.com", user.email))}
    over = [_ask(api_client, user.email), _ask(api_client, "nobody@example.com")]

    assert {(r.status_code, r.content) for r in over} == answers == {(202, over[0].content)}
    assert PasswordResetAsk.objects.count() == 2


def test_an_ask_whose_email_fails_to_be_made_stays_for_the_next_pass(api_client, user, monkeypatch):
    from accounts import services
    from accounts.models import PasswordResetAsk

    def broken(**kwargs):
        raise RuntimeError("rendering failed")

    _ask(api_client, user.email)
    monkeypatch.setattr(services, "email_enqueue", broken)

    with pytest.raises(RuntimeError):
        services.password_reset_asks_process()
    assert Email.objects.count() == 0
    assert PasswordResetAsk.objects.count() == 1


def _statement_shape(sql: str) -> str:
    """`VERB table` of one SQL statement: what was done, without the values."""
    match = re.match(r'\s*(SELECT|INSERT|UPDATE|DELETE)\b.*?\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', sql, re.S | re.I)
    return f"{match[1].upper()} {match[2]}" if match else sql.split()[0].upper()


# --- the page a reset link opens when no frontend serves it ------------------------------------------


def test_opening_the_link_shows_a_form_and_consumes_nothing(api_client, user, smtp_server, send_queued_mail):
    _ask(api_client, user.email)
    link = _reset_link(smtp_server, send_queued_mail)
    path = link.removeprefix("http://127.0.0.1:8000")

    scans = [Client().get(path) for _ in range(3)]

    assert [scan.status_code for scan in scans] == [200, 200, 200]
    assert b'name="new_password"' in scans[0].content
    assert b"alice@example.com" in scans[0].content
    assert _confirm(api_client, link).status_code == 200


def test_the_page_sets_the_password_behind_a_csrf_check(api_client, user, smtp_server, send_queued_mail):
    _ask(api_client, user.email)
    link = _reset_link(smtp_server, send_queued_mail)
    path = link.removeprefix("http://127.0.0.1:8000")
    browser = Client(enforce_csrf_checks=True)
    form = browser.get(path)
    csrf = form.cookies["csrftoken"].value

    without_csrf = Client(enforce_csrf_checks=True).post(path, {"new_password": NEW_PASSWORD})
    weak = browser.post(path, {"new_password": "short", "csrfmiddlewaretoken": csrf})
    done = browser.post(path, {"new_password": NEW_PASSWORD, "csrfmiddlewaretoken": csrf})
    again = browser.get(path)

    assert without_csrf.status_code == 403
    assert weak.status_code == 400 and b"too short" in weak.content
    assert done.status_code == 200 and b"Password changed" in done.content
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert again.status_code == 400 and RESET_LINK_INVALID.encode() in again.content.replace(b"&#x27;", b"'")


def test_the_page_is_not_served_when_a_frontend_is(settings):
    settings.FRONTEND_BASE_URL = "https://app.example.com"

    response = Client().get("/personal/reset-password?uid=x&token=y")

    assert response.status_code == 404


def test_reset_tokens_in_a_logged_path_or_query_are_redacted():
    from wisdom.logging import redact_text

    line = redact_text("GET /personal/reset-password?uid=MTIz&token=cz1b2c-0123456789abcdef0123456789abcdef 400")

    assert "0123456789abcdef" not in line
    assert "token=[redacted]" in line

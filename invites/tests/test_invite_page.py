"""The share link's own page (no frontend configured): the preview and a signup form on the same service."""

import html
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from accounts.tests.factories import UserFactory
from invites.models import Invite, InviteRedemption
from invites.tests.factories import InviteFactory
from invites.throttles import InvitesIpThrottle
from tests.helpers.constants import PASSWORD

pytestmark = pytest.mark.django_db

CREATED = "Account created — you can now log in"


@pytest.fixture(autouse=True)
def no_frontend(settings):
    settings.FRONTEND_BASE_URL = ""
    settings.BASE_URL = "http://testserver"


@pytest.fixture
def browser() -> Client:
    """A client that, like a browser, must carry the CSRF token back."""
    return Client(enforce_csrf_checks=True)


def page_path(invite: Invite) -> str:
    """The path and query of the share URL the admin shows."""
    url = urlsplit(invite.share_url)
    return f"{url.path}?{url.query}"


def text(response) -> str:
    return html.unescape(response.content.decode())


def sign_up(browser: Client, invite: Invite, **fields):
    """Opens the page, then submits the form with its CSRF token, as a browser would."""
    assert browser.get(page_path(invite)).status_code == 200
    form = {"email": "", "password": PASSWORD, "first_name": "Nia", "last_name": "", **fields}
    return browser.post(page_path(invite), {**form, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})


def assert_nothing_taken(invite: Invite, users_before: int) -> None:
    invite.refresh_from_db()
    assert invite.use_count == 0
    assert not InviteRedemption.objects.filter(invite=invite).exists()
    assert User.objects.count() == users_before


def test_the_share_url_shows_who_invited_the_email_prefilled_the_expiry_and_a_form(browser):
    invite = InviteFactory(email="newcomer@example.com", max_uses=3, use_count=1)

    response = browser.get(page_path(invite))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = text(response)
    assert "Stella invited you" in page
    assert 'name="email" value="newcomer@example.com"' in page
    assert invite.expires_at.strftime("%Y-%m-%d %H:%M") in page
    assert "Active" in page and "2 of 3 uses left" in page
    for name in ("password", "first_name", "last_name", "csrfmiddlewaretoken"):
        assert f'name="{name}"' in page


def test_submitting_the_form_creates_the_account_and_says_how_to_log_in(browser):
    invite = InviteFactory(email="newcomer@example.com")

    response = sign_up(browser, invite, last_name="Okafor")

    assert response.status_code == 201
    page = text(response)
    assert CREATED in page
    assert "/auth/login" in page and "newcomer@example.com" in page
    assert PASSWORD not in page
    user = User.objects.get(email="newcomer@example.com")
    assert (user.first_name, user.last_name, user.is_staff) == ("Nia", "Okafor", False)
    assert user.check_password(PASSWORD)
    invite.refresh_from_db()
    assert invite.use_count == 1
    assert invite.redemptions.get().user == user


def test_a_post_without_the_csrf_token_is_refused_and_costs_nothing(browser):
    invite = InviteFactory(email="newcomer@example.com")
    users_before = User.objects.count()

    response = browser.post(page_path(invite), {"password": PASSWORD, "first_name": "Nia"})

    assert response.status_code == 403
    assert_nothing_taken(invite, users_before)


def test_a_weak_password_rerenders_the_form_with_the_reason_and_without_the_password(browser):
    invite = InviteFactory(email="newcomer@example.com")
    users_before = User.objects.count()

    response = sign_up(browser, invite, password="newcomer1", first_name="Nia", last_name="Okafor")

    assert response.status_code == 400
    page = text(response)
    assert "The password is too similar to the email address." in page
    assert "newcomer1" not in page
    assert 'name="first_name" value="Nia"' in page and 'name="last_name" value="Okafor"' in page
    assert_nothing_taken(invite, users_before)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"first_name": ""}, "first_name", "This field may not be blank."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"first_name": "x" * 65}, "first_name", "Ensure this field has no more than 64 characters."),
    ],
)
def test_invalid_fields_rerender_the_form_with_the_fields_message(browser, fields, field, message):
    invite = InviteFactory(email="newcomer@example.com")
    users_before = User.objects.count()

    response = sign_up(browser, invite, **fields)

    assert response.status_code == 400
    assert f'id="{field}-errors"' in response.content.decode()
    assert message in text(response)
    assert_nothing_taken(invite, users_before)


def test_a_taken_email_is_said_on_the_form_and_costs_nothing(browser):
    UserFactory(email="newcomer@example.com")
    invite = InviteFactory(email="newcomer@example.com")
    users_before = User.objects.count()

    response = sign_up(browser, invite)

    assert response.status_code == 409
    assert "An account with this email already exists." in text(response)
    assert_nothing_taken(invite, users_before)


@pytest.mark.parametrize("query", ["?token=no-such-token", "", "?token="])
def test_an_unknown_or_missing_token_is_a_404_page(browser, query):
    response = browser.get(f"/personal/invite{query}")

    assert response.status_code == 404
    assert "Invite not found." in text(response)
    assert 'name="password"' not in text(response)


@pytest.mark.parametrize(
    "fields, detail",
    [
        ({"expired": True}, "This invite has expired."),
        ({"used_up": True}, "This invite has been used up."),
        ({"revoked": True}, "This invite has been revoked."),
    ],
)
def test_a_spent_invite_is_a_410_page_that_says_why(browser, fields, detail):
    invite = InviteFactory(**fields)

    response = browser.get(page_path(invite))

    assert response.status_code == 410
    assert detail in text(response)
    assert 'name="password"' not in text(response)


def test_a_second_submission_of_a_single_use_invite_is_410_and_makes_no_account(browser):
    invite = InviteFactory(email="")
    assert sign_up(browser, invite, email="first@example.com").status_code == 201

    form = {"email": "second@example.com", "password": PASSWORD, "first_name": "X"}

    again = browser.post(page_path(invite), {**form, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})

    assert again.status_code == 410
    assert not User.objects.filter(email="second@example.com").exists()
    invite.refresh_from_db()
    assert invite.use_count == 1


def test_the_inviters_name_is_escaped(browser):
    invite = InviteFactory(inviter__first_name="<script>alert(1)</script>")

    page = browser.get(page_path(invite)).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_with_a_frontend_configured_the_path_is_not_served_and_costs_nothing(browser, settings):
    invite = InviteFactory(email="newcomer@example.com")
    settings.FRONTEND_BASE_URL = "https://app.example.com"
    users_before = User.objects.count()

    shown = browser.get(f"/personal/invite?token={invite.token}")
    posted = Client().post(f"/personal/invite?token={invite.token}", {"password": PASSWORD, "first_name": "Nia"})

    for response in (shown, posted):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}  # as for any path wisdom does not serve
    assert_nothing_taken(invite, users_before)


def test_the_page_and_the_api_share_one_throttle_per_ip(browser, monkeypatch):
    invite = InviteFactory()
    cache.clear()
    monkeypatch.setattr(InvitesIpThrottle, "rate", "2/min", raising=False)

    statuses = [
        browser.get(page_path(invite)).status_code,
        Client().get(f"/invites/{invite.token}/preview").status_code,
        browser.get(page_path(invite)).status_code,
    ]
    throttled = browser.get(page_path(invite))
    cache.clear()

    assert statuses == [200, 200, 429]
    assert throttled.status_code == 429
    assert 1 <= int(throttled["Retry-After"]) <= 60
    assert "Too many requests" in text(throttled)


def test_other_methods_are_refused():
    invite = InviteFactory()

    assert Client().put(page_path(invite)).status_code == 405  # this client skips CSRF, which would say 403 first


def test_the_page_is_not_cached_and_its_token_is_not_sent_to_other_sites(browser):
    response = browser.get(page_path(InviteFactory()))

    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"  # not no-referrer: browsers then send Origin: null, CSRF fails
    assert response["X-Frame-Options"] == "DENY"

"""The Django admin's login form has the same failed-login limits as /auth/login, and shares their counts."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_login_limits")]

ATTACKER, ELSEWHERE = "203.0.113.66", "198.51.100.7"
LOGIN = "/admin/login/"


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def admin_login(address, email, password):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(LOGIN, {"username": email, "password": password, "next": "/admin/"})


def test_forty_wrong_passwords_then_the_right_one_is_refused_from_that_address(staff, password):
    answers = [admin_login(ATTACKER, staff.email, f"guess-{i}")[1] for i in range(40)]

    client, right = admin_login(ATTACKER, staff.email, password)

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]  # the form again, saying why
    assert "Please enter the correct email address and password" in answers[0].content.decode()
    assert {a.status_code for a in answers[3:]} == {429}
    assert right.status_code == 429
    assert client.get("/admin/").status_code == 302  # not logged in: sent to the login page


def test_the_right_password_from_another_address_gets_in(staff, password):
    for i in range(3):
        admin_login(ATTACKER, staff.email, f"guess-{i}")

    client, response = admin_login(ELSEWHERE, staff.email, password)

    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_lockout_is_a_clean_429_page_with_retry_after(staff, password):
    for i in range(3):
        admin_login(ATTACKER, staff.email, f"guess-{i}")

    _, locked = admin_login(ATTACKER, staff.email, password)

    assert locked.status_code == 429
    assert locked["Content-Type"].startswith("text/html")
    assert 0 < int(locked["Retry-After"]) <= 2 * 600
    page = locked.content.decode()
    assert "Too many failed logins from your address" in page
    assert password not in page


def test_admin_and_api_failures_count_together(api_client, staff, password):
    for _ in range(2):
        api_client.post("/auth/login", {"email": staff.email, "password": "wrong"}, format="json", REMOTE_ADDR=ATTACKER)
    admin_login(ATTACKER, staff.email, "wrong")

    api = api_client.post(
        "/auth/login", {"email": staff.email, "password": password}, format="json", REMOTE_ADDR=ATTACKER
    )
    _, admin = admin_login(ATTACKER, staff.email, password)

    assert api.status_code == admin.status_code == 429


def test_successful_admin_logins_are_not_counted(staff, password):
    admin_login(ATTACKER, staff.email, "typo")
    admin_login(ATTACKER, staff.email, "typo")
    for _ in range(5):
        assert admin_login(ATTACKER, staff.email, password)[1].status_code == 302

    assert admin_login(ATTACKER, staff.email, password)[1].status_code == 302


def test_a_blank_form_is_not_counted(staff, password):
    for _ in range(5):
        assert Client(REMOTE_ADDR=ATTACKER).post(LOGIN, {"username": staff.email, "password": ""}).status_code == 200

    assert admin_login(ATTACKER, staff.email, password)[1].status_code == 302


def test_the_login_page_still_shows_while_locked(staff):
    for i in range(3):
        admin_login(ATTACKER, staff.email, f"guess-{i}")

    page = Client(REMOTE_ADDR=ATTACKER).get(LOGIN)

    assert page.status_code == 200

"""What a person sees on wisdom's own pages, in headless Chromium at 1280 px against a live gunicorn: the admin's
invite list and its "View site", Swagger UI's Authorize, the reset-done and account-created pages, /dev/mail.
Each test saves a screenshot of every page it checks (under WISDOM_SCREENSHOTS_DIR when set, else the test's
temporary directory) and asserts on what is in view. Skipped, saying why, without Chromium and chromedriver."""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.utils import timezone
from post_office.models import Email

from accounts.services import api_key_create
from invites.tests.factories import InviteFactory
from tests.helpers import live
from tests.helpers.browser import in_view, needs_chromium, screenshot
from tests.helpers.constants import PASSWORD

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

PRODUCT = "Intuno Personal"
NEW_PASSWORD = "another-long-and-unusual-passphrase"


@pytest.fixture
def shots(tmp_path, request) -> Path:
    root = Path(os.environ["WISDOM_SCREENSHOTS_DIR"]) if os.environ.get("WISDOM_SCREENSHOTS_DIR") else tmp_path
    return root / "screenshots" / request.node.name


def _by():
    from selenium.webdriver.common.by import By

    return By


def _admin_login(browser, url: str, email: str) -> None:
    By = _by()
    browser.get(f"{url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert "log out" in browser.find_element(By.ID, "logout-form").text.lower()  # landed before moving on


def _reset_link(server_url: str, email: str) -> str:
    """Asks for a reset over the API and reads the link from the queued email, pointed at this server."""
    assert requests.post(f"{server_url}/auth/password-reset", json={"email": email}, timeout=30).status_code == 202
    message = Email.objects.filter(to__icontains=email).latest("id").message
    [link] = re.findall(r"https?://\S+/personal/reset-password\?\S+", message)
    parts = urlsplit(link)
    return f"{server_url}{parts.path}?{parts.query}"


def _set_new_password(browser, link: str) -> None:
    By = _by()
    browser.get(link)
    browser.find_element(By.ID, "new_password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "set-password").click()
    assert browser.find_element(By.ID, "done").text == "Password changed"


def test_the_admin_invite_list_shows_last_sent_in_view_at_1280_px_and_view_site_opens_the_api_docs(
    admin_server, browser, make_live_user, shots
):
    By = _by()
    staff = make_live_user(email="desk.lead@example.com", first_name="Desk", is_staff=True, is_superuser=True)
    for number in range(3):
        InviteFactory(
            inviter=staff,
            email=f"a.rather.long.address.{number}@example-university.edu",
            note="spring cohort, second intake",
            max_uses=5,
            last_sent_at=timezone.now() - timedelta(hours=number),
        )
    url = admin_server.url

    _admin_login(browser, url, staff.email)
    browser.get(f"{url}/admin/invites/invite/")
    screenshot(browser, shots, "admin-invite-list")

    last_sent = browser.find_element(By.CSS_SELECTOR, "#result_list th.column-last_sent")
    assert in_view(browser, last_sent), "LAST SENT is off to the side"
    first_row_cells = browser.find_elements(
        By.CSS_SELECTOR, "#result_list tbody tr:first-child td, #result_list tbody tr:first-child th"
    )
    assert first_row_cells and all(in_view(browser, cell) for cell in first_row_cells)
    assert browser.execute_script(
        "const box = document.querySelector('.results'); return box.scrollWidth <= box.clientWidth;"
    ), "the list scrolls sideways"
    assert browser.title.endswith(PRODUCT)

    [view_site] = [a for a in browser.find_elements(By.CSS_SELECTOR, "#user-tools a") if a.text.lower() == "view site"]
    assert urlsplit(view_site.get_attribute("href")).path == "/api/docs"
    view_site.click()
    browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info")  # Swagger UI drew the schema
    screenshot(browser, shots, "view-site")
    assert browser.title == f"API docs · {PRODUCT}"


def test_swagger_ui_authorize_with_an_api_key_sends_x_api_key_and_the_service_key_reads_user_id(
    admin_server, browser, make_live_user, shots
):
    By = _by()
    person = make_live_user(email="docs.reader@example.com")
    _, key = api_key_create(user=person, name="docs")
    browser.get(f"{admin_server.url}/api/docs")
    browser.find_element(By.CSS_SELECTOR, "button.authorize").click()
    schemes = {
        block.find_element(By.TAG_NAME, "h4").text.split(" ")[0]: block
        for block in browser.find_elements(By.CSS_SELECTOR, ".modal-ux .auth-container")
    }
    screenshot(browser, shots, "authorize-dialog")

    assert set(schemes) == {"jwtAuth", "apiKey", "serviceKey"}
    assert "With X-On-Behalf-Of: <user id>: that user" in schemes["serviceKey"].text
    schemes["apiKey"].find_element(By.CSS_SELECTOR, "input").send_keys(key)
    schemes["apiKey"].find_element(By.CSS_SELECTOR, "button.authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".modal-ux button.btn-done").click()

    browser.find_element(By.CSS_SELECTOR, "#operations-auth-getMe .opblock-summary").click()
    browser.find_element(By.CSS_SELECTOR, "#operations-auth-getMe button.try-out__btn").click()
    browser.find_element(By.CSS_SELECTOR, "#operations-auth-getMe button.execute").click()
    answer = "#operations-auth-getMe .live-responses-table tbody"
    status = browser.find_element(By.CSS_SELECTOR, f"{answer} .response-col_status")
    body = browser.find_element(By.CSS_SELECTOR, f"{answer} .response-col_description")
    curl = browser.find_element(By.CSS_SELECTOR, "#operations-auth-getMe .curl-command").text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", status)
    screenshot(browser, shots, "get-me-with-api-key")

    assert status.text.strip() == "200", body.text
    assert person.email in body.text
    assert f"X-API-Key: {key}" in curl and "Authorization" not in curl


def test_the_reset_done_page_gives_a_person_the_api_login_and_staff_a_working_admin_login_link(
    admin_server, browser, make_live_user, shots
):
    By = _by()
    person = make_live_user(email="reset.person@example.com")
    staff = make_live_user(email="reset.staff@example.com", is_staff=True)

    _set_new_password(browser, _reset_link(admin_server.url, person.email))
    screenshot(browser, shots, "reset-done-person")
    command = browser.find_element(By.ID, "log-in-command")
    assert in_view(browser, command) and f"{admin_server.url}/auth/login" in command.text
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", command)
    assert browser.find_elements(By.CSS_SELECTOR, "a[href$='/auth/login']") == []  # a POST, not a page
    assert (
        not browser.find_elements(By.ID, "log-in-link")
        and "admin" not in browser.find_element(By.TAG_NAME, "main").text
    )
    assert browser.title == f"Password changed · {PRODUCT}"

    _set_new_password(browser, _reset_link(admin_server.url, staff.email))
    screenshot(browser, shots, "reset-done-staff")
    link = browser.find_element(By.ID, "log-in-link")
    assert in_view(browser, link)
    link.click()
    assert urlsplit(browser.current_url).path == "/admin/login/"
    browser.find_element(By.NAME, "username").send_keys(staff.email)
    browser.find_element(By.NAME, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    assert "log out" in browser.find_element(By.ID, "logout-form").text.lower()
    screenshot(browser, shots, "admin-after-reset")


def test_the_account_created_page_tells_a_newcomer_how_they_log_in_and_nothing_about_staff(
    admin_server, browser, make_live_user, shots
):
    By = _by()
    invite = InviteFactory(inviter=make_live_user(email="inviter@example.com", is_staff=True), email="new@example.com")

    browser.get(f"{admin_server.url}/personal/invite?token={invite.token}")
    screenshot(browser, shots, "invite-page")
    assert browser.title == f"You're invited · {PRODUCT}"
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "first_name").send_keys("Nia")
    browser.find_element(By.ID, "create-account").click()
    browser.find_element(By.ID, "created")
    screenshot(browser, shots, "account-created")

    page = browser.find_element(By.TAG_NAME, "main").text
    assert browser.title == f"Account created · {PRODUCT}"
    assert "Staff" not in page and "admin" not in page
    command = browser.find_element(By.ID, "log-in-command")
    assert in_view(browser, command) and '"email": "new@example.com"' in command.text
    login = requests.post(
        f"{admin_server.url}/auth/login", json={"email": "new@example.com", "password": PASSWORD}, timeout=30
    )
    assert login.status_code == 200  # the step the page gives works


def test_dev_mail_shows_make_run_as_code_without_backticks(tmp_path, browser, make_live_user, shots):
    By = _by()
    person = make_live_user(email="outbox@example.com")
    with live.wisdom_server(tmp_path, workers=1, threads=4, DJANGO_DEBUG="true") as server:
        requests.post(f"{server.url}/auth/password-reset", json={"email": person.email}, timeout=30)
        browser.get(f"{server.url}/dev/mail")
        screenshot(browser, shots, "dev-mail")

        intro = browser.find_element(By.CSS_SELECTOR, "main > p.meta")
        assert "`" not in browser.find_element(By.TAG_NAME, "main").text
        assert [code.text for code in intro.find_elements(By.TAG_NAME, "code")] == [
            "make run",
            "EMAIL_URL=consolemail://",
        ]
        assert in_view(browser, intro)
        assert browser.title == f"Outbox (development) · {PRODUCT}"
        assert person.email in browser.find_element(By.CSS_SELECTOR, "article .meta").text

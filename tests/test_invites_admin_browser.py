"""The invite desk in a real browser: headless Chromium (Debian's packages) against a live gunicorn.
Skipped, saying why, on a machine without Chromium and chromedriver on PATH; .ci/run installs them."""

import time

import pytest
import requests
from django.contrib.auth.models import Permission

from invites.models import Invite
from tests.helpers.browser import needs_chromium
from tests.helpers.constants import PASSWORD

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def desk_user(make_live_user):
    staff = make_live_user(email="desk@example.com", first_name="Desk", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="invites",
            codename__in=["view_invite", "add_invite", "change_invite", "view_inviteredemption"],
        )
    )
    return staff


def test_staff_adds_an_invite_shares_its_url_and_revokes_it_in_the_admin(admin_server, browser, desk_user, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url = admin_server.url
    started = time.monotonic()
    try:
        browser.get(f"{url}/admin/login/?next=/admin/")
        browser.find_element(By.NAME, "username").send_keys("DESK@example.com")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        assert "log out" in browser.find_element(By.ID, "logout-form").text.lower()  # upper-cased by the admin CSS

        browser.get(f"{url}/admin/invites/invite/add/")
        assert 'name="token"' not in browser.page_source  # generated, never asked for
        browser.find_element(By.NAME, "email").send_keys("newcomer@example.com")
        browser.find_element(By.NAME, "note").send_keys("browser cohort")
        max_uses = browser.find_element(By.NAME, "max_uses")
        max_uses.clear()
        max_uses.send_keys("2")
        browser.find_element(By.NAME, "_continue").click()

        share_field = browser.find_element(By.ID, "invite-share-url")
        share_url = share_field.get_attribute("value")
        assert share_field.get_attribute("readonly") is not None
        invite = Invite.objects.get()
        assert share_url == f"http://127.0.0.1:8000/personal/invite?token={invite.token}"
        assert (invite.inviter, invite.max_uses, invite.note) == (desk_user, 2, "browser cohort")
        token = share_url.split("token=", 1)[1]
        assert requests.get(f"{url}/invites/{token}/preview", timeout=10).status_code == 200

        browser.get(f"{url}/admin/invites/invite/")
        assert "0 / 2" in browser.find_element(By.ID, "result_list").text
        browser.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{invite.pk}']").click()
        Select(browser.find_element(By.NAME, "action")).select_by_value("revoke_selected")
        browser.find_element(By.NAME, "index").click()
        assert "Revoked 1 invite(s)." in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
        assert "Revoked" in browser.find_element(By.ID, "result_list").text

        preview = requests.get(f"{url}/invites/{token}/preview", timeout=10)
        assert preview.status_code == 410
        assert preview.json() == {"detail": "This invite has been revoked.", "status": "revoked"}
        invite.refresh_from_db()
        assert invite.revoked_at is not None and invite.use_count == 0
    except Exception:
        shot = tmp_path / "admin-failure.png"
        browser.save_screenshot(str(shot))
        print(f"\nscreenshot: {shot}\npage: {browser.current_url}\nserver log:\n{admin_server.log()[-3000:]}")
        raise
    print(f"\nadmin browser flow took {time.monotonic() - started:.2f}s")
    assert token not in admin_server.log()
    assert PASSWORD not in admin_server.log()


def test_a_newcomer_opens_the_share_url_from_the_admin_and_signs_up_on_its_page(
    admin_server, browser, desk_user, tmp_path
):
    """No FRONTEND_BASE_URL: the share link leads to wisdom's own invite page, which makes the account."""
    from urllib.parse import urlsplit

    from selenium.webdriver.common.by import By

    from accounts.models import User

    url = admin_server.url
    started = time.monotonic()
    try:
        browser.get(f"{url}/admin/login/?next=/admin/")
        browser.find_element(By.NAME, "username").send_keys("desk@example.com")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
        # logged in before moving on: navigating away at once could cancel the login's POST
        assert "log out" in browser.find_element(By.ID, "logout-form").text.lower()
        browser.get(f"{url}/admin/invites/invite/add/")
        browser.find_element(By.NAME, "email").send_keys("pagecomer@example.com")
        browser.find_element(By.NAME, "note").send_keys("page cohort")
        browser.find_element(By.NAME, "_continue").click()
        share_url = browser.find_element(By.ID, "invite-share-url").get_attribute("value")

        # The admin prints BASE_URL's origin (the default, 127.0.0.1:8000); this server listens on its own port.
        assert share_url.startswith("http://127.0.0.1:8000/personal/invite?token=")
        shared = urlsplit(share_url)
        browser.get(f"{url}{shared.path}?{shared.query}")
        assert browser.find_element(By.ID, "inviter").text == "Desk invited you to create an account."
        assert browser.find_element(By.NAME, "email").get_attribute("value") == "pagecomer@example.com"
        assert browser.find_element(By.ID, "invite-status").text.startswith("Active")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.NAME, "first_name").send_keys("Nia")
        browser.find_element(By.NAME, "last_name").send_keys("Okafor")
        browser.find_element(By.ID, "create-account").click()

        assert browser.find_element(By.ID, "created").text == "Account created — you can now log in"
        assert "pagecomer@example.com" in browser.page_source
        assert PASSWORD not in browser.page_source
        user = User.objects.get(email="pagecomer@example.com")
        assert (user.first_name, user.last_name, user.is_staff) == ("Nia", "Okafor", False)
        invite = Invite.objects.get()
        assert invite.use_count == 1 and invite.redemptions.get().user == user
        login = requests.post(
            f"{url}/auth/login", json={"email": "pagecomer@example.com", "password": PASSWORD}, timeout=30
        )
        assert login.status_code == 200  # the next step the page gives works
    except Exception:
        shot = tmp_path / "invite-page-failure.png"
        browser.save_screenshot(str(shot))
        print(f"\nscreenshot: {shot}\npage: {browser.current_url}\nserver log:\n{admin_server.log()[-3000:]}")
        raise
    print(f"\ninvite page browser flow took {time.monotonic() - started:.2f}s")
    assert invite.token not in admin_server.log()
    assert PASSWORD not in admin_server.log()

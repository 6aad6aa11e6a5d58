"""Done when: create_invite -> preview -> redeem -> the returned token works, on running processes."""

import json
import subprocess
import sys

import pytest
import requests

from accounts.models import User
from invites.models import Invite
from tests.helpers import live
from tests.helpers.constants import PASSWORD

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def create_invite(*args: str) -> dict:
    """`manage.py create_invite` as staff run it: the production settings, its own process."""
    done = subprocess.run(
        [sys.executable, "manage.py", "create_invite", *args, "--json"],
        cwd=live.ROOT,
        env={**live.BASE_ENV, "DATABASE_URL": live.test_database_url(), "FRONTEND_BASE_URL": "https://app.example.com"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_invite_from_the_command_becomes_an_account_that_reaches_me_and_its_entities(
    wisdom_agents_live, agents_double_session
):
    agents_double_session.reset()  # the double is shared by the session; earlier tests may have set faults
    url = wisdom_agents_live.url
    issued = create_invite("--email", "newcomer@example.com", "--note", "flow", "--expires-in", "7d")
    assert issued["url"] == f"https://app.example.com/personal/invite?token={issued['token']}"
    token = issued["url"].split("token=", 1)[1]

    preview = requests.get(f"{url}/invites/{token}/preview", timeout=10)
    assert preview.status_code == 200
    assert preview.json()["email"] == "newcomer@example.com" and preview.json()["use_count"] == 0

    redeemed = requests.post(
        f"{url}/invites/{token}/redeem", json={"password": PASSWORD, "first_name": "Nia"}, timeout=30
    )
    assert redeemed.status_code == 201, redeemed.text
    headers = {"Authorization": f"Bearer {redeemed.json()['access_token']}"}

    me = requests.get(f"{url}/auth/me", headers=headers, timeout=10)
    assert me.status_code == 200
    assert (me.json()["email"], me.json()["first_name"], me.json()["plan"]) == ("newcomer@example.com", "Nia", "free")

    assert requests.get(f"{url}/personal/entities", headers=headers, timeout=10).json() == []
    created = requests.post(f"{url}/personal/entities", json={"name": "ada"}, headers=headers, timeout=10)
    assert created.status_code == 201, created.text
    listed = requests.get(f"{url}/personal/entities", headers=headers, timeout=10)
    assert [entity["name"] for entity in listed.json()] == ["ada"]

    login = requests.post(f"{url}/auth/login", json={"email": "NEWCOMER@example.com", "password": PASSWORD}, timeout=30)
    assert login.status_code == 200  # the password was stored with the server's own hasher

    again = requests.post(f"{url}/invites/{token}/redeem", json={"password": PASSWORD, "first_name": "X"}, timeout=30)
    assert again.status_code == 410
    invite = Invite.objects.get(pk=issued["id"])
    assert invite.use_count == 1 and invite.redemptions.get().user == User.objects.get(email="newcomer@example.com")
    assert token not in wisdom_agents_live.log()
    assert PASSWORD not in wisdom_agents_live.log()
